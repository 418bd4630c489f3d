"""Load test: several processes × many asyncio tasks on one engine directory,
mixed reads, read-modify-writes and range reads, with random cancellations.

Each worker process runs ``--tasks`` tasks for ``--duration`` seconds. Every
operation is one ``found.transactional()`` call; a share of them
(``--cancel``) runs under ``asyncio.wait_for`` with a random timeout of up
to 5 ms, so tasks are cancelled at any point (reading, committing, backing
off). Every writing call also sets a marker key unique to that call
(``mark/<process>/<task>/<n>``, the same for its retries), so a call that
reported a failure can be checked afterwards: its marker must be absent.
Markers of calls that succeeded are cleared by the task's next write, so the
live data stays about constant (``--accounts`` values of 100 bytes plus a
marker per task).

Reported (JSON on stdout, one summary line on stderr):

- calls by outcome: ok, cancelled (wait_for timed out: the commit may or may
  not have been applied), and errors by code — FoundExceptions that left
  ``transactional()``, i.e. everything but the retryable errors it handles;
- ``failed_but_applied``: calls that raised a FoundException not marked
  ``maybe_committed`` whose marker is present (must be 0);
- the peak of live reader slots in lock.mdb and of data.mdb's size, sampled
  every 20 ms, its size every 5 s, and at the end where its pages go (user
  data, conflict history, free pages) against the live data (keys + values).

    python3 bench/load_test.py                        # 4 processes × 64 tasks × 60 s
    python3 bench/load_test.py --duration 10 --processes 2
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "driver"))

import found  # noqa: E402
from reader_table import live_slots  # noqa: E402

VALUE = 100


def _account(i: int) -> bytes:
    return b"acct/%06d" % i


async def _transfer(tx, a, b, marker, previous):
    """Move one unit from account a to b; set this call's marker, clear the last one."""
    va = await found.get(tx, _account(a))
    vb = await found.get(tx, _account(b))
    na = int(va[:12]) - 1 if va else -1
    nb = int(vb[:12]) + 1 if vb else 1
    await found.set(tx, _account(a), b"%012d" % na + b"." * (VALUE - 12))
    await found.set(tx, _account(b), b"%012d" % nb + b"." * (VALUE - 12))
    await found.set(tx, marker, b"1")
    if previous is not None:
        await found.clear(tx, previous)


async def _read(tx, keys):
    return [await found.get(tx, _account(k)) for k in keys]


async def _range(tx, start, limit):
    return await found.all(found.query(tx, _account(start), b"acct0", limit=limit))


class _Worker:
    def __init__(self, db, proc, args, rng):
        self.db, self.proc, self.args, self.rng = db, proc, args, rng
        self.outcomes = {"ok": 0, "cancelled": 0}
        self.errors = {}
        self.failed_markers = []  # reported failed, not maybe_committed: must be absent
        self.cancelled_markers = []  # unknown: counted, not judged

    def _call(self, task, n, previous):
        kind = self.rng.random()
        accounts = self.args.accounts
        if kind < 0.5:
            marker = b"mark/%d/%d/%d" % (self.proc, task, n)
            a, b = self.rng.randrange(accounts), self.rng.randrange(accounts)
            return marker, found.transactional(self.db, _transfer, a, b, marker, previous)
        if kind < 0.8:
            keys = [self.rng.randrange(accounts) for _ in range(5)]
            return None, found.transactional(self.db, _read, keys)
        return None, found.transactional(self.db, _range, self.rng.randrange(accounts), 50)

    async def task(self, task, deadline):
        previous = None
        n = 0
        while time.monotonic() < deadline:
            n += 1
            marker, call = self._call(task, n, previous)
            timeout = self.rng.uniform(0, 0.005) if self.rng.random() < self.args.cancel else None
            try:
                if timeout is None:
                    await call
                else:
                    await asyncio.wait_for(call, timeout)
            except asyncio.TimeoutError:
                self.outcomes["cancelled"] += 1
                if marker is not None:
                    self.cancelled_markers.append(marker)
            except found.FoundException as exc:
                self.errors[exc.code] = self.errors.get(exc.code, 0) + 1
                if marker is not None and not exc.maybe_committed:
                    self.failed_markers.append(marker)
            else:
                self.outcomes["ok"] += 1
                if marker is not None:
                    previous = marker

    async def present(self, markers):
        async def read(tx, keys):
            return [await found.get(tx, k) is not None for k in keys]

        found_markers = 0
        for i in range(0, len(markers), 500):
            found_markers += sum(await found.transactional(self.db, read, markers[i : i + 500]))
        return found_markers


async def _worker_main(directory, proc, args):
    db = await found.open(directory)
    worker = _Worker(db, proc, args, random.Random(args.seed * 1000 + proc))
    deadline = time.monotonic() + args.duration
    await asyncio.gather(*(worker.task(t, deadline) for t in range(args.tasks)))
    return {
        "outcomes": worker.outcomes,
        "errors": {str(k): v for k, v in worker.errors.items()},
        "failed": len(worker.failed_markers),
        "failed_but_applied": await worker.present(worker.failed_markers),
        "cancelled_writes": len(worker.cancelled_markers),
        "cancelled_writes_applied": await worker.present(worker.cancelled_markers),
    }


async def _live_bytes(directory):
    db = await found.open(directory)

    async def scan(tx):
        return await found.all(found.query(tx, b"", b"\xff"))

    pairs = await found.transactional(db, scan)
    return sum(len(k) + len(v) for k, v in pairs), len(pairs)


async def _populate(directory, accounts):
    db = await found.open(directory)

    async def fill(tx, lo, hi):
        for i in range(lo, hi):
            await found.set(tx, _account(i), b"%012d" % 0 + b"." * (VALUE - 12))

    for lo in range(0, accounts, 1000):
        await found.transactional(db, fill, lo, min(lo + 1000, accounts))


def _sample(directory, procs, peaks):
    """Peaks of live reader slots and data.mdb's size; the size every 5 s."""
    data = os.path.join(directory, "data.mdb")
    started = time.monotonic()
    while any(p.poll() is None for p in procs):
        peaks["slots"] = max(peaks["slots"], live_slots(directory))
        peaks["data_mdb"] = max(peaks["data_mdb"], os.path.getsize(data))
        if time.monotonic() - started >= 5 * len(peaks["timeline"]):
            peaks["timeline"].append(os.path.getsize(data))
        time.sleep(0.02)


# Where data.mdb's pages go, read with LMDB itself in a child process (this
# one has the directory open through the engine: LMDB allows one environment
# per file per process).
_BREAKDOWN = r"""
import ctypes, ctypes.util, json, sys
lib = ctypes.CDLL(ctypes.util.find_library("lmdb"))
class Stat(ctypes.Structure):
    _fields_ = [(n, t) for n, t in (("psize", ctypes.c_uint), ("depth", ctypes.c_uint),
                ("branch", ctypes.c_size_t), ("leaf", ctypes.c_size_t), ("overflow", ctypes.c_size_t),
                ("entries", ctypes.c_size_t))]
class Val(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("data", ctypes.c_void_p)]
env, txn, cur = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
lib.mdb_env_create(ctypes.byref(env)); lib.mdb_env_set_maxdbs(env, 8)
assert lib.mdb_env_open(env, sys.argv[1].encode(), 0x20000 | 0x200000, 0o644) == 0   # RDONLY | NOTLS
assert lib.mdb_txn_begin(env, None, 0x20000, ctypes.byref(txn)) == 0
pages = {}
for name in (None, b"meta", b"data", b"hist", b"sample"):
    dbi = ctypes.c_uint(0 if name is None else 1)
    if name is None or lib.mdb_dbi_open(txn, name, 0, ctypes.byref(dbi)) == 0:
        st = Stat(); lib.mdb_stat(txn, dbi, ctypes.byref(st))
        pages[name.decode() if name else "free list"] = st.branch + st.leaf + st.overflow
lib.mdb_cursor_open(txn, 0, ctypes.byref(cur))
k, v, free = Val(), Val(), 0
rc = lib.mdb_cursor_get(cur, ctypes.byref(k), ctypes.byref(v), 0)            # MDB_FIRST
while rc == 0:
    free += ctypes.cast(v.data, ctypes.POINTER(ctypes.c_size_t))[0]
    rc = lib.mdb_cursor_get(cur, ctypes.byref(k), ctypes.byref(v), 8)         # MDB_NEXT
pages["free (reusable)"] = free
print(json.dumps({name: n * 4096 for name, n in pages.items()}))
"""


def _breakdown(directory):
    done = subprocess.run([sys.executable, "-c", _BREAKDOWN, directory], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr[-300:]}


def _merge(results):
    total = {
        "outcomes": {},
        "errors": {},
        "failed": 0,
        "failed_but_applied": 0,
        "cancelled_writes": 0,
        "cancelled_writes_applied": 0,
    }
    for r in results:
        for part in ("outcomes", "errors"):
            for k, v in r[part].items():
                total[part][k] = total[part].get(k, 0) + v
        for k in ("failed", "failed_but_applied", "cancelled_writes", "cancelled_writes_applied"):
            total[k] += r[k]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--cancel", type=float, default=0.25, help="share of calls under a random wait_for")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", help="engine directory (default: a fresh temporary one)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(asyncio.run(_worker_main(args.dir, args.worker, args))))
        return
    directory = args.dir or os.path.join(tempfile.mkdtemp(prefix="found-load-"), "db")
    asyncio.run(_populate(directory, args.accounts))
    command = [sys.executable, os.path.abspath(__file__), "--dir", directory] + [
        "--%s=%s" % (k, getattr(args, k)) for k in ("tasks", "duration", "accounts", "cancel", "seed")
    ]
    procs = [
        subprocess.Popen(command + ["--worker", str(p)], stdout=subprocess.PIPE, text=True)
        for p in range(args.processes)
    ]
    peaks = {"slots": 0, "data_mdb": 0, "timeline": []}
    _sample(directory, procs, peaks)
    results = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode:
            sys.exit("worker failed with exit code %d" % p.returncode)
        results.append(json.loads(out))
    breakdown = _breakdown(directory)
    live, pairs = asyncio.run(_live_bytes(directory))
    report = dict(
        _merge(results),
        processes=args.processes,
        tasks=args.tasks,
        duration=args.duration,
        seed=args.seed,
        peak_reader_slots=peaks["slots"],
        peak_data_mdb_bytes=peaks["data_mdb"],
        final_data_mdb_bytes=os.path.getsize(os.path.join(directory, "data.mdb")),
        data_mdb_every_5s=peaks["timeline"],
        data_mdb_breakdown_bytes=breakdown,
        live_bytes=live,
        live_pairs=pairs,
    )
    print(json.dumps(report, indent=1))
    print(
        "%(processes)d × %(tasks)d × %(duration)gs: %(outcomes)s, errors %(errors)s, failed but applied "
        "%(failed_but_applied)d, peak reader slots %(peak_reader_slots)d, data.mdb peak %(peak_data_mdb_bytes)d B "
        "for %(live_bytes)d B live" % report,
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
