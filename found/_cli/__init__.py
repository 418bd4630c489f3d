"""The ``found`` command (``python -m found``): inspect a database and move data in and out of it.

One module per group of subcommands (info, keys, transfer); each adds its
parsers with ``register(sub)`` and sets ``run``, a coroutine taking the
parsed arguments and returning the exit status.  Documented in docs/cli.md.
"""

import argparse
import asyncio
import signal
import sys
from typing import List, Optional

import found
from found._cli import info, keys, transfer
from found._cli.common import EXIT_FAILED, EXIT_INTERRUPTED, CommandError, HelpFormatter, Interrupted, examples, fail
from found._dump import DumpError

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The argument parser of the whole command."""
    top = argparse.ArgumentParser(
        prog="found",
        formatter_class=HelpFormatter,
        description="Inspect a FoundationDB database or an embedded engine directory, and move data between them.",
        epilog=examples(
            "found info",
            "found set hello world -d ./data",
            "found range --prefix user/ -d ./data",
            "found dump ./data -o data.fdump",
            "found load data.fdump /etc/foundationdb/fdb.cluster",
            "found copy ./data /etc/foundationdb/fdb.cluster",
            "found COMMAND --help   # each command's options and examples",
        ),
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    info.register(sub)
    keys.register(sub)
    transfer.register(sub)
    return top


async def _interruptible(command):
    """Run ``command`` with Ctrl-C cancelling it rather than raising KeyboardInterrupt.

    Before Python 3.11 (and on PyPy) asyncio.run lets SIGINT raise
    KeyboardInterrupt wherever the loop happens to be, which can leave a task
    half-stepped and asyncio.run's clean-up waiting for it forever.  Here the
    first Ctrl-C cancels the command's task, so its ``finally`` blocks run
    (a dump removes its .partial file, a load keeps its resume record), and
    ``Interrupted`` is raised once it has unwound (an Exception, not
    KeyboardInterrupt, which asyncio would leave stored in the finished task);
    a second Ctrl-C, for a command that does not unwind, raises
    KeyboardInterrupt from the loop at once.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupted = []

    def on_sigint() -> None:
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(True)
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        return await command
    try:
        return await command
    except asyncio.CancelledError:
        if interrupted:
            raise Interrupted from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line ``argv`` (default sys.argv[1:]); the exit status."""
    args = parser().parse_args(argv)
    try:
        return asyncio.run(_interruptible(args.run(args)))
    except (Interrupted, KeyboardInterrupt):
        print("\nfound %s: interrupted" % args.command, file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CommandError, DumpError) as exc:
        return fail(args.command, str(exc))
    except found.BaseFoundException as exc:
        return fail(args.command, "%s: %s" % (type(exc).__name__, exc))
    except BrokenPipeError:
        return EXIT_FAILED
