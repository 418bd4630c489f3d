"""The FoundationDB tuple layer: Python tuples <-> bytes that sort like them.

Byte-identical to the official ``fdb.tuple`` (keys written by either read
back unchanged with the other). On CPython the codec is the C
extension ``found._ctuple`` when it is importable; otherwise (PyPy, no
build), or when the environment sets ``FOUND_PURE_TUPLE=1``, the pure-Python
reference ``found._tuple_py``.
``IMPLEMENTATION`` says which one is in use ("c" or "python").

Supported values: None, bytes, str, int (any size up to 255 bytes), float
(packed as a 64-bit double), SingleFloat (32-bit), bool, uuid.UUID,
Versionstamp, and nested tuples or lists of those (read back as tuples).
``fdb.tuple.SingleFloat``/``Versionstamp`` and ``ctypes.c_float``/``c_double``
values are accepted too.
"""

import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional, Sequence, Tuple

from ._tuple_types import SingleFloat, Versionstamp

__all__ = [
    "pack",
    "unpack",
    "range",
    "compare",
    "pack_with_versionstamp",
    "has_incomplete_versionstamp",
    "Versionstamp",
    "SingleFloat",
    "IMPLEMENTATION",
]


def _load_codec() -> Tuple[ModuleType, str]:
    """The codec module and its name; the pure-Python one is imported only when used."""
    if os.environ.get("FOUND_PURE_TUPLE") != "1" and sys.implementation.name == "cpython":
        # (Through PyPy's cpyext the C codec is several times slower than the
        # JIT-compiled pure-Python one, even where it builds.)
        try:
            from . import _ctuple
        except ImportError:
            pass
        else:
            return _ctuple, "c"
    from . import _tuple_py

    return _tuple_py, "python"


_codec, IMPLEMENTATION = _load_codec()

if TYPE_CHECKING:  # the codec's functions, as both codecs define them (found/_ctuple.pyi)

    def pack(t: Sequence[Any], prefix: Optional[bytes] = None) -> bytes:
        """Encode tuple ``t`` (after ``prefix``) into bytes that sort as the tuple does."""

    def unpack(key: bytes, prefix_len: int = 0) -> Tuple[Any, ...]:
        """Decode a packed tuple (skipping the first ``prefix_len`` bytes)."""

    def pack_with_versionstamp(t: Sequence[Any], prefix: Optional[bytes] = None) -> bytes:
        """Encode ``t``, which holds one incomplete Versionstamp, followed by its 4-byte offset."""
else:
    pack = _codec.pack
    unpack = _codec.unpack
    pack_with_versionstamp = _codec.pack_with_versionstamp


def has_incomplete_versionstamp(t: Sequence[Any]) -> bool:
    """True if tuple ``t`` holds an incomplete Versionstamp, at any depth;
    check this before calling pack_with_versionstamp."""
    if not isinstance(t, (tuple, list)):
        try:
            t = tuple(t)
        except TypeError:
            raise TypeError("has_incomplete_versionstamp() needs a tuple, not %s" % type(t).__name__) from None
    return _codec.has_incomplete_versionstamp(t)


def range(t: Tuple[Any, ...]) -> slice:
    """The slice(start, stop) of keys of every tuple that extends ``t``:
    ``start <= key < stop`` holds for pack(t + more) and not for pack(t)."""
    if not isinstance(t, tuple):
        raise TypeError("range() needs a tuple, not %s" % type(t).__name__)
    packed = pack(t)
    return slice(packed + b"\x00", packed + b"\xff")


def compare(t1: Sequence[Any], t2: Sequence[Any]) -> int:
    """-1, 0 or 1 as tuple ``t1`` sorts before, with or after ``t2``: the
    order of ``pack(t1)`` and ``pack(t2)``. Unlike pack, accepts incomplete
    Versionstamps (which sort after all complete ones)."""
    try:
        a = pack(t1)
        b = pack(t2)
    except (TypeError, ValueError):
        # Not packable as a whole (incomplete versionstamp, lists, elements
        # never reached by the comparison): compare value by value.
        from . import _tuple_py

        return _tuple_py.compare(t1, t2)
    return (a > b) - (a < b)
