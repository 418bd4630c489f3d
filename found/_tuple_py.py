"""Pure-Python tuple codec: the readable reference for found._ctuple and its
fallback where C extensions are unavailable (PyPy, FOUND_PURE_TUPLE=1).

Byte format (FoundationDB tuple layer, as fdb.tuple writes it): each element
is a type code byte followed by its payload; codes order the types:

    0x00 None            0x01 bytes, 0x02 str (UTF-8): payload with every
    0x05 nested tuple         0x00 written 0x00 0xff, then a 0x00 terminator
    0x0c-0x13 int < 0    0x14 zero    0x15-0x1c int > 0 (1 to 8 bytes)
    0x0b / 0x1d int beyond 8 bytes: a length byte (inverted when negative)
    0x20 32-bit float, 0x21 double: big-endian IEEE, sign bit flipped, all
         bits flipped when negative, so bytes sort like numbers
    0x26 False 0x27 True 0x30 UUID (16 bytes) 0x33 Versionstamp (12 bytes)

Inside a nested tuple, None is written 0x00 0xff so it is not read as the
nested terminator 0x00.
"""

import struct
import uuid

from ._tuple_types import SingleFloat, Versionstamp, adapt_foreign, compare_doubles

__all__ = ["pack", "pack_with_versionstamp", "unpack", "range", "compare", "has_incomplete_versionstamp"]

NULL = 0x00
BYTES = 0x01
STRING = 0x02
NESTED = 0x05
NEG_BIG_INT = 0x0B
INT_ZERO = 0x14
POS_BIG_INT = 0x1D
FLOAT = 0x20
DOUBLE = 0x21
FALSE = 0x26
TRUE = 0x27
UUID = 0x30
VERSIONSTAMP = 0x33

_MAX_SMALL_INT = (1 << 64) - 1  # ints of this magnitude and beyond use 0x0b/0x1d
_MAX_INT_BYTES = 255  # the length of a big int is one byte
_VERSIONSTAMP_LEN = 12
_builtin_range = range


class _Packer:
    """Accumulates the bytes of one tuple and where its incomplete versionstamp is."""

    __slots__ = ("out", "version_pos")

    def __init__(self, prefix):
        self.out = bytearray(prefix)
        self.version_pos = -1

    def element(self, value, nested):
        out = self.out
        if value is None:
            out += b"\x00\xff" if nested else b"\x00"
        elif isinstance(value, bytes):
            out.append(BYTES)
            out += value.replace(b"\x00", b"\x00\xff")
            out.append(0)
        elif isinstance(value, str):
            out.append(STRING)
            out += value.encode("utf-8").replace(b"\x00", b"\x00\xff")
            out.append(0)
        elif isinstance(value, int) and not isinstance(value, bool):
            _pack_int(out, value)
        elif isinstance(value, SingleFloat):
            out.append(FLOAT)
            out += _order_float_bits(struct.pack(">f", value.value))
        elif isinstance(value, float):
            out.append(DOUBLE)
            out += _order_float_bits(struct.pack(">d", value))
        elif isinstance(value, uuid.UUID):
            out.append(UUID)
            out += value.bytes
        elif isinstance(value, bool):
            out.append(TRUE if value else FALSE)
        elif isinstance(value, Versionstamp):
            self.versionstamp(value)
        elif isinstance(value, (tuple, list)):
            out.append(NESTED)
            for item in value:
                self.element(item, True)
            out.append(0)
        else:
            foreign = adapt_foreign(value)
            if foreign is None:
                raise TypeError("tuple element of type %s cannot be packed" % type(value).__name__)
            self.element(foreign, nested)

    def versionstamp(self, value):
        out = self.out
        out.append(VERSIONSTAMP)
        if not value.is_complete():
            if self.version_pos >= 0:
                raise ValueError("tuple contains more than one incomplete Versionstamp")
            self.version_pos = len(out)
        out += _versionstamp_bytes(value)


def _versionstamp_bytes(value):
    # The attributes are mutable: check them again rather than trust __init__.
    tr_version, user_version = value.tr_version, value.user_version
    if tr_version is not None and not (isinstance(tr_version, bytes) and len(tr_version) == 10):
        raise ValueError("Versionstamp.tr_version must be 10 bytes or None, not %s" % type(tr_version).__name__)
    if not isinstance(user_version, int) or not 0 <= user_version <= 0xFFFF:
        raise ValueError("Versionstamp.user_version must be an int in [0, 65535]")
    return (tr_version or b"\xff" * 10) + struct.pack(">H", user_version)


def _pack_int(out, value):
    if value == 0:
        out.append(INT_ZERO)
    elif 0 < value < _MAX_SMALL_INT:
        size = (value.bit_length() + 7) // 8
        out.append(INT_ZERO + size)
        out += value.to_bytes(size, "big")
    elif 0 < -value < _MAX_SMALL_INT:
        # n bytes of the one's complement: -1 is 0xfe, -255 is 0x00.
        size = ((-value).bit_length() + 7) // 8
        out.append(INT_ZERO - size)
        out += (value + (1 << (8 * size)) - 1).to_bytes(size, "big")
    else:
        size = (abs(value).bit_length() + 7) // 8
        if size > _MAX_INT_BYTES:
            raise ValueError("integer too large to pack: %d bytes (at most 255)" % size)
        if value > 0:
            out += bytes((POS_BIG_INT, size))
            out += value.to_bytes(size, "big")
        else:
            out += bytes((NEG_BIG_INT, size ^ 0xFF))
            out += (value + (1 << (8 * size)) - 1).to_bytes(size, "big")


def _order_float_bits(raw):
    """Big-endian IEEE bytes made to sort as numbers: negatives get every bit
    flipped, positives only the sign bit."""
    if raw[0] & 0x80:
        return bytes(b ^ 0xFF for b in raw)
    return bytes((raw[0] ^ 0x80,)) + raw[1:]


def _restore_float_bits(raw):
    if raw[0] & 0x80:
        return bytes((raw[0] ^ 0x80,)) + raw[1:]
    return bytes(b ^ 0xFF for b in raw)


def _check_tuple(t, function):
    if not isinstance(t, tuple):
        raise TypeError("%s() needs a tuple, not %s" % (function, type(t).__name__))


def _prefix_bytes(prefix):
    if prefix is None:
        return b""
    try:
        return memoryview(prefix).tobytes()
    except TypeError:
        raise TypeError("prefix must be bytes or None, not %s" % type(prefix).__name__) from None


def _pack(t, prefix, function):
    _check_tuple(t, function)
    packer = _Packer(_prefix_bytes(prefix))
    for item in t:
        packer.element(item, False)
    return packer


def pack(t, prefix=None):
    """Encode tuple ``t`` as bytes that sort like the tuple, after ``prefix``.
    Raises ValueError if ``t`` holds an incomplete Versionstamp."""
    packer = _pack(t, prefix, "pack")
    if packer.version_pos >= 0:
        raise ValueError("incomplete Versionstamp in pack(); use pack_with_versionstamp()")
    return bytes(packer.out)


def pack_with_versionstamp(t, prefix=None):
    """Encode tuple ``t``, which holds exactly one incomplete Versionstamp
    (possibly nested), for set_versionstamped_key/value: the packed bytes
    followed by the 4-byte little-endian offset of that versionstamp."""
    packer = _pack(t, prefix, "pack_with_versionstamp")
    if packer.version_pos < 0:
        raise ValueError("pack_with_versionstamp() needs an incomplete Versionstamp in the tuple")
    packer.out += struct.pack("<L", packer.version_pos)
    return bytes(packer.out)


def has_incomplete_versionstamp(t):
    """True if tuple ``t`` holds an incomplete Versionstamp, at any depth."""
    for item in t:
        if isinstance(item, Versionstamp):
            if not item.is_complete():
                return True
        elif isinstance(item, (tuple, list)):
            if has_incomplete_versionstamp(item):
                return True
        elif item is not None and not isinstance(item, (bytes, str, int, float)):
            foreign = adapt_foreign(item)
            if isinstance(foreign, Versionstamp) and not foreign.is_complete():
                return True
    return False


def range(t):
    """The slice of keys of every tuple that extends ``t`` (not ``t`` itself)."""
    _check_tuple(t, "range")
    packed = pack(t)
    return slice(packed + b"\x00", packed + b"\xff")


# --- decoding -------------------------------------------------------------


def _fail(message, offset):
    return ValueError("cannot unpack tuple: %s at offset %d" % (message, offset))


def _payload(data, start, size, offset, what):
    """``size`` bytes of ``data`` from ``start``, or ValueError if truncated."""
    if start + size > len(data):
        raise _fail("truncated %s" % what, offset)
    return data[start : start + size]


def _escaped_end(data, start, offset):
    """Index of the 0x00 that ends the escaped payload starting at ``start``."""
    pos = start
    while True:
        pos = data.find(b"\x00", pos)
        if pos < 0:
            raise _fail("unterminated bytes/str", offset)
        if pos + 1 < len(data) and data[pos + 1] == 0xFF:
            pos += 2
        else:
            return pos


# Each decoder takes (data, pos of the type code) and returns (value, next pos).


def _decode_bytes(data, pos):
    end = _escaped_end(data, pos + 1, pos)
    return data[pos + 1 : end].replace(b"\x00\xff", b"\x00"), end + 1


def _decode_str(data, pos):
    raw, end = _decode_bytes(data, pos)
    try:
        return raw.decode("utf-8"), end
    except UnicodeDecodeError as exc:
        raise _fail("invalid UTF-8 in str", pos) from exc


def _decode_positive_int(data, pos):
    size = data[pos] - INT_ZERO
    return int.from_bytes(_payload(data, pos + 1, size, pos, "int"), "big"), pos + 1 + size


def _decode_negative_int(data, pos):
    # stored as the one's complement of the magnitude in `size` bytes
    size = INT_ZERO - data[pos]
    raw = int.from_bytes(_payload(data, pos + 1, size, pos, "int"), "big")
    return raw - (1 << (8 * size)) + 1, pos + 1 + size


def _decode_big_int(data, pos):
    negative = data[pos] == NEG_BIG_INT
    size = _payload(data, pos + 1, 1, pos, "int")[0]
    if negative:
        size ^= 0xFF
    value = int.from_bytes(_payload(data, pos + 2, size, pos, "int"), "big")
    if negative:
        value -= (1 << (8 * size)) - 1
    return value, pos + 2 + size


def _decode_double(data, pos):
    raw = _restore_float_bits(_payload(data, pos + 1, 8, pos, "double"))
    return struct.unpack(">d", raw)[0], pos + 9


def _decode_single(data, pos):
    raw = _restore_float_bits(_payload(data, pos + 1, 4, pos, "float"))
    return SingleFloat(struct.unpack(">f", raw)[0]), pos + 5


def _decode_false(data, pos):
    return False, pos + 1


def _decode_true(data, pos):
    return True, pos + 1


def _decode_uuid(data, pos):
    return uuid.UUID(bytes=_payload(data, pos + 1, 16, pos, "UUID")), pos + 17


def _decode_versionstamp(data, pos):
    _payload(data, pos + 1, _VERSIONSTAMP_LEN, pos, "Versionstamp")
    return Versionstamp.from_bytes(data, pos + 1), pos + 1 + _VERSIONSTAMP_LEN


def _decode_unknown(data, pos):
    raise _fail("unknown type code 0x%02x" % data[pos], pos)


def _decoder_table():
    table = [_decode_unknown] * 256
    table[BYTES] = _decode_bytes
    table[STRING] = _decode_str
    for code in _builtin_range(NEG_BIG_INT + 1, INT_ZERO):
        table[code] = _decode_negative_int
    for code in _builtin_range(INT_ZERO, POS_BIG_INT):
        table[code] = _decode_positive_int
    table[NEG_BIG_INT] = table[POS_BIG_INT] = _decode_big_int
    table[FLOAT] = _decode_single
    table[DOUBLE] = _decode_double
    table[FALSE] = _decode_false
    table[TRUE] = _decode_true
    table[UUID] = _decode_uuid
    table[VERSIONSTAMP] = _decode_versionstamp
    return table


# None (0x00) and nested tuples (0x05) are handled by unpack itself.
_DECODERS = _decoder_table()


def _as_bytes(key):
    if isinstance(key, bytes):
        return key
    try:
        return memoryview(key).tobytes()
    except TypeError:
        raise TypeError("unpack() needs bytes, not %s" % type(key).__name__) from None


def unpack(key, prefix_len=0):
    """Decode bytes written by pack (or fdb.tuple.pack) into a tuple,
    skipping the first ``prefix_len`` bytes. Raises ValueError, naming the
    offset, on bytes that are not a packed tuple."""
    data = _as_bytes(key)
    if not isinstance(prefix_len, int) or isinstance(prefix_len, bool):
        raise TypeError("prefix_len must be int, not %s" % type(prefix_len).__name__)
    if not 0 <= prefix_len <= len(data):
        raise ValueError("prefix_len %d is outside the key's %d bytes" % (prefix_len, len(data)))
    # Nested tuples are decoded with an explicit stack, not recursion, so
    # deeply nested input cannot exhaust the interpreter's stack.
    stack = [[]]
    openings = []
    pos = prefix_len
    end = len(data)
    while pos < end:
        code = data[pos]
        items = stack[-1]
        if code == NULL:
            if len(stack) == 1:
                items.append(None)
                pos += 1
            elif pos + 1 < end and data[pos + 1] == 0xFF:
                items.append(None)
                pos += 2
            else:
                stack.pop()
                openings.pop()
                stack[-1].append(tuple(items))
                pos += 1
        elif code == NESTED:
            stack.append([])
            openings.append(pos)
            pos += 1
        else:
            value, pos = _DECODERS[code](data, pos)
            items.append(value)
    if openings:
        raise _fail("unterminated nested tuple", openings[-1])
    return tuple(stack[0])


# --- comparison -----------------------------------------------------------


def _type_rank(value):
    """The type code that orders ``value`` among other types."""
    if value is None:
        return NULL
    if isinstance(value, bytes):
        return BYTES
    if isinstance(value, str):
        return STRING
    if isinstance(value, bool):
        return FALSE
    if isinstance(value, int):
        return INT_ZERO
    if isinstance(value, SingleFloat):
        return FLOAT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, uuid.UUID):
        return UUID
    if isinstance(value, Versionstamp):
        return VERSIONSTAMP
    if isinstance(value, (tuple, list)):
        return NESTED
    raise TypeError("tuple element of type %s cannot be compared" % type(value).__name__)


def _compare_values(a, b):
    a = _native(a)
    b = _native(b)
    rank_a = _type_rank(a)
    rank_b = _type_rank(b)
    if rank_a != rank_b:
        return -1 if rank_a < rank_b else 1
    if rank_a == NULL:
        return 0
    if rank_a == NESTED:
        return compare(a, b)
    if rank_a == STRING:
        a = a.encode("utf-8")
        b = b.encode("utf-8")
    elif rank_a == FLOAT:
        return compare_doubles(a.value, b.value)
    elif rank_a == DOUBLE:
        return compare_doubles(a, b)
    return (a > b) - (a < b)


def _native(value):
    if value is None or isinstance(value, (bytes, str, int, float, tuple, list, uuid.UUID)):
        return value
    foreign = adapt_foreign(value)
    return value if foreign is None else foreign


def compare(t1, t2):
    """-1, 0 or 1 as tuple ``t1`` sorts before, with or after ``t2`` in the
    tuple order (the order of their packed bytes); incomplete Versionstamps
    are allowed and sort after every complete one."""
    for a, b in zip(t1, t2):
        c = _compare_values(a, b)
        if c:
            return c
    return (len(t1) > len(t2)) - (len(t1) < len(t2))
