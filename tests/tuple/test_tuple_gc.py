"""The C codec leaves decoded tuples of atomic values out of the cyclic GC.

A tuple holding only None, bool, int, float, bytes, str or such tuples can
never be part of a reference cycle; CPython untracks it at its first
collection anyway, the codec does it at once. A tuple holding anything the
GC may need to see (a UUID, a Versionstamp, a SingleFloat) stays tracked.
"""

import gc
import uuid

import pytest
from hypothesis import given, settings

import found.tuple
from found.tuple import SingleFloat, Versionstamp
from tuple_values import elements

ctuple = pytest.importorskip("found._ctuple")


def _holds_gc_object(value):
    if isinstance(value, tuple):
        return any(_holds_gc_object(v) for v in value)
    return gc.is_tracked(value) or isinstance(value, (uuid.UUID, Versionstamp, SingleFloat))


def _check(decoded):
    if isinstance(decoded, tuple) and decoded:
        assert gc.is_tracked(decoded) == _holds_gc_object(decoded), decoded
        for item in decoded:
            _check(item)


@pytest.mark.parametrize(
    "value",
    [
        ("a", 1, b"x", None, 1.5, True, -(2**70)),
        ("nested", ("n", 2, (b"deep",)), ()),
        ("a", uuid.UUID(int=5)),
        ("a", (SingleFloat(1.5),), "b"),
        (Versionstamp(b"\x01" * 10, 3),),
    ],
)
def test_tracking_follows_the_contents(value):
    decoded = ctuple.unpack(found.tuple.pack(value))
    assert decoded == value
    _check(decoded)


@settings(max_examples=300, deadline=None)
@given(value=elements(versionstamps=False))
def test_tracking_follows_the_contents_of_any_tuple(value):
    packed = found.tuple.pack((value,))
    decoded = ctuple.unpack(packed)
    assert found.tuple.pack(decoded) == packed  # (lists come back as tuples; nan != nan)
    _check(decoded)


def test_untracked_tuples_survive_collections():
    kept = [ctuple.unpack(found.tuple.pack(("k", i, (b"x", i)))) for i in range(1000)]
    gc.collect()
    assert kept == [("k", i, (b"x", i)) for i in range(1000)]
