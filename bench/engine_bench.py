#!/usr/bin/env python3
"""Embedded engine speed, as ratios to raw LMDB measured in the same run.

    python3 bench/engine_bench.py [--point 200000] [--commits 40] [--range 1000000] [--rounds 3]

Builds the engine (make -C ffi/engine) and bench/engine_bench.c, then runs:
  (a) point reads through fdb_transaction_get in one transaction vs an
      mdb_get loop over the same keys (target >= 0.5x);
  (b) durable small commits from 64 writer threads (group commit) vs one
      LMDB write transaction + fsync per commit on one thread (target >= 20x,
      issue #15's for blocking writer threads);
      the writers' keys interleave (the i-th commits of the 64 threads write
      64 neighbouring keys after those of the (i-1)-th) as the raw loop's
      keys follow each other, so both append to neighbouring pages.
      The two sides alternate in slices; the ratio follows the disk's fsync
      latency at the time (a fast fsync leaves the engine's thread hand-offs
      as the limit).
  (b') durable_callbacks: the same 64 writers as callback chains (each
      commit's callback starts the writer's next transaction), as
      FoundationDB's own client and found's asyncio driver wait: no OS thread
      per writer, so no thread switch per commit.
  (b'') group_ceiling: raw LMDB with 64 writes per durable commit on one
      thread vs the same one-write loop: what any group commit over LMDB
      could reach on this disk (its larger commits flush more pages), with
      no thread hand-offs at all. The engine's share of it is printed too.
  (c) a range read of small pairs through fdb_transaction_get_range
      (iterator mode, batch after batch) vs an LMDB cursor scan (target >= 0.5x).
Each round runs everything in a fresh directory; the median ratio of the
rounds is reported (the disk's fsync latency varies from moment to moment).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "ffi", "engine")
BUILD = os.path.join(ENGINE, "build")
TARGETS = {
    "point_reads": 0.5,
    "durable_commits": 20.0,
    "durable_callbacks": None,  # the reference of bench/commit_bench.py's ratio, no target of its own
    "group_ceiling": None,
    "range_read": 0.5,
}


def build():
    subprocess.run(["make", "-s", "-C", ENGINE], check=True)
    exe = os.path.join(BUILD, "engine_bench")
    subprocess.run(
        [
            "cc",
            "-O2",
            "-std=c11",
            "-D_GNU_SOURCE",
            "-I",
            os.path.join(ROOT, "ffi", "include"),
            os.path.join(ROOT, "bench", "engine_bench.c"),
            "-o",
            exe,
            "-L",
            BUILD,
            "-lfdb_c",
            "-llmdb",
            "-pthread",
            "-Wl,-rpath," + BUILD,
        ],
        check=True,
    )
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--point", type=int, default=200000, help="keys read one by one")
    ap.add_argument("--commits", type=int, default=400, help="commits per writer thread (64 threads)")
    ap.add_argument("--range", type=int, default=1000000, help="pairs read by the range read")
    ap.add_argument("--rounds", type=int, default=3, help="runs; the median ratio is reported")
    ap.add_argument("--dir", default=None, help="where to put the databases (default: a temp dir)")
    args = ap.parse_args()
    exe = build()
    rows = {}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(dir=args.dir) as d:
            out = subprocess.run(
                [exe, d, str(args.point), str(args.commits), str(args.range)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        for line in out.splitlines():
            name, engine, raw = line.split()
            rows.setdefault(name, []).append((float(engine) / float(raw), float(engine), float(raw)))
    print(f"{'benchmark':<18}{'engine/s':>14}{'raw LMDB/s':>14}{'ratio':>9}{'target':>9}   all ratios")
    for name, runs in rows.items():
        ratio, engine, raw = statistics.median_low(runs)
        spread = " ".join(f"{r[0]:.2f}" for r in runs)
        target = f"{TARGETS[name]:>8.1f}x" if TARGETS[name] else f"{'-':>9}"
        print(f"{name:<18}{engine:>14,.0f}{raw:>14,.0f}{ratio:>8.2f}x{target}   {spread}")
    if "group_ceiling" in rows:
        shares = [d[0] / c[0] for d, c in zip(rows["durable_commits"], rows["group_ceiling"])]
        print(
            f"durable_commits reach {statistics.median_low(shares):.0%} of the group ceiling "
            f"(rounds: {' '.join(f'{x:.0%}' for x in shares)})"
        )


if __name__ == "__main__":
    sys.exit(main())
