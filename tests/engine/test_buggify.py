"""Client fault injection (client_buggify_* network options): the faults,
their counts, and determinism under FOUND_BUGGIFY_SEED. Each run is a fresh
process: buggify is process-global."""
import json
import os
import subprocess
import sys
import textwrap

from engine_lib import ENGINE

KINDS = ["read_error", "commit_error", "commit_unknown_applied", "commit_unknown_not_applied",
         "read_latency", "commit_latency"]

WORKLOAD = """
import ctypes, json, struct, sys, tempfile
capi = ctypes.CDLL(%(engine)r, mode=ctypes.RTLD_GLOBAL)
import fdb
fdb.api_version(730)
enable = %(enable)r
if enable:
    fdb.options.set_client_buggify_section_activated_probability(100)
    fdb.options.set_client_buggify_section_fired_probability(25)
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
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(WORKLOAD % {"engine": ENGINE, "enable": enable})],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_faults_are_injected_and_counted():
    r = run(7)
    counts = dict(zip(KINDS, r["counts"]))
    assert r["n"] == len(KINDS)
    assert all(counts[k] > 0 for k in KINDS), counts
    assert set(r["errors"]) <= {1007, 1009, 1037, 1020, 1021}
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
