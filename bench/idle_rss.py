#!/usr/bin/env python3
"""Idle memory: found against the official binding, both on the embedded engine.

    python3 bench/idle_rss.py [--runs 5]

Each side runs in a fresh process: import the client, open the database in a
fresh directory, read one key (so the client's threads have started), then
report the process's resident set (VmRSS of /proc/self/status) and how many
modules are imported, with bytecode caches as an installed package has them
(a first unmeasured run writes them). The sides alternate --runs times; medians and min-max
are printed, and the ratios of the medians (target <= 1).

The official binding runs twice: alone ("fdb"), and in an asyncio program
("fdb+asyncio": asyncio imported first), the fair peer for found, whose
programs are asyncio programs (asyncio and the ssl it imports are ~10 MB of
an idle CPython process). Its process loads the engine's libfdb_c by path
before ``import fdb`` (as bench/driver_bench.py does), without importing found.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _resident_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def found_side(directory: str) -> dict:
    import asyncio

    import found

    async def touch():
        db = await found.open(directory)
        await found.transactional(db, found.get, b"idle")
        return db

    db = asyncio.run(touch())
    report = {"kib": _resident_kib(), "modules": len(sys.modules)}
    del db
    return report


def fdb_side(directory: str, library: str, with_asyncio: bool) -> dict:
    import ctypes

    if with_asyncio:
        import asyncio  # noqa: F401

    ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
    import fdb

    fdb.api_version(730)
    db = fdb.open(directory)
    db[b"idle"]
    return {"kib": _resident_kib(), "modules": len(sys.modules)}


def _with_bytecode() -> dict:
    """The environment, but with .pyc files written and read: an installed
    package has them (pip compiles at install), a checkout may be run with
    PYTHONDONTWRITEBYTECODE, and compiling a module from source leaves its
    parse in the process's heap."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_side(side: str, library: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="found-rss-") as tmp:
        directory = os.path.join(tmp, "db")
        os.mkdir(directory)
        done = subprocess.run(
            [sys.executable, __file__, "--side", side, "--dir", directory, "--library", library],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_with_bytecode(),
        )
    if done.returncode:
        raise SystemExit("%s side failed:\n%s" % (side, done.stderr))
    return json.loads(done.stdout.strip().splitlines()[-1])


def spread(values) -> str:
    return "%.1f (%.1f-%.1f)" % (statistics.median(values), min(values), max(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--side", choices=["found", "fdb", "fdb+asyncio"])
    parser.add_argument("--dir")
    parser.add_argument("--library")
    args = parser.parse_args()
    if args.side == "found":
        print(json.dumps(found_side(args.dir)))
        return
    if args.side in ("fdb", "fdb+asyncio"):
        print(json.dumps(fdb_side(args.dir, args.library, args.side == "fdb+asyncio")))
        return
    sys.path.insert(0, ROOT)
    import found.engine

    library = found.engine.library_path()
    runs = {"found": [], "fdb": [], "fdb+asyncio": []}
    for side in runs:  # unmeasured: writes the .pyc files the measured runs read
        run_side(side, library)
    for _ in range(args.runs):
        for side in runs:
            runs[side].append(run_side(side, library))
    for side, reports in runs.items():
        print(
            "%-12s RSS %s MB, %s modules"
            % (side, spread([r["kib"] / 1024 for r in reports]), spread([r["modules"] for r in reports]))
        )
    found_kib = statistics.median(r["kib"] for r in runs["found"])
    for peer in ("fdb", "fdb+asyncio"):
        ratio = found_kib / statistics.median(r["kib"] for r in runs[peer])
        print("found / %-11s RSS %.3fx (target <= 1)" % (peer, ratio))


if __name__ == "__main__":
    main()
