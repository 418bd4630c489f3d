"""Versionstamp, SingleFloat, and which codec found.tuple picks."""

import math
import os
import pickle
import platform
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import found.tuple
from found.tuple import SingleFloat, Versionstamp
from tuple_values import complete_versionstamps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

stamps = st.one_of(complete_versionstamps, st.integers(0, 0xFFFF).map(Versionstamp.incomplete))


def test_versionstamp_basics():
    stamp = Versionstamp(b"\x00" * 9 + b"\x01", 2)
    assert stamp.is_complete()
    assert stamp.to_bytes() == b"\x00" * 9 + b"\x01\x00\x02"
    assert Versionstamp.from_bytes(b"xx" + stamp.to_bytes(), 2) == stamp
    incomplete = Versionstamp.incomplete(7)
    assert not incomplete.is_complete()
    assert incomplete.to_bytes() == b"\xff" * 10 + b"\x00\x07"
    assert Versionstamp.from_bytes(incomplete.to_bytes()) == incomplete
    assert incomplete.completed(b"\x01" * 10) == Versionstamp(b"\x01" * 10, 7)
    with pytest.raises(RuntimeError):
        stamp.completed(b"\x01" * 10)
    assert pickle.loads(pickle.dumps(stamp)) == stamp
    assert "Versionstamp" in repr(stamp)


@pytest.mark.parametrize(
    "args,error",
    [
        (("x" * 10,), TypeError),
        ((b"x" * 9,), ValueError),
        ((None, -1), ValueError),
        ((None, 65536), ValueError),
        ((None, 1.0), TypeError),
    ],
)
def test_versionstamp_validation(args, error):
    with pytest.raises(error):
        Versionstamp(*args)


def test_versionstamp_from_bytes_errors():
    with pytest.raises(TypeError, match="str"):
        Versionstamp.from_bytes("x" * 12)
    with pytest.raises(ValueError):
        Versionstamp.from_bytes(b"x" * 11)


@settings(max_examples=200, deadline=None)
@given(a=stamps, b=stamps)
def test_versionstamp_order_and_interop(fdb_tuple, a, b):
    fa = fdb_tuple.Versionstamp(a.tr_version, a.user_version)
    fb = fdb_tuple.Versionstamp(b.tr_version, b.user_version)
    assert (a < b) == (fa < fb)
    assert (a == b) == (fa == fb)
    assert (a <= b) == (fa <= fb)
    # found's Versionstamp accepts fdb's on either side of the operator
    assert a == fa and not a != fa
    assert (a < fb) == (fa < fb) and (a > fb) == (fa > fb)
    assert hash(a) == hash(fa)
    assert found.tuple.has_incomplete_versionstamp((1, [fa])) == (not a.is_complete())


@settings(max_examples=200, deadline=None)
@given(x=st.floats(width=32), y=st.floats(width=32))
def test_single_float_order_and_interop(fdb_tuple, x, y):
    a, b = SingleFloat(x), SingleFloat(y)
    fa, fb = fdb_tuple.SingleFloat(x), fdb_tuple.SingleFloat(y)
    assert (a < b) == (fa < fb)
    assert (a == b) == (fa == fb)
    assert a == fa
    if not math.isnan(x):  # hash(nan) is per object since Python 3.10
        assert hash(a) == hash(fa)
    assert found.tuple.pack((a,)) == fdb_tuple.pack((fa,))


def test_single_float_rounds_to_32_bits():
    assert SingleFloat(0.1).value == pytest.approx(0.1, rel=1e-7)
    assert SingleFloat(0.1).value != 0.1
    assert SingleFloat(3).value == 3.0
    assert SingleFloat(1e300).value == math.inf
    assert SingleFloat(-1e300).value == -math.inf
    assert math.isnan(SingleFloat(math.nan).value)
    assert SingleFloat(-0.0) < SingleFloat(0.0)
    assert SingleFloat(1.5) != 1.5
    with pytest.raises(TypeError, match="str"):
        SingleFloat("1.5")
    assert pickle.loads(pickle.dumps(SingleFloat(2.5))) == SingleFloat(2.5)


def test_versionstamp_not_equal_to_other_types():
    assert Versionstamp() != b"\xff" * 12
    with pytest.raises(TypeError):
        Versionstamp() < 3  # noqa: B015 — the comparison itself must raise


def test_public_names():
    import found.tuple as t

    for name in (
        "pack",
        "unpack",
        "range",
        "compare",
        "pack_with_versionstamp",
        "has_incomplete_versionstamp",
        "Versionstamp",
        "SingleFloat",
    ):
        assert callable(getattr(t, name)), name


def test_c_codec_in_use():
    """Without FOUND_PURE_TUPLE, CPython runs the C codec (no silent fallback)."""
    if os.environ.get("FOUND_PURE_TUPLE") == "1" or platform.python_implementation() != "CPython":
        assert found.tuple.IMPLEMENTATION == "python"
    else:
        assert found.tuple.IMPLEMENTATION == "c"


def test_pure_python_forced_by_environment():
    code = "import found.tuple as t; print(t.IMPLEMENTATION, t.pack((1, 'a')).hex())"
    env = dict(os.environ, FOUND_PURE_TUPLE="1", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["python", "1501026100"]


def test_has_incomplete_versionstamp_accepts_iterables():
    assert found.tuple.has_incomplete_versionstamp(iter([1, Versionstamp()])) is True
    with pytest.raises(TypeError, match="int"):
        found.tuple.has_incomplete_versionstamp(5)
