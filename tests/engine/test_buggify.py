"""Client fault injection (client_buggify_* network options): the faults,
their counts, and determinism under FOUND_BUGGIFY_SEED. Each run is a fresh
process: buggify is process-global."""

import json
import os
import subprocess
import sys
import textwrap

from engine_lib import ENGINE

KINDS = [
    "read_error",
    "commit_error",
    "commit_unknown_applied",
    "commit_unknown_not_applied",
    "read_latency",
    "commit_latency",
]

WORKLOAD = """
import ctypes, json, struct, sys, tempfile
capi = ctypes.CDLL(%(engine)r, mode=ctypes.RTLD_GLOBAL)
import fdb
fdb.api_version(730)
enable = %(enable)r
if enable:
    fdb.options.set_client_buggify_section_activated_probability(100)
    fdb.options.set_client_buggify_section_fired_probability(25)
    # the engine-only knob: reads as faulty as commits (the simulation's rates)
    fdb.options.set_knob("found_client_buggify_read_fired_probability=25")
    fdb.options.set_client_buggify_enable()
db = fdb.open(cluster_file=tempfile.mkdtemp())
db.options.set_transaction_max_retry_delay(2)     # milliseconds: keep the run short
errors, successes = [], 0
for i in range(100):
    tr = db.create_transaction()
    while True:
        try:
            tr.get(b"k%%d" %% (i %% 7)).wait()
            tr.add(b"counter", struct.pack("<q", 1))
            tr.commit().wait()
            successes += 1
            break
        except fdb.FDBError as e:
            errors.append(e.code)
            tr.on_error(e).wait()
fdb.options.set_client_buggify_disable()
counts = (ctypes.c_int64 * 6)()
n = capi.found_engine_fault_counts(counts, 6)
counter = struct.unpack("<q", db[b"counter"])[0]
print(json.dumps({"errors": errors, "successes": successes, "n": n, "counts": list(counts), "counter": counter}))
"""


def run(seed, enable=True):
    env = dict(os.environ, FOUND_BUGGIFY_SEED=str(seed))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WORKLOAD % {"engine": ENGINE, "enable": enable})],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_faults_are_injected_and_counted():
    r = run(7)
    counts = dict(zip(KINDS, r["counts"]))
    assert r["n"] == len(KINDS)
    assert all(counts[k] > 0 for k in KINDS), counts
    assert set(r["errors"]) <= {1007, 1009, 1020, 1042, 1021}  # FoundationDB's injected codes
    assert r["errors"].count(1021) == counts["commit_unknown_applied"] + counts["commit_unknown_not_applied"]
    # an "unknown" commit that was applied and then retried counts twice
    assert r["counter"] == r["successes"] + counts["commit_unknown_applied"]


def test_same_seed_same_faults():
    a, b = run(11), run(11)
    assert a["errors"] == b["errors"] and a["counts"] == b["counts"]
    c = run(12)
    assert c["errors"] != a["errors"]


def test_off_by_default():
    r = run(7, enable=False)
    assert r["counts"] == [0] * len(KINDS)
    assert r["errors"] == [] and r["counter"] == 100


READS_WORKLOAD = """
import ctypes, json, sys, tempfile
capi = ctypes.CDLL(%(engine)r, mode=ctypes.RTLD_GLOBAL)
import fdb
fdb.api_version(730)
fdb.options.set_client_buggify_section_activated_probability(100)   # every section active
fdb.options.set_client_buggify_enable()                            # fired: FoundationDB's default
db = fdb.open(cluster_file=tempfile.mkdtemp())
db.options.set_transaction_max_retry_delay(2)
attempts = []
for t in range(20):
    tr = db.create_transaction()
    n = 1
    while True:
        try:
            for i in range(50):
                tr.get(b"k%%d" %% i).wait()
            tr.set(b"t%%d" %% t, b"done")
            tr.commit().wait()
            break
        except fdb.FDBError as e:
            n += 1
            tr.on_error(e).wait()
    attempts.append(n)
counts = (ctypes.c_int64 * 6)()
capi.found_engine_fault_counts(counts, 6)
print(json.dumps({"attempts": attempts, "counts": list(counts)}))
"""


def test_buggified_reads_fire_as_rarely_as_foundationdb_s():
    """FoundationDB's read sites fire with 1% once active: a transaction of 50
    reads and a commit, all sections active, finishes in a few attempts (at a
    quarter per read it would almost never get through its reads)."""
    env = dict(os.environ, FOUND_BUGGIFY_SEED="5")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(READS_WORKLOAD % {"engine": ENGINE})],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    counts = dict(zip(KINDS, r["counts"]))
    reads = 50 * sum(r["attempts"])  # at most: a failed attempt stops early
    assert counts["read_error"] < reads * 0.05, (counts, r["attempts"])
    assert max(r["attempts"]) < 30, r["attempts"]
