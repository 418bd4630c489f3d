"""Hypothesis strategies for tuple-layer values, and helpers to compare them.

Values are generated with found's own types; ``to_fdb`` turns one into the
equivalent value for the official fdb.tuple (its own Versionstamp and
SingleFloat classes), ``canonical`` into a plain structure that compares
exactly (float bits rather than float equality, lists as tuples).
"""

import struct
import uuid

from hypothesis import strategies as st

from found.tuple import SingleFloat, Versionstamp


def _limit(n):
    return (1 << (8 * n)) - 1


# ints around every byte-length boundary, including 2**64 - 1, the smallest
# magnitude fdb writes with the big-int codes 0x0b/0x1d
_boundaries = sorted({s * (_limit(n) + d) for n in range(0, 11) for d in (-1, 0, 1) for s in (1, -1)})

ints = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(1 << 64), 1 << 64),
    st.sampled_from(_boundaries),
    st.integers(-_limit(255), _limit(255)),
)

# any 64-bit pattern: NaNs with payloads and signs, infinities, -0.0, subnormals
doubles = st.one_of(
    st.floats(),
    st.integers(0, (1 << 64) - 1).map(lambda bits: struct.unpack(">d", bits.to_bytes(8, "big"))[0]),
)

singles = st.one_of(
    st.floats(width=32),
    st.integers(0, (1 << 32) - 1).map(lambda bits: struct.unpack(">f", bits.to_bytes(4, "big"))[0]),
).map(SingleFloat)

byte_strings = st.one_of(
    st.binary(max_size=20), st.lists(st.sampled_from([b"\x00", b"\xff", b"a"]), max_size=6).map(b"".join)
)

texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.lists(st.sampled_from(["\x00", "a", "é", "\U0001f600", "\uffff"]), max_size=6).map("".join),
)

complete_versionstamps = st.builds(
    Versionstamp,
    st.binary(min_size=10, max_size=10).filter(lambda b: b != b"\xff" * 10),
    st.integers(0, 0xFFFF),
)


def leaves(versionstamps=True):
    """Every non-container type the tuple layer encodes."""
    choices = [
        st.none(),
        byte_strings,
        texts,
        ints,
        doubles,
        singles,
        st.booleans(),
        st.uuids(),
    ]
    if versionstamps:
        choices.append(complete_versionstamps)
    return st.one_of(choices)


def elements(versionstamps=True):
    """Leaves and nested tuples/lists of them."""
    return st.recursive(
        leaves(versionstamps),
        lambda children: st.one_of(st.lists(children, max_size=4), st.lists(children, max_size=4).map(tuple)),
        max_leaves=12,
    )


def tuples(versionstamps=True):
    return st.lists(elements(versionstamps), max_size=6).map(tuple)


@st.composite
def with_incomplete_versionstamp(draw, versionstamps=True):
    """A tuple holding exactly one incomplete Versionstamp, at any depth."""
    stamp = Versionstamp.incomplete(draw(st.integers(0, 0xFFFF)))
    return _insert(draw, draw(tuples(versionstamps)), stamp)


def _insert(draw, container, stamp):
    items = list(container)
    nested = [i for i, item in enumerate(items) if isinstance(item, (tuple, list))]
    if nested and draw(st.booleans()):
        i = draw(st.sampled_from(nested))
        items[i] = _insert(draw, items[i], stamp)
    else:
        items.insert(draw(st.integers(0, len(items))), stamp)
    return type(container)(items)


def to_fdb(value, fdb_tuple):
    """The same value built from fdb.tuple's classes."""
    if isinstance(value, Versionstamp):
        return fdb_tuple.Versionstamp(value.tr_version, value.user_version)
    if isinstance(value, SingleFloat):
        return fdb_tuple.SingleFloat(value.value)
    if isinstance(value, (tuple, list)):
        return type(value)(to_fdb(item, fdb_tuple) for item in value)
    return value


def canonical(value):
    """An exactly comparable form: type names with floats as their bits."""
    if isinstance(value, (tuple, list)):
        return ("tuple", tuple(canonical(item) for item in value))
    if type(value).__name__ == "SingleFloat":
        return ("single", struct.pack(">f", value.value))
    if isinstance(value, float):
        return ("double", struct.pack(">d", value))
    if type(value).__name__ == "Versionstamp":
        return ("versionstamp", value.tr_version, value.user_version)
    if isinstance(value, uuid.UUID):
        return ("uuid", type(value), value.int)
    return (type(value), value)
