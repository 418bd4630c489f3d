#!/usr/bin/env python3
"""Durable commits from 64 asyncio tasks next to the engine's own C callback writers.

    python3 bench/commit_bench.py [--commits 200] [--rounds 5] [--tree DIR]

found: 64 asyncio tasks, each committing --commits one-key transactions with
found.transactional (every commit durable, as the engine's are). The
reference: bench/engine_bench.c's ``durable_callbacks``, the same 64 writers
written in C as callback chains (each commit's callback starts the writer's
next transaction), with no Python at all: the rate the engine's group commit
gives on this disk at this moment. The two alternate, each in a fresh
process and directory, for --rounds rounds; the ratio found/C is computed
round by round and reported as median (min-max).

--tree runs the found side from another source tree (built in place); given
more than once, every tree runs in every round, to compare versions of the
driver against the same reference. --dir /dev/shm takes the disk out (fsync
is free there): the engine's group commit and the driver are then the limit.

Fairness between runs, each of which was found to move results by 5-10 %:
the runs of a round go in a random order (--seed), each after os.sync(), so
no run pays for the write-back of the one before; and every tree's modules
are compiled once into a bytecode cache of the benchmark's own before the
rounds, so no tree compiles its sources at every start (with
PYTHONDONTWRITEBYTECODE set, or stale caches, one would).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASKS = 64

FOUND_SIDE = r"""
import asyncio, sys, time
import found

async def main(directory, per_task):
    db = await found.open(directory)

    async def write(tx, i):
        await found.set(tx, b"c%%08d" %% i, b"v")

    async def writer(w):
        for n in range(per_task):
            await found.transactional(db, write, n * %(tasks)d + w)

    await found.transactional(db, write, -1)  # the store exists and is warm
    start = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(%(tasks)d)))
    print(%(tasks)d * per_task / (time.perf_counter() - start))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
""" % {"tasks": TASKS}


def engine_bench():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import engine_bench as eb

    return eb.build()


def found_env(tree, pycache):
    env = dict(os.environ, PYTHONPATH=tree, PYTHONPYCACHEPREFIX=os.path.join(pycache, str(abs(hash(tree)))))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_tree(tree, pycache):
    """Fill the benchmark's bytecode cache for the tree's found (the same for every tree)."""
    subprocess.run(
        [sys.executable, "-c", "import found, found._transactional"], env=found_env(tree, pycache), check=True
    )


def found_rate(tree, directory, per_task, pycache):
    env = found_env(tree, pycache)
    done = subprocess.run(
        [sys.executable, "-c", FOUND_SIDE, directory, str(per_task)], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit("found side failed:\n" + done.stderr)
    return float(done.stdout.split()[-1])


def callbacks_rate(exe, directory, per_task):
    out = subprocess.run([exe, directory, "1", str(per_task), "1"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, engine, _raw = line.split()
        if name == "durable_callbacks":
            return float(engine)
    raise SystemExit("engine_bench printed no durable_callbacks line:\n" + out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commits", type=int, default=200, help="commits per task (and per C writer)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tree", action="append", help="source tree whose found is measured (default: this one)")
    ap.add_argument("--dir", default=None, help="where the stores go (default: a temp dir)")
    ap.add_argument("--seed", type=int, default=1, help="orders the runs of each round")
    args = ap.parse_args()
    trees = args.tree or [ROOT]
    exe = engine_bench()
    ours, theirs = {tree: [] for tree in trees}, []
    order = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as pycache:
        for tree in trees:
            compile_tree(tree, pycache)
        for _ in range(args.rounds):
            runs = trees + [None]  # None: the C reference
            order.shuffle(runs)
            for tree in runs:
                with tempfile.TemporaryDirectory(dir=args.dir) as d:
                    os.sync()
                    if tree is None:
                        theirs.append(callbacks_rate(exe, d, args.commits))
                    else:
                        ours[tree].append(found_rate(tree, os.path.join(d, "found"), args.commits, pycache))

    def spread(values, fmt):
        return "%s (%s-%s)" % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))

    print("%d tasks x %d durable commits, %d rounds, median (min-max)" % (TASKS, args.commits, args.rounds))
    print("  C callback writers    %s commits/s" % spread(theirs, "%.0f"))
    for tree in trees:
        ratios = [a / b for a, b in zip(ours[tree], theirs)]
        print("found from %s" % tree)
        print("  found asyncio tasks   %s commits/s" % spread(ours[tree], "%.0f"))
        print("  found / C             %s   (target >= 0.6x)" % spread(ratios, "%.2fx"))
        print("  rounds: " + " ".join("%.2f" % r for r in ratios))
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print("(%.0f s)" % (time.perf_counter() - start))
    sys.exit(code)
