"""Keys longer than LMDB's 511-byte limit (up to FoundationDB's 10,000)
through the official binding, checked against a dict by hypothesis: sets,
clears and ranges read forward and in reverse keep FoundationDB's order."""

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage_support import CHILD


# Keys around the 509-byte boundary where long keys share bucket records:
# "k" then n filler bytes with a variation at some position, then a tail.
def _make_key(n, at, mid, tail):
    body = bytearray(b"k" * n)
    at = min(at, n)
    body[at : at + len(mid)] = mid
    return b"k" + bytes(body[:n]) + tail


_key = st.builds(
    _make_key,
    st.sampled_from([0, 1, 300, 508, 509, 510, 511, 600, 2000, 9990]),
    st.sampled_from([0, 5, 400, 508, 509, 520, 1500]),
    st.sampled_from([b"", b"\x00", b"\xff", b"j"]),
    st.binary(max_size=3),
)
_op = st.one_of(
    st.tuples(st.just("set"), st.lists(st.tuples(_key, st.binary(max_size=8)), min_size=1, max_size=6)),
    st.tuples(st.just("clear"), st.tuples(_key, _key).map(sorted)),
)


@pytest.fixture(scope="module")
def server(engine_lib, tmp_path_factory):
    directory = tmp_path_factory.mktemp("long_keys")
    proc = subprocess.Popen(
        [sys.executable, CHILD, engine_lib, str(directory), "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def ask(request):
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    yield ask
    proc.stdin.close()
    proc.wait(timeout=60)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, min_size=1, max_size=8), probe=st.tuples(_key, _key))
def test_long_keys_behave_like_a_sorted_dict(server, ops, probe):
    assert server({"clear": ["", "ff"]}) == "ok"
    model = {}
    for kind, arg in ops:
        if kind == "set":
            assert server({"set": [[k.hex(), v.hex()] for k, v in arg]}) == "ok"
            model.update(arg)
        else:
            b, e = arg
            assert server({"clear": [b.hex(), e.hex()]}) == "ok"
            model = {k: v for k, v in model.items() if not b <= k < e}
    everything = sorted(model.items())
    expected = [[k.hex(), v.hex()] for k, v in everything]
    assert server({"range": ["", "ff", False]}) == expected
    assert server({"range": ["", "ff", True]}) == expected[::-1]
    b, e = sorted(probe)
    inside = [[k.hex(), v.hex()] for k, v in everything if b <= k < e]
    assert server({"range": [b.hex(), e.hex(), False]}) == inside
    assert server({"range": [b.hex(), e.hex(), True]}) == inside[::-1]
