"""Both codecs against the official fdb.tuple: same bytes, same values, same order."""

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuple_values import canonical, elements, to_fdb, tuples, with_incomplete_versionstamp

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
prefixes = st.one_of(st.none(), st.binary(max_size=6))


@SETTINGS
@given(t=tuples())
def test_pack_matches_fdb(codec, fdb_tuple, t):
    expected = fdb_tuple.pack(to_fdb(t, fdb_tuple))
    assert codec.pack(t) == expected
    # fdb.tuple's own Versionstamp/SingleFloat objects are accepted too
    assert codec.pack(to_fdb(t, fdb_tuple)) == expected


@SETTINGS
@given(t=tuples())
def test_unpack_reads_fdb_bytes(codec, fdb_tuple, t):
    packed = fdb_tuple.pack(to_fdb(t, fdb_tuple))
    assert canonical(codec.unpack(packed)) == canonical(t)
    assert canonical(codec.unpack(packed)) == canonical(fdb_tuple.unpack(packed))


@SETTINGS
@given(t=tuples(versionstamps=False))
def test_round_trip(codec, t):
    packed = codec.pack(t)
    value = codec.unpack(packed)
    assert canonical(value) == canonical(t)
    assert codec.pack(value) == packed


@SETTINGS
@given(t=tuples(), prefix=prefixes)
def test_prefix(codec, fdb_tuple, t, prefix):
    packed = codec.pack(t, prefix)
    assert packed == fdb_tuple.pack(to_fdb(t, fdb_tuple), prefix)
    assert canonical(codec.unpack(packed, len(prefix or b""))) == canonical(t)
    assert codec.pack(t, prefix=bytearray(prefix or b"")) == packed


@SETTINGS
@given(a=tuples(), b=tuples())
def test_order_matches_fdb(codec, fdb_tuple, a, b):
    ours_a, ours_b = codec.pack(a), codec.pack(b)
    fdb_a, fdb_b = to_fdb(a, fdb_tuple), to_fdb(b, fdb_tuple)
    expected = fdb_tuple.compare(fdb_a, fdb_b)
    assert (ours_a > ours_b) - (ours_a < ours_b) == expected
    assert codec.compare(a, b) == expected


@SETTINGS
@given(data=st.data(), prefix=prefixes)
def test_pack_with_versionstamp_matches_fdb(codec, fdb_tuple, data, prefix):
    t = data.draw(with_incomplete_versionstamp())
    packed = codec.pack_with_versionstamp(t, prefix)
    assert packed == fdb_tuple.pack_with_versionstamp(to_fdb(t, fdb_tuple), prefix)
    assert codec.has_incomplete_versionstamp(t)
    # the offset names where the 10 bytes of the incomplete version start
    (offset,) = struct.unpack("<L", packed[-4:])
    assert packed[offset : offset + 10] == b"\xff" * 10
    assert packed[offset - 1] == 0x33


@SETTINGS
@given(data=st.data())
def test_incomplete_versionstamp_compare(codec, fdb_tuple, data):
    a = data.draw(with_incomplete_versionstamp())
    b = data.draw(st.one_of(tuples(), with_incomplete_versionstamp()))
    assert codec.compare(a, b) == fdb_tuple.compare(to_fdb(a, fdb_tuple), to_fdb(b, fdb_tuple))
    assert codec.compare(b, a) == -codec.compare(a, b)


@SETTINGS
@given(t=tuples())
def test_has_incomplete_versionstamp_false(codec, fdb_tuple, t):
    assert codec.has_incomplete_versionstamp(t) is False
    assert fdb_tuple.has_incomplete_versionstamp(to_fdb(t, fdb_tuple)) is False


@SETTINGS
@given(t=tuples(), more=st.lists(elements(), min_size=1, max_size=3).map(tuple), other=tuples())
def test_range(codec, fdb_tuple, t, more, other):
    r = codec.range(t)
    assert (r.start, r.stop) == (lambda s: (s.start, s.stop))(fdb_tuple.range(to_fdb(t, fdb_tuple)))
    assert r.start <= codec.pack(t + more) < r.stop
    assert not r.start <= codec.pack(t) < r.stop
    inside = r.start <= codec.pack(other) < r.stop
    assert inside == (len(other) > len(t) and codec.pack(other[: len(t)]) == codec.pack(t))


def test_known_bytes(codec):
    """A few encodings spelled out, independent of fdb.tuple."""
    import uuid

    assert codec.pack((None, b"a\x00", "é", 0, -1, 255, 256)) == (
        b"\x00\x01a\x00\xff\x00\x02\xc3\xa9\x00\x14\x13\xfe\x15\xff\x16\x01\x00"
    )
    assert codec.pack(((None, ()),)) == b"\x05\x00\xff\x05\x00\x00"
    assert codec.pack((2**64 - 1, -(2**64 - 1))) == b"\x1d\x08" + b"\xff" * 8 + b"\x0b\xf7" + b"\x00" * 8
    assert codec.pack((1.0, -1.0, True, False)) == (
        b"\x21\xbf\xf0" + b"\x00" * 6 + b"\x21\x40\x0f" + b"\xff" * 6 + b"\x27\x26"
    )
    u = uuid.UUID(int=0x0102030405060708090A0B0C0D0E0F10)
    assert codec.pack((u,)) == b"\x30" + u.bytes
    assert codec.unpack(b"\x30" + u.bytes) == (u,)
