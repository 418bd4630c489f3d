"""Value types of the tuple layer that Python lacks: Versionstamp and SingleFloat.

Both mirror the classes of the official ``fdb.tuple`` (same attributes, same
ordering, same hash) so that code written against either reads the same, and
they compare equal to their ``fdb.tuple`` counterparts when given one. The
``foundationdb`` package is never imported here: its classes are recognised
only when the caller already loaded it.
"""

import math
import struct
import sys
from typing import Any, Optional, Tuple

__all__ = ["Versionstamp", "SingleFloat", "adapt_foreign"]

_TR_VERSION_LEN = 10
_INCOMPLETE_TR_VERSION = b"\xff" * _TR_VERSION_LEN
_MAX_USER_VERSION = 0xFFFF


def _fdb_class(name: str) -> Any:
    """The class ``fdb.tuple.<name>`` if that module is loaded, else None."""
    module = sys.modules.get("fdb.tuple")
    return getattr(module, name, None) if module is not None else None


def _is_fdb_instance(value: object, name: str) -> bool:
    cls = _fdb_class(name)
    return cls is not None and isinstance(value, cls)


def _check_tr_version(tr_version: object) -> None:
    if tr_version is None:
        return
    if not isinstance(tr_version, bytes):
        raise TypeError("Versionstamp tr_version must be bytes or None, not %s" % type(tr_version).__name__)
    if len(tr_version) != _TR_VERSION_LEN:
        raise ValueError("Versionstamp tr_version must be %d bytes long, got %d" % (_TR_VERSION_LEN, len(tr_version)))


def _check_user_version(user_version: object) -> None:
    if not isinstance(user_version, int) or isinstance(user_version, bool):
        raise TypeError("Versionstamp user_version must be int, not %s" % type(user_version).__name__)
    if not 0 <= user_version <= _MAX_USER_VERSION:
        raise ValueError("Versionstamp user_version %d is out of range [0, 65535]" % user_version)


class Versionstamp:
    """A 12-byte FoundationDB versionstamp: a 10-byte transaction version set
    by the cluster at commit time, and a 2-byte user version chosen by the caller.

    ``Versionstamp()`` (tr_version None) is *incomplete*: packed with
    ``pack_with_versionstamp`` it marks where the database writes the commit
    version (``set_versionstamped_key`` / ``set_versionstamped_value``).
    Complete versionstamps sort before incomplete ones, then by
    (tr_version, user_version).
    """

    __slots__ = ("tr_version", "user_version")

    tr_version: Optional[bytes]
    user_version: int

    LENGTH = 12
    _TR_VERSION_LEN = _TR_VERSION_LEN
    _MAX_USER_VERSION = _MAX_USER_VERSION
    _UNSET_TR_VERSION = _INCOMPLETE_TR_VERSION

    def __init__(self, tr_version: Optional[bytes] = None, user_version: int = 0) -> None:
        _check_tr_version(tr_version)
        _check_user_version(user_version)
        self.tr_version = tr_version
        self.user_version = user_version

    @staticmethod
    def incomplete(user_version: int = 0) -> "Versionstamp":
        """An incomplete versionstamp with the given user version."""
        return Versionstamp(None, user_version)

    @classmethod
    def from_bytes(cls, data: bytes, start: int = 0) -> "Versionstamp":
        """Read a versionstamp from 12 bytes of ``data`` at ``start``; ten 0xff
        bytes of transaction version read as an incomplete versionstamp."""
        if not isinstance(data, bytes):
            raise TypeError("Versionstamp.from_bytes needs bytes, not %s" % type(data).__name__)
        if start < 0 or len(data) - start < cls.LENGTH:
            raise ValueError("Versionstamp needs %d bytes, only %d available" % (cls.LENGTH, max(0, len(data) - start)))
        tr_version = data[start : start + _TR_VERSION_LEN]
        if tr_version == _INCOMPLETE_TR_VERSION:
            tr_version = None
        user_version = (data[start + _TR_VERSION_LEN] << 8) | data[start + _TR_VERSION_LEN + 1]
        return cls(tr_version, user_version)

    def is_complete(self) -> bool:
        """True once the transaction version is known."""
        return self.tr_version is not None

    def to_bytes(self) -> bytes:
        """The 12 bytes stored in a packed tuple (ten 0xff when incomplete)."""
        tr_version = self.tr_version if self.tr_version is not None else _INCOMPLETE_TR_VERSION
        return tr_version + struct.pack(">H", self.user_version)

    def completed(self, tr_version: bytes) -> "Versionstamp":
        """A complete copy of this incomplete versionstamp with ``tr_version``."""
        if self.is_complete():
            raise RuntimeError("Versionstamp already completed")
        return Versionstamp(tr_version, self.user_version)

    def _key(self) -> Tuple[int, bytes, int]:
        # Complete ones sort first; incomplete ones by user version only.
        if self.tr_version is None:
            return (1, b"", self.user_version)
        return (0, self.tr_version, self.user_version)

    def __eq__(self, other: object) -> bool:
        other = _as_versionstamp(other)
        if other is None:
            return NotImplemented
        return self.tr_version == other.tr_version and self.user_version == other.user_version

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __lt__(self, other: object) -> bool:
        other = _as_versionstamp(other)
        return NotImplemented if other is None else self._key() < other._key()

    def __le__(self, other: object) -> bool:
        other = _as_versionstamp(other)
        return NotImplemented if other is None else self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        other = _as_versionstamp(other)
        return NotImplemented if other is None else self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        other = _as_versionstamp(other)
        return NotImplemented if other is None else self._key() >= other._key()

    def __hash__(self) -> int:
        # Same formula as fdb.tuple.Versionstamp, so equal objects hash alike.
        if self.tr_version is None:
            return hash(self.user_version)
        return hash(self.tr_version) * 37 ^ hash(self.user_version)

    def __repr__(self) -> str:
        return "Versionstamp(%r, %r)" % (self.tr_version, self.user_version)

    def __reduce__(self) -> Tuple[Any, Tuple[Optional[bytes], int]]:
        return (Versionstamp, (self.tr_version, self.user_version))


def _as_versionstamp(value: object) -> Optional[Versionstamp]:
    """``value`` as a found Versionstamp when it is one (ours or fdb's), else None."""
    if isinstance(value, Versionstamp):
        return value
    if _is_fdb_instance(value, "Versionstamp"):
        return _from_fdb_versionstamp(value)
    return None


def _from_fdb_versionstamp(value: Any) -> Versionstamp:
    tr_version = value.tr_version
    if tr_version is not None and not isinstance(tr_version, bytes):
        tr_version = getattr(tr_version, "value", tr_version)  # fdb.impl.Value
    return Versionstamp(tr_version, value.user_version)


def _to_single(value: float) -> float:
    """Round a Python float to the nearest 32-bit float, as C's (float) cast does."""
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def compare_doubles(a: float, b: float) -> int:
    """-1, 0 or 1: the order of two doubles as they sort once packed
    (-0.0 before 0.0, NaNs beyond the infinities on their sign's side)."""
    ka = _double_sort_key(a)
    kb = _double_sort_key(b)
    return (ka > kb) - (ka < kb)


def _double_sort_key(value: float) -> int:
    bits = struct.unpack(">Q", struct.pack(">d", value))[0]
    return bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)


class SingleFloat:
    """A 32-bit float for the tuple layer (a plain Python float packs as a
    64-bit double). ``value`` holds the number rounded to single precision."""

    __slots__ = ("value",)

    value: float

    def __init__(self, value: float) -> None:
        if isinstance(value, float):
            self.value = _to_single(value)
        elif isinstance(value, int):
            self.value = _to_single(float(value))
        elif _is_ctypes_instance(value, "c_float"):
            self.value = value.value
        else:
            raise TypeError("SingleFloat needs a float or int, not %s" % type(value).__name__)

    def _other_value(self, other: Any) -> Optional[float]:
        if isinstance(other, SingleFloat) or _is_fdb_instance(other, "SingleFloat"):
            return other.value
        return None

    def _compare(self, other: object) -> Optional[int]:
        value = self._other_value(other)
        return None if value is None else compare_doubles(self.value, value)

    def __eq__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c == 0

    def __ne__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c != 0

    def __lt__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c < 0

    def __le__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c <= 0

    def __gt__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c > 0

    def __ge__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c >= 0

    def __hash__(self) -> int:
        # Same rotation as fdb.tuple.SingleFloat so equal objects hash alike.
        h = hash(self.value)
        if h >= 0:
            return (h >> 16) + ((h & 0xFFFF) << 16)
        return ((h >> 16) + 1) - ((abs(h) & 0xFFFF) << 16)

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return "SingleFloat(%r)" % (self.value,)

    def __reduce__(self) -> Tuple[Any, Tuple[float]]:
        return (SingleFloat, (self.value,))


def _is_ctypes_instance(value: object, name: str) -> bool:
    ctypes = sys.modules.get("ctypes")  # not loaded: value cannot be a ctypes number
    return ctypes is not None and isinstance(value, getattr(ctypes, name))


def adapt_foreign(value: object) -> Any:
    """The found value to pack for a value of another tuple implementation:
    ``fdb.tuple.SingleFloat``/``Versionstamp``, ``ctypes.c_float``/``c_double``.
    Returns None when ``value`` is none of those."""
    if _is_fdb_instance(value, "Versionstamp"):
        return _from_fdb_versionstamp(value)
    if _is_fdb_instance(value, "SingleFloat") or _is_ctypes_instance(value, "c_float"):
        return SingleFloat(float(value.value))
    if _is_ctypes_instance(value, "c_double"):
        return float(value.value)
    return None
