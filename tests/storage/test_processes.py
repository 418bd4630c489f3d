"""The storage core seen through the official `fdb` binding, across processes:
durability under SIGKILL, exact counters with concurrent writers, versionstamp
order, watches fired by another process, and corrupt files reported clearly."""

import os
import random
import signal
import struct
import subprocess
import sys
import time

import pytest

from storage_support import run, spawn


def wait_for(proc, word):
    """Read the child's lines until one starts with `word`; return them all."""
    lines = []
    for line in proc.stdout:
        lines.append(line.split())
        if lines[-1][0] == word:
            return lines
    raise AssertionError(f"child ended before '{word}': {proc.stderr.read()}")


def test_acknowledged_commits_survive_sigkill(engine_lib, tmp_path):
    rng = random.Random(20261129)
    acked = {}
    for run_no in range(8):
        proc = spawn(engine_lib, tmp_path, "ack", f"r{run_no}", 100000)
        have = {}
        for line in proc.stdout:
            if line.startswith("have "):
                _, k, v = line.split()
                have[k] = v
            elif line.startswith("ready"):
                break
        assert all(have.get(k) == v for k, v in acked.items())  # nothing acknowledged was lost
        time.sleep(rng.uniform(0.05, 0.4))  # let it commit for a while, then kill it mid-flight
        proc.send_signal(signal.SIGKILL)
        out = proc.communicate()[0]
        for line in out.splitlines():
            if line.startswith("acked "):
                key = line.split()[1]
                acked[key] = key[::-1]
    assert len(acked) > 8
    final = {}
    for words in run(engine_lib, tmp_path, "ack", "final", 0):
        if words[0] == "have":
            final[words[1]] = words[2]
    assert all(final.get(k) == v for k, v in acked.items())


def test_two_processes_count_exactly(engine_lib, tmp_path):
    procs = [spawn(engine_lib, tmp_path, "add", 150) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "done" in out, err
    values = run_get(engine_lib, tmp_path, ["counter/add", "counter/rmw"])
    assert struct.unpack("<q", values["counter/add"])[0] == 300
    assert struct.unpack("<q", values["counter/rmw"])[0] == 300


def run_get(engine_lib, directory, keys):
    """Read keys in a fresh process; return {key: bytes}."""
    code = (
        "import ctypes,sys; ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)\n"
        "import fdb; fdb.api_version(730); db = fdb.open(cluster_file=sys.argv[2])\n"
        "for k in sys.argv[3:]: print(k, db[k.encode()].hex())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, engine_lib, str(directory), *keys],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return {k: bytes.fromhex(v) for k, v in (line.split() for line in out.splitlines())}


def test_versionstamps_are_unique_and_ordered_across_processes(engine_lib, tmp_path):
    procs = [spawn(engine_lib, tmp_path, "stamps", name, 60) for name in ("a", "b")]
    stamps = {}
    for name, p in zip(("a", "b"), procs):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        stamps[name] = [bytes.fromhex(line.split()[1]) for line in out.splitlines()]
    for seq in stamps.values():
        assert len(seq) == 60 and seq == sorted(seq) and len(set(seq)) == 60
    everything = stamps["a"] + stamps["b"]
    assert len(set(everything)) == 120  # no two transactions share a stamp
    assert all(len(s) == 10 for s in everything)
    # The keys in the database carry the same stamps, in the same order.
    code = (
        "import ctypes,sys; ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)\n"
        "import fdb; fdb.api_version(730); db = fdb.open(cluster_file=sys.argv[2])\n"
        "r = fdb.tuple.range((b'vs',))\n"
        "for k, _ in db.get_range(r.start, r.stop):\n"
        "    t = fdb.tuple.unpack(k); print(t[1].tr_version.hex(), t[2].decode(), t[3])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, engine_lib, str(tmp_path)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    rows = [line.split() for line in out.splitlines()]
    assert [bytes.fromhex(r[0]) for r in rows] == sorted(everything)
    for name in ("a", "b"):
        assert [int(r[2]) for r in rows if r[1] == name] == list(range(60))


def test_watch_fires_on_commit_from_another_process(engine_lib, tmp_path):
    watcher = spawn(engine_lib, tmp_path, "watch", "w")
    wait_for(watcher, "armed")
    assert run(engine_lib, tmp_path, "setkey", "w", "changed") == [["set"]]
    out, err = watcher.communicate(timeout=120)  # it exits once the watch fired
    assert out.split() == ["fired", "changed"], err


@pytest.mark.parametrize(
    "content, fragment",
    [
        (bytes(random.Random(1).getrandbits(8) for _ in range(65536)), "not an LMDB file"),
        (b"just some text\n", "truncated"),
    ],
)
def test_corrupt_file_is_reported_with_its_name(engine_lib, tmp_path, content, fragment):
    (tmp_path / "data.mdb").write_bytes(content)
    words = run(engine_lib, tmp_path, "open_only")
    assert words[0][:2] == ["error", "1522"]
    detail = " ".join(words[0][2:])
    assert str(tmp_path / "data.mdb") in detail and fragment in detail


def test_truncated_store_is_reported(engine_lib, tmp_path):
    run(engine_lib, tmp_path, "ack", "fill", 300)
    size = os.path.getsize(tmp_path / "data.mdb")
    os.truncate(tmp_path / "data.mdb", size // 2)
    words = run(engine_lib, tmp_path, "open_only")
    assert words[0][:2] == ["error", "1522"] and "truncated" in " ".join(words[0])


def test_set_read_version(engine_lib, tmp_path):
    assert run(engine_lib, tmp_path, "read_versions") == [["old", "old"], ["error", "1009"], ["error", "1007"]]


@pytest.mark.parametrize("damage", ["every page", "page headers"])
def test_damaged_pages_are_reported_not_crashed_on(engine_lib, tmp_path, damage):
    run(engine_lib, tmp_path, "ack", "fill", 150)
    path = tmp_path / "data.mdb"
    data = bytearray(path.read_bytes())
    rng = random.Random(damage)
    for page in range(2, len(data) // 4096):  # all pages past LMDB's two meta pages
        size = 4096 if damage == "every page" else 16
        data[page * 4096 : page * 4096 + size] = rng.randbytes(size)
    path.write_bytes(data)
    words = run(engine_lib, tmp_path, "open_only")
    assert words[0][:2] == ["error", "1522"]
    assert str(path) in " ".join(words[0]) and "damaged pages" in " ".join(words[0])
