"""Misuses the type checkers must reject (.ci/typecheck): each marked line must be reported, and no other.

A line ending in ``# E: CODE`` expects mypy --strict's error code CODE there.
"""

import found
from found.ext import nstore

STORE = nstore.make("s", ("s",), 2)


def sync(tx: found.Transaction) -> int:
    return 1


async def misuse(db: found.Database, tx: found.Transaction) -> None:
    await found.get(tx, "key")  # E: arg-type
    await found.get(db, b"key")  # E: arg-type
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 1.5)  # E: arg-type
    length: int = await found.get(tx, b"key")  # E: assignment
    await nstore.add(db, STORE, "a", "b")  # E: arg-type
    await found.transactional(db, found.get, b"k", found_retry_limit="3")  # E: arg-type
    found.make_transaction(tx)  # E: arg-type
    await found.transactional(db, sync)  # E: arg-type
    print(length)
