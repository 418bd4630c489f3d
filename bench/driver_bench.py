"""found's driver against the official binding (fdb 7.3), both on the embedded engine.

Each side runs in its own interpreter (one FoundationDB library per process)
on the same engine directory and data, in the same run; the ratios printed
are found's throughput over fdb's.

    python3 bench/driver_bench.py [--pairs 1000000] [--transactions 20000]

Cases:
- read-tx: single-key read transactions, 64 asyncio tasks with
  found.transactional vs 64 threads with @fdb.transactional (target >= 3x);
- gets: 10,000 sequential gets inside one transaction (target >= 1.5x);
- stream: iterating over the whole --pairs range, found.query vs fdb
  get_range (target >= 1.5x), with each side's heap growth while streaming
  (sampled anonymous RSS: flat memory) and peak RSS growth, which includes
  the pages of the engine's memory-mapped data file that were read.
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SEQUENTIAL_GETS = 10_000
TASKS = 64
SMALL_KEYS = 10_000


def key(i: int) -> bytes:
    return b"bench/%08d" % i


def value(i: int) -> bytes:
    return b"value-%08d-%s" % (i, b"x" * 16)


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def anon_kib() -> int:
    """Anonymous resident memory (heap), leaving out the engine's memory-mapped data file."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


SAMPLE_EVERY = 50_000


# --- found side


async def found_load(directory: str, pairs: int) -> None:
    import found

    db = await found.open(directory)

    async def write(tx, start, stop):
        for i in range(start, stop):
            await found.set(tx, key(i), value(i))

    for start in range(0, pairs, 10_000):
        await found.transactional(db, write, start, min(pairs, start + 10_000))


async def found_side(directory: str, case: str, count: int) -> dict:
    import found

    db = await found.open(directory)
    if case == "read-tx":

        async def read(tx, k):
            return await found.get(tx, k)

        async def worker(w):
            for n in range(w, count, TASKS):
                await found.transactional(db, read, key(n % SMALL_KEYS))

        start = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(TASKS)))
        return {"seconds": time.perf_counter() - start, "ops": count}
    if case == "gets":

        async def gets(tx):
            get = found.get
            for i in range(SEQUENTIAL_GETS):
                await get(tx, key(i))

        start = time.perf_counter()
        await found.transactional(db, gets)
        return {"seconds": time.perf_counter() - start, "ops": SEQUENTIAL_GETS}
    if case == "stream":
        before = rss_kib()

        heap = [anon_kib()]

        async def stream(tx):
            n = 0
            async for _ in found.query(tx, b"bench/", b"bench0"):
                n += 1
                if n % SAMPLE_EVERY == 0:
                    heap.append(anon_kib())
            return n

        start = time.perf_counter()
        n = await found.transactional(db, stream)
        return {
            "seconds": time.perf_counter() - start,
            "ops": n,
            "rss_growth_kib": rss_kib() - before,
            "heap_growth_kib": max(heap) - heap[0],
        }
    raise ValueError(case)


# --- fdb side


def fdb_side(directory: str, case: str, count: int) -> dict:
    import ctypes

    import found.engine

    ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
    import fdb

    fdb.api_version(730)
    db = fdb.open(directory)
    if case == "read-tx":

        @fdb.transactional
        def read(tr, k):
            return tr.get(k).wait()

        def worker(w):
            for n in range(w, count, TASKS):
                read(db, key(n % SMALL_KEYS))

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(TASKS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {"seconds": time.perf_counter() - start, "ops": count}
    if case == "gets":

        @fdb.transactional
        def gets(tr):
            for i in range(SEQUENTIAL_GETS):
                tr.get(key(i)).wait()

        start = time.perf_counter()
        gets(db)
        return {"seconds": time.perf_counter() - start, "ops": SEQUENTIAL_GETS}
    if case == "stream":
        before = rss_kib()

        heap = [anon_kib()]

        @fdb.transactional
        def stream(tr):
            n = 0
            for _ in tr.get_range(b"bench/", b"bench0"):
                n += 1
                if n % SAMPLE_EVERY == 0:
                    heap.append(anon_kib())
            return n

        start = time.perf_counter()
        n = stream(db)
        return {
            "seconds": time.perf_counter() - start,
            "ops": n,
            "rss_growth_kib": rss_kib() - before,
            "heap_growth_kib": max(heap) - heap[0],
        }
    raise ValueError(case)


def run_side(side: str, directory: str, case: str, count: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--side", side, "--case", case, "--dir", directory, "--transactions", str(count)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit("%s %s failed:\n%s" % (side, case, done.stderr))
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side, alternating; the best counts")
    parser.add_argument("--cases", default="read-tx,gets,stream")
    parser.add_argument("--side", choices=["found", "fdb"])
    parser.add_argument("--case")
    parser.add_argument("--dir")
    args = parser.parse_args()
    if args.side == "found":
        print(json.dumps(asyncio.run(found_side(args.dir, args.case, args.transactions))))
        return
    if args.side == "fdb":
        print(json.dumps(fdb_side(args.dir, args.case, args.transactions)))
        return
    with tempfile.TemporaryDirectory(prefix="found-bench-") as tmp:
        directory = os.path.join(tmp, "db")
        started = time.perf_counter()
        asyncio.run(found_load(directory, max(args.pairs, SEQUENTIAL_GETS)))
        print("loaded %d pairs in %.1f s" % (max(args.pairs, SEQUENTIAL_GETS), time.perf_counter() - started))
        targets = {"read-tx": 3.0, "gets": 1.5, "stream": 1.5}
        for case in args.cases.split(","):
            runs = {"found": [], "fdb": []}
            for _ in range(args.repeat):  # alternate, so both sides see the same machine load
                for side in ("found", "fdb"):
                    runs[side].append(run_side(side, directory, case, args.transactions))
            ours = min(runs["found"], key=lambda r: r["seconds"])
            theirs = min(runs["fdb"], key=lambda r: r["seconds"])
            rate_ours = ours["ops"] / ours["seconds"]
            rate_theirs = theirs["ops"] / theirs["seconds"]
            line = "%-8s found %10.0f ops/s   fdb %10.0f ops/s   ratio %5.2fx (target >= %.1fx)" % (
                case,
                rate_ours,
                rate_theirs,
                rate_ours / rate_theirs,
                targets[case],
            )
            if "rss_growth_kib" in ours:
                line += (
                    "\n         heap growth while streaming %d pairs (sampled RssAnon): found %d KiB, fdb %d KiB;"
                    " peak RSS growth incl. the mapped data file: found %d KiB, fdb %d KiB"
                    % (
                        ours["ops"],
                        ours["heap_growth_kib"],
                        theirs["heap_growth_kib"],
                        ours["rss_growth_kib"],
                        theirs["rss_growth_kib"],
                    )
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
