"""Bad input: wrong types, impossible tuples, and bytes that are not a packed tuple."""

import enum
import platform
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from found.tuple import Versionstamp
from tuple_values import canonical, to_fdb, tuples

SETTINGS = settings(max_examples=300, deadline=None)


class Opaque:
    pass


@pytest.mark.parametrize("value", [object(), Opaque(), {1: 2}, {1}, bytearray(b"x"), 1j, memoryview(b"x")])
def test_unsupported_element_names_its_type(codec, value):
    with pytest.raises(TypeError, match=re.escape(type(value).__name__)):
        codec.pack((1, value))
    with pytest.raises(TypeError, match=re.escape(type(value).__name__)):
        codec.pack(((value,),))


@pytest.mark.parametrize("t", [[1, 2], "ab", b"ab", 5, None, {"a": 1}])
def test_pack_needs_a_tuple(codec, t):
    with pytest.raises(TypeError, match=type(t).__name__):
        codec.pack(t)
    with pytest.raises(TypeError, match=type(t).__name__):
        codec.pack_with_versionstamp(t)
    with pytest.raises(TypeError, match=type(t).__name__):
        codec.range(t)


def test_prefix_type(codec):
    with pytest.raises(TypeError, match="prefix.*str"):
        codec.pack((1,), "abc")
    assert codec.pack((1,), memoryview(b"ab")) == b"ab\x15\x01"


@pytest.mark.parametrize("key", ["abc", 12, None, [1], (1,)])
def test_unpack_needs_bytes(codec, key):
    with pytest.raises(TypeError, match=type(key).__name__):
        codec.unpack(key)


def test_unpack_accepts_bytes_like(codec):
    assert codec.unpack(bytearray(b"\x15\x01\x01a\x00")) == (1, b"a")
    assert codec.unpack(memoryview(b"zz\x15\x01"), 2) == (1,)


def test_prefix_len(codec):
    assert codec.unpack(b"\x15\x01", 2) == ()
    assert codec.unpack(b"ab\x15\x01", prefix_len=2) == (1,)
    for bad in (-1, 3, 2**70):
        with pytest.raises(ValueError, match="prefix_len"):
            codec.unpack(b"\x15\x01", bad)
    with pytest.raises(TypeError, match="prefix_len.*str"):
        codec.unpack(b"\x15\x01", "1")


def test_keyword_arguments(codec):
    assert codec.pack(t=(1,), prefix=b"p") == b"p\x15\x01"
    assert codec.unpack(key=b"p\x15\x01", prefix_len=1) == (1,)
    with pytest.raises(TypeError):
        codec.pack((1,), b"", 3)
    with pytest.raises(TypeError):
        codec.pack((1,), prefx=b"")
    with pytest.raises(TypeError):
        codec.unpack()


def test_incomplete_versionstamp_in_plain_pack(codec):
    with pytest.raises(ValueError, match="incomplete Versionstamp"):
        codec.pack((1, (2, Versionstamp())))


def test_two_incomplete_versionstamps(codec):
    with pytest.raises(ValueError, match="more than one incomplete Versionstamp"):
        codec.pack_with_versionstamp((Versionstamp(), (Versionstamp(user_version=3),)))


def test_no_incomplete_versionstamp(codec):
    with pytest.raises(ValueError, match="needs an incomplete Versionstamp"):
        codec.pack_with_versionstamp((1, Versionstamp(b"\x01" * 10)))


def test_tampered_versionstamp(codec):
    stamp = Versionstamp(b"\x01" * 10, 5)
    stamp.tr_version = b"short"
    with pytest.raises(ValueError, match="tr_version"):
        codec.pack((stamp,))
    stamp = Versionstamp(b"\x01" * 10, 5)
    stamp.user_version = 70000
    with pytest.raises(ValueError, match="user_version"):
        codec.pack((stamp,))


def test_integer_too_large(codec):
    assert codec.unpack(codec.pack((2**2040 - 1,))) == (2**2040 - 1,)
    assert codec.unpack(codec.pack((-(2**2040 - 1),))) == (-(2**2040 - 1),)
    for value in (2**2040, -(2**2040)):
        with pytest.raises(ValueError, match="too large"):
            codec.pack((value,))


def test_unencodable_str(codec):
    with pytest.raises(UnicodeEncodeError):
        codec.pack(("\ud800",))


def test_subclasses_pack_like_their_base(codec, fdb_tuple):
    import collections

    class Color(enum.IntEnum):
        RED = 7

    class Name(str):
        pass

    class Blob(bytes):
        pass

    class Real(float):
        pass

    Point = collections.namedtuple("Point", "x y")
    t = (Color.RED, Name("n"), Blob(b"b"), Real(2.5), Point(1, [Name("z")]))
    assert codec.pack(t) == fdb_tuple.pack(t)


def test_ctypes_numbers(codec, fdb_tuple):
    import ctypes

    t = (ctypes.c_float(1.25), ctypes.c_double(-3.5), (ctypes.c_float(-0.0),))
    assert codec.pack(t) == fdb_tuple.pack(t)


def test_recursive_list_raises(codec):
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(RecursionError):
        codec.pack((cyclic,))


def test_deep_nesting_is_not_a_stack_overflow(codec):
    depth = 100_000
    value = codec.unpack(b"\x05" * depth + b"\x00" * depth)
    for _ in range(depth):
        (value,) = value
    assert value == ()
    assert codec.has_incomplete_versionstamp(((((1,),),),)) is False


# --- malformed bytes ------------------------------------------------------

MALFORMED = [
    (b"\x15", 0, "truncated int"),
    (b"\x14\x1c\x01\x02", 1, "truncated int"),
    (b"\x0c\x00", 0, "truncated int"),
    (b"\x1d", 0, "truncated int"),
    (b"\x1d\x09\x01", 0, "truncated int"),
    (b"\x0b\xf0\x00", 0, "truncated int"),
    (b"\x01abc", 0, "unterminated"),
    (b"\x14\x02ab\x00\xff", 1, "unterminated"),
    (b"\x02\xff\x00", 0, "UTF-8"),
    (b"\x02a\x00\xff\xc3\x00", 0, "UTF-8"),
    (b"\x21\x00", 0, "truncated double"),
    (b"\x20\x00\x00\x00", 0, "truncated float"),
    (b"\x30" + b"\x00" * 15, 0, "truncated UUID"),
    (b"\x14\x33" + b"\x00" * 11, 1, "truncated Versionstamp"),
    (b"\x05\x14", 0, "unterminated nested"),
    (b"\x05\x05\x00", 0, "unterminated nested"),
    (b"\x05\x00\xff", 0, "unterminated nested"),
    (b"\x14\x05\x05\x00\x14", 1, "unterminated nested"),
    (b"\x03", 0, "unknown type code 0x03"),
    (b"\x00\xff", 1, "unknown type code 0xff"),
    (b"\x14\x05\x14\x40\x00", 3, "unknown type code 0x40"),
]


@pytest.mark.parametrize("data,offset,what", MALFORMED)
def test_malformed_names_the_offset(codec, data, offset, what):
    with pytest.raises(ValueError) as info:
        codec.unpack(data)
    message = str(info.value)
    assert what in message
    assert "offset %d" % offset in message


@SETTINGS
@given(data=st.binary(max_size=40))
def test_random_bytes(codec, fdb_tuple, data):
    """Only a tuple or ValueError; when we accept bytes, fdb.tuple reads the same."""
    try:
        value = codec.unpack(data)
    except ValueError:
        return
    assert canonical(value) == canonical(fdb_tuple.unpack(data))


def _outcome(unpack, data):
    try:
        return canonical(unpack(data))
    except ValueError as exc:
        offset = int(re.search(r"offset (\d+)", str(exc)).group(1))
        assert 0 <= offset < len(data)
        return ("error", offset)


@SETTINGS
@given(t=tuples(), cut=st.integers(0, 200), flip=st.integers(0, 255), at=st.integers(0, 200))
def test_mutated_packed_bytes(codec, fdb_tuple, t, cut, flip, at):
    """Damaged keys: a tuple fdb.tuple reads the same, or ValueError at an
    offset inside the key; the C codec answers exactly as the reference."""
    from found import _tuple_py

    data = bytearray(fdb_tuple.pack(to_fdb(t, fdb_tuple)))
    if data:
        data[at % len(data)] ^= flip
    data = bytes(data[: len(data) - cut % (len(data) + 1)])
    outcome = _outcome(codec.unpack, data)
    if outcome[0] != "error":
        assert outcome == canonical(fdb_tuple.unpack(data))
    if codec.name == "c":
        assert outcome == _outcome(_tuple_py.unpack, data)


@pytest.mark.skipif(
    platform.python_implementation() != "CPython", reason="tracemalloc traces CPython's allocators only"
)
def test_no_memory_growth(codec):
    """Repeated successes and failures of every entry point keep memory flat."""
    import tracemalloc
    import uuid

    good = (
        None,
        b"a\x00b",
        "é\x00",
        2**100,
        -(2**70),
        1.5,
        True,
        uuid.UUID(int=7),
        ((None, 1), [2]),
        Versionstamp(b"\x01" * 10, 3),
    )
    packed = codec.pack(good)

    def exercise():
        codec.unpack(packed)
        codec.pack(good, b"prefix")
        codec.pack_with_versionstamp(good + (Versionstamp(),))
        codec.has_incomplete_versionstamp(good)
        # plain try/except: pytest.raises keeps state that would count as growth
        for bad in (b"\x05\x01abc\x00\x05", packed[:-3], b"\x02\xff\x00", b"\x15\x01" * 40 + b"\x33"):
            try:
                codec.unpack(bad)
                raise AssertionError("accepted %r" % bad)
            except ValueError:
                pass
        for bad_tuple in ((1, object()), ((1, [Versionstamp()]), Versionstamp()), (2**3000,)):
            try:
                codec.pack(bad_tuple)
                raise AssertionError("packed %r" % (bad_tuple,))
            except (TypeError, ValueError):
                pass

    for _ in range(200):
        exercise()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            exercise()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024
