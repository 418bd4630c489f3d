"""The command line both testers share: ``PREFIX API_VERSION [CLUSTER_FILE]``."""

import asyncio
import sys
from typing import Callable, List, Optional

import found
from found._tester.machine import Shared, StackMachine

USAGE = "usage: python -m %s PREFIX API_VERSION [CLUSTER_FILE]"


async def run_root(cluster_file: Optional[str], prefix: bytes, make_shared: Callable[[found.Database], Shared]) -> None:
    """Open the database and run the stack machine of ``prefix`` (and those it starts)."""
    db = await found.open(cluster_file)
    await StackMachine(make_shared(db), prefix).run()


def main(module: str, make_shared: Callable[[found.Database], Shared], argv: List[str]) -> int:
    """Check the arguments and run; the exit status is 0 only if every machine finished."""
    if len(argv) not in (2, 3):
        print(USAGE % module, file=sys.stderr)
        return 2
    if argv[1] != str(found.VERSION):
        # The official tester selects the version it is given (older ones change
        # behaviour, e.g. versionstamp offsets); found implements 730 alone.
        print("found implements FoundationDB API version %d only, not %s" % (found.VERSION, argv[1]), file=sys.stderr)
        return 2
    cluster_file = argv[2] if len(argv) == 3 else None
    asyncio.run(run_root(cluster_file, argv[0].encode("ascii"), make_shared))
    return 0
