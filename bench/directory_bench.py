"""found.directory against the official binding's fdb.directory, both on the embedded engine.

Each side runs in its own interpreter (one FoundationDB library per
process), alternating, in the same run; the ratios printed are found's
throughput over fdb's (best of --rounds for each side).

    python3 bench/directory_bench.py [--directories 2000] [--rounds 3]

Cases:
- create: directories ("bench", "d<i>") made in a fresh engine directory,
  50 per transaction (so the layer's own work, not the commit's fsync,
  is measured; the allocator's windows grow as they would in use);
- open: the same directories opened one after another, one per transaction;
- open-64: the same opened by 64 asyncio tasks (found) / 64 threads (fdb).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

WORKERS = 64
BATCH = 50
CASES = ("create", "open", "open-64")


def path(i: int):
    return ("bench", "d%06d" % i)


async def found_side(data: str, case: str, count: int) -> float:
    import found

    db = await found.open(data)
    directory = found.directory
    operation = directory.create if case == "create" else directory.open

    async def create_batch(tx, first):
        for i in range(first, min(first + BATCH, count)):
            await directory.create(tx, path(i))

    started = time.perf_counter()
    if case == "create":
        for first in range(0, count, BATCH):
            await found.transactional(db, create_batch, first)
    elif case == "open-64":

        async def worker(w):
            for i in range(w, count, WORKERS):
                await found.transactional(db, operation, path(i))

        await asyncio.gather(*(worker(w) for w in range(WORKERS)))
    else:
        for i in range(count):
            await found.transactional(db, operation, path(i))
    return time.perf_counter() - started


def fdb_side(data: str, case: str, count: int) -> float:
    import ctypes

    import found.engine

    ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
    import fdb

    fdb.api_version(730)
    db = fdb.open(cluster_file=data)
    operation = fdb.directory.create if case == "create" else fdb.directory.open

    @fdb.transactional
    def create_batch(tr, first):
        for i in range(first, min(first + BATCH, count)):
            fdb.directory.create(tr, path(i))

    started = time.perf_counter()
    if case == "create":
        for first in range(0, count, BATCH):
            create_batch(db, first)
    elif case == "open-64":

        def worker(w):
            for i in range(w, count, WORKERS):
                operation(db, path(i))

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for i in range(count):
            operation(db, path(i))
    return time.perf_counter() - started


def run_side(side: str, data: str, case: str, count: int) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--side", side, "--case", case, "--data", data, "--directories", str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--directories", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--side", choices=("found", "fdb"))
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.side == "found":
        print(json.dumps(asyncio.run(found_side(args.data, args.case, args.directories))))
        return
    if args.side == "fdb":
        print(json.dumps(fdb_side(args.data, args.case, args.directories)))
        return
    n = args.directories
    with tempfile.TemporaryDirectory(prefix="found-directory-bench-") as scratch:
        shared = os.path.join(scratch, "shared")
        run_side("found", shared, "create", n)  # the directories the open cases read
        print("%-8s %12s %12s %8s" % ("case", "found op/s", "fdb op/s", "ratio"))
        for case in CASES:
            best = {"found": float("inf"), "fdb": float("inf")}
            for r in range(args.rounds):
                for side in ("found", "fdb") if r % 2 == 0 else ("fdb", "found"):
                    data = os.path.join(scratch, "%s-%s-%d" % (case, side, r)) if case == "create" else shared
                    best[side] = min(best[side], run_side(side, data, case, n))
            print("%-8s %12.0f %12.0f %7.2fx" % (case, n / best["found"], n / best["fdb"], best["fdb"] / best["found"]))


if __name__ == "__main__":
    main()
