"""found's binding tester with OS threads: ``python -m found.tester_pthread PREFIX API_VERSION [CLUSTER_FILE]``.

Every START_THREAD runs its stack machine in a thread of its own, on that
thread's own event loop; all of them share the one database (found._tester;
docs/testers.md).
"""

import asyncio
import sys
import threading
from typing import List

import found
from found._tester.cli import main
from found._tester.machine import Shared, StackMachine


class _Thread(threading.Thread):
    """A stack machine on its own event loop; ``error`` is what stopped it, if anything."""

    def __init__(self, machine: StackMachine) -> None:
        super().__init__(name="tester-%r" % (machine.prefix,))
        self.machine = machine
        self.error = None

    def run(self) -> None:
        try:
            asyncio.run(self.machine.run())
        except BaseException as exc:  # noqa: B902 — reported by the joining machine
            self.error = exc


def _start(machine: StackMachine) -> _Thread:
    thread = _Thread(machine)
    thread.start()
    return thread


async def _join(threads: List[_Thread]) -> None:
    loop = asyncio.get_running_loop()
    for thread in threads:
        await loop.run_in_executor(None, thread.join)
        if thread.error is not None:
            raise thread.error


def _shared(db: found.Database) -> Shared:
    return Shared(db, _start, _join)


if __name__ == "__main__":
    sys.exit(main("found.tester_pthread", _shared, sys.argv[1:]))
