"""found's binding tester with asyncio tasks: ``python -m found.tester_aio PREFIX API_VERSION [CLUSTER_FILE]``.

Every START_THREAD runs its stack machine as an asyncio task on the one
event loop (found._tester; docs/testers.md).
"""

import asyncio
import sys
from typing import List

import found
from found._tester.cli import main
from found._tester.machine import Shared


async def _join(tasks: List["asyncio.Task[None]"]) -> None:
    await asyncio.gather(*tasks)


def _shared(db: found.Database) -> Shared:
    return Shared(db, lambda machine: asyncio.ensure_future(machine.run()), _join)


if __name__ == "__main__":
    sys.exit(main("found.tester_aio", _shared, sys.argv[1:]))
