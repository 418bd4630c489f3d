"""A transaction gives back its read snapshot (a slot of LMDB's reader table,
and the old pages it pins) when its attempt ends, however long the Python
object lives on (issue 12, item 2).

Before the fix a transaction kept its snapshot until it was reset or
destroyed: one ended by an exception stayed alive in the traceback (often a
cycle, until the garbage collector ran), and so did its slot; 4 processes ×
64 tasks ran out of the 1,024 slots. Each case below ends N transactions,
each reading a different snapshot (a commit in between), keeps every one of
them alive (gc off, the exceptions kept), and counts this process's live
slots: at most the store's own (its newest snapshot and the ring it retains
for set_read_version, STORE_RETAIN_SNAPSHOTS = 32).
"""
import asyncio
import gc
import os

import pytest

import found

from reader_table import live_slots

pytestmark = pytest.mark.engine_only

N = 80
STORE_OWN = 1 + 32


class Boom(Exception):
    pass


async def _read_then(tx, i, then):
    await found.get(tx, b"k")
    await found.set(tx, b"w%03d" % i, b"x")
    if then == "raise":
        raise Boom(tx)  # the exception refers to tx, as a traceback would
    if then == "conflict":
        await found.get(tx, b"hot")
        return
    if then == "hang":
        await asyncio.sleep(3600)


async def _end_one(db, i, how, kept):
    await found.transactional(db, found.set, b"k", b"%d" % i)  # the next snapshot differs
    if how == "user exception":
        try:
            await found.transactional(db, _read_then, i, "raise")
        except Boom as exc:
            kept.append(exc)
    elif how == "cancelled":
        task = asyncio.ensure_future(found.transactional(db, _read_then, i, "hang"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        kept.append(task)
    elif how == "committed, kept":
        tx = found.make_transaction(db)
        await _read_then(tx, i, None)
        await found.commit(tx)
        kept.append(tx)
    elif how == "commit conflict":
        tx = found.make_transaction(db)
        await _read_then(tx, i, "conflict")
        await found.transactional(db, found.set, b"hot", b"%d" % i)
        with pytest.raises(found.FoundException) as caught:
            await found.commit(tx)
        assert caught.value.code == 1020
        kept.append((tx, caught.value))
    elif how == "non-retryable error":
        try:
            await found.transactional(db, _read_then_fail, i)
        except found.FoundException as exc:
            assert exc.code == 2004
            kept.append(exc)
    elif how == "cancel()":
        tx = found.make_transaction(db)
        await _read_then(tx, i, None)
        found.cancel(tx)
        kept.append(tx)


async def _read_then_fail(tx, i):
    await found.get(tx, b"k")
    await found.get(tx, b"\xff\xff-outside")  # 2004 key_outside_legal_range, not retried


@pytest.mark.parametrize("how", ["user exception", "cancelled", "committed, kept", "commit conflict",
                                 "non-retryable error", "cancel()"])
async def test_an_ended_transaction_holds_no_reader_slot(directory, how):
    db = await found.open(directory)
    kept = []
    gc.disable()
    try:
        for i in range(N):
            await _end_one(db, i, how, kept)
        slots = live_slots(directory, os.getpid())
    finally:
        gc.enable()
    assert len(kept) == N
    assert slots <= STORE_OWN, "%s: %d slots held by %d ended transactions" % (how, slots, N)


async def test_after_a_failed_commit_reads_stay_at_the_read_version(db):
    await found.transactional(db, found.set, b"hot", b"0")
    tx = found.make_transaction(db)
    assert await found.get(tx, b"hot") == b"0"
    version = await found.read_version(tx)
    await found.set(tx, b"mine", b"1")
    await found.transactional(db, found.set, b"hot", b"1")
    with pytest.raises(found.FoundException) as caught:
        await found.commit(tx)  # the snapshot is given back here
    assert caught.value.code == 1020
    assert await found.read_version(tx) == version
    assert await found.get(tx, b"hot") == b"0"  # the same state, read again
