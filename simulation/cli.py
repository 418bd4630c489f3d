"""Command line of ``python -m simulation``.

Exit status: 0 when every invariant held, 1 on any violation (or when a
replay of a deterministic run diverges from its log), 2 on bad usage, 130
when interrupted (after printing the summary so far).
"""

import argparse
import asyncio
import random
import sys

from simulation import plants, report, runlog, workloads
from simulation.config import DEFAULT_FAULT_RATE, DEFAULT_TRANSACTIONS, Config
from simulation.runner import Runner


def parser():
    """The command-line parser of ``python -m simulation``."""
    p = argparse.ArgumentParser(
        prog="python -m simulation",
        description="Seeded randomized workloads with fault injection against found "
        "(the embedded engine by default, or a FoundationDB cluster).",
    )
    p.add_argument("--seed", type=int, help="run seed (default: random, printed in the summary)")
    amount = p.add_mutually_exclusive_group()
    amount.add_argument(
        "--transactions",
        type=_positive,
        metavar="N",
        help="operations in total over all clients and tasks (default %d)" % DEFAULT_TRANSACTIONS,
    )
    amount.add_argument("--duration", type=float, metavar="SECONDS", help="run for this long instead")
    p.add_argument(
        "--workload",
        action="append",
        choices=workloads.NAMES + ("all",),
        metavar="NAME",
        help="workload to run, repeatable (default: all): %s" % ", ".join(workloads.NAMES),
    )
    p.add_argument("--clients", type=_positive, default=1, help="client processes (default 1)")
    p.add_argument("--tasks", type=_positive, default=1, help="asyncio tasks per client (default 1)")
    p.add_argument(
        "--cluster-file",
        help="a real FoundationDB cluster (default: the embedded engine in a fresh temporary directory)",
    )
    p.add_argument(
        "--faults",
        choices=("on", "off"),
        default="on",
        help="engine fault injection, and kill -9 of clients when --clients > 1 (default on)",
    )
    p.add_argument(
        "--fault-rate",
        type=int,
        default=DEFAULT_FAULT_RATE,
        metavar="PERCENT",
        help="chance that an injection point fires each time it is reached (default %d)" % DEFAULT_FAULT_RATE,
    )
    p.add_argument("--log", metavar="FILE", help="write the run log (JSON lines) to FILE")
    p.add_argument(
        "--replay",
        metavar="FILE",
        help="rerun the configuration of a run log and compare its operations with the logged ones",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory even on success")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument(
        "--plant",
        action="append",
        default=[],
        metavar="BUG",
        help=argparse.SUPPRESS
        if not plants.allowed()
        else "plant a known bug (test-only): %s" % ", ".join(plants.PLANTS),
    )
    return p


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1, got %s" % text)
    return value


def config_from(args):
    """The Config the parsed arguments describe."""
    names = args.workload or ["all"]
    chosen = list(workloads.NAMES) if "all" in names else list(dict.fromkeys(names))
    if args.duration is not None:
        transactions, duration = None, args.duration
    else:
        transactions, duration = args.transactions or DEFAULT_TRANSACTIONS, None
    return Config(
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(10**9),
        workloads=chosen,
        transactions=transactions,
        duration=duration,
        clients=args.clients,
        tasks=args.tasks,
        cluster_file=args.cluster_file,
        faults=args.faults == "on",
        fault_rate=args.fault_rate,
        log=args.log,
        plants=args.plant,
        keep=args.keep,
    )


def main(argv=None):
    """Run the simulation; return the exit status."""
    args = parser().parse_args(argv)
    if args.plant and not plants.allowed():
        parser().error("--plant is only available with FOUND_SIM_TEST_PLANTS=1")
    unknown = [p for p in args.plant if p not in plants.PLANTS]
    if unknown:
        parser().error("unknown plant(s) %s; known: %s" % (", ".join(unknown), ", ".join(plants.PLANTS)))
    if not 0 <= args.fault_rate <= 100:
        parser().error("--fault-rate must be between 0 and 100")
    logged = None
    if args.replay:
        config, logged = runlog.read(args.replay)
        config.log, config.keep = args.log, args.keep
    else:
        config = config_from(args)
    progress = report.Progress(config, stream=None if args.quiet else sys.stderr)
    runner = Runner(config, progress=progress, collect_ops=logged is not None)
    try:
        outcome = asyncio.run(runner.run())
    except KeyboardInterrupt:
        # Clients are gone (killed, or dying with us); report what was done.
        runner.outcome.interrupted = True
        print(report.summary(runner.outcome))
        return 130
    print(report.summary(outcome))
    status = 0 if outcome.ok else 1
    if logged is not None:
        status = max(status, _compare_replay(config, logged, outcome.ops))
    return status


def _compare_replay(config, logged, replayed):
    deterministic = config.clients == 1 and config.tasks == 1 and not config.cluster_file
    difference = runlog.compare_ops(logged, replayed)
    if difference is None:
        print("replay: the same %d operations with the same outcomes as the log" % len(replayed))
        return 0
    if deterministic:
        print("replay DIVERGED from the log: " + difference)
        return 1
    print("replay differs from the log (expected: several tasks or clients interleave freely): " + difference)
    return 0
