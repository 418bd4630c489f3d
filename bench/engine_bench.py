#!/usr/bin/env python3
"""Embedded engine speed, as ratios to raw LMDB measured in the same run.

    python3 bench/engine_bench.py [--point 200000] [--commits 40] [--range 1000000]

Builds the engine (make -C ffi/engine) and bench/engine_bench.c, then runs:
  (a) point reads through fdb_transaction_get in one transaction vs an
      mdb_get loop over the same keys (target >= 0.5x);
  (b) durable small commits from 64 writer threads (group commit) vs one
      LMDB write transaction + fsync per commit on one thread (target >= 30x);
  (c) a range read of small pairs through fdb_transaction_get_range
      (iterator mode, batch after batch) vs an LMDB cursor scan (target >= 0.5x).
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "ffi", "engine")
BUILD = os.path.join(ENGINE, "build")
TARGETS = {"point_reads": 0.5, "durable_commits": 30.0, "range_read": 0.5}


def build():
    subprocess.run(["make", "-s", "-C", ENGINE], check=True)
    exe = os.path.join(BUILD, "engine_bench")
    subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-I", os.path.join(ROOT, "ffi", "include"),
                    os.path.join(ROOT, "bench", "engine_bench.c"), "-o", exe,
                    "-L", BUILD, "-lfdb_c", "-llmdb", "-pthread", "-Wl,-rpath," + BUILD], check=True)
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--point", type=int, default=200000, help="keys read one by one")
    ap.add_argument("--commits", type=int, default=40, help="commits per writer thread (64 threads)")
    ap.add_argument("--range", type=int, default=1000000, help="pairs read by the range read")
    ap.add_argument("--dir", default=None, help="where to put the databases (default: a temp dir)")
    args = ap.parse_args()
    exe = build()
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        out = subprocess.run([exe, d, str(args.point), str(args.commits), str(args.range)],
                             check=True, capture_output=True, text=True).stdout
    print(f"{'benchmark':<18}{'engine/s':>14}{'raw LMDB/s':>14}{'ratio':>9}{'target':>9}")
    for line in out.splitlines():
        name, engine, raw = line.split()
        ratio = float(engine) / float(raw)
        print(f"{name:<18}{float(engine):>14,.0f}{float(raw):>14,.0f}{ratio:>8.2f}x{TARGETS[name]:>8.1f}x")


if __name__ == "__main__":
    sys.exit(main())
