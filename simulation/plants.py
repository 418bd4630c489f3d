"""Planted bugs, for proving that the harness catches what it claims to.

Available only when the environment variable FOUND_SIM_TEST_PLANTS=1 is set
(``--plant NAME`` is refused otherwise), so a normal run can never be
weakened by one. Each plant is a deliberately wrong variant of code a
workload relies on; tests/simulation/ shows the harness fails on each, with
a seed and the command that replays it.
"""

import os
import time

import found
from simulation.config import PLANTS_ENV

PLANTS = {
    "retry-keeps-vars": "a retry loop (in place of found.transactional) that does not clear tx.vars between retries",
    "counter-not-idempotent": "Counter skips its idempotency-marker check, so an ambiguous commit can apply twice",
    "nstore-skip-index": "nstore add writes every index permutation but the last",
    "bank-overdraft": "Bank transfers without checking the balance",
    "bstore-unguarded-release": "bstore releases with a force delete (bstore.delete) instead of release, taking the blob from its other holders",
    "client-hangs": "a client process blocks forever at its fifth operation (for the harness's watchdog)",
}


def allowed():
    """True when planted bugs may be used (FOUND_SIM_TEST_PLANTS=1)."""
    return os.environ.get(PLANTS_ENV) == "1"


def retry_loop(plants):
    """The retry loop the workloads' transactions go through."""
    if "retry-keeps-vars" in plants:
        return transactional_keeping_vars
    return found.transactional


async def transactional_keeping_vars(db, func, *args, **kwargs):
    """A faithful copy of transactional()'s contract but for one bug: tx.vars
    survives from one attempt to the next."""
    tx = found.make_transaction(db)
    started, retries = time.monotonic(), 0
    await _fire(db.hooks.on_begin, tx)
    while True:
        try:
            result = await func(tx, *args, **kwargs)
            await _fire(db.hooks.on_commit, tx)
            await found.commit(tx)
        except found.FoundException as error:
            await found.on_error(tx, error.code)
            retries += 1
            await _fire(db.hooks.on_begin, tx)
            continue
        stats = found.TransactionStats(retries, time.monotonic() - started, 0)
        await _fire(db.hooks.on_post_commit, tx, stats)
        return result


async def _fire(hooks, *args):
    for hook in hooks:
        await hook(*args)


async def nstore_add_skipping_one_index(tx, store, items, value):
    """nstore.add, except that the last index permutation is not written."""
    packed = [found.pack((item,)) for item in items]
    for number, order in enumerate(store.indices[:-1]):
        await found.set(tx, store.index_prefix(number) + b"".join(packed[c] for c in order), value)
