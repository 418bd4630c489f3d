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
for set_read_version, STORE_RETAIN_SNAPSHOTS = 8).
"""

import asyncio
import gc
import os
import subprocess
import sys
import time

import pytest

import found
from driver_support import ROOT
from reader_table import live_slots

pytestmark = pytest.mark.engine_only

N = 120  # well above the store's own slots
STORE_OWN = 1 + 32  # the newest snapshot + the ring kept for set_read_version (STORE_RETAIN_SNAPSHOTS)


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
            assert exc.code == 2113
            kept.append(exc)
    elif how == "cancel()":
        tx = found.make_transaction(db)
        await _read_then(tx, i, None)
        found.cancel(tx)
        kept.append(tx)


async def _read_then_fail(tx, i):
    await found.get(tx, b"k")
    await found.get(tx, b"\xff\xff-outside")  # 2113 special_keys_no_module_found, not retried


@pytest.mark.parametrize(
    "how", ["user exception", "cancelled", "committed, kept", "commit conflict", "non-retryable error", "cancel()"]
)
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


_HOLD_A_SNAPSHOT = """
import asyncio, sys
import found

async def main():
    db = await found.open(sys.argv[1])
    tx = found.make_transaction(db)
    await found.get(tx, b"k")        # holds a snapshot, so a reader slot
    print("holding", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_slots_of_a_killed_process_are_cleared_while_commits_go_on(directory):
    # A process killed mid-read leaves its reader slots behind, pinning every
    # page freed since. They were cleared only when a store had been idle for
    # a second, so a steady load kept them (and the file grew) for ever.
    db = await found.open(directory)
    await found.transactional(db, found.set, b"k", b"0")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_SNAPSHOT, directory], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout.readline() == "holding\n"
    assert live_slots(directory, child.pid) >= 1
    child.kill()
    child.wait()
    # commit without a pause (the commit thread is never idle for a second)
    # until the dead slots are gone; 30 s is far more than the check's period
    started = time.monotonic()
    i = 0
    while live_slots(directory, child.pid) and time.monotonic() - started < 30:
        i += 1
        await found.transactional(db, found.set, b"k", b"%d" % i)
    assert live_slots(directory, child.pid) == 0


async def _conflicting_increments(db, rounds=3, tasks=64):
    """rounds × tasks increments of b"hot" at once: most attempts conflict and are retried."""

    async def increment(tx):
        value = await found.get(tx, b"hot")
        await asyncio.sleep(0)  # let the others read the same value: conflicts
        await found.set(tx, b"hot", b"%d" % (int(value or b"0") + 1))

    for _ in range(rounds):
        await asyncio.gather(*(found.transactional(db, increment) for _ in range(tasks)))


async def test_retried_transactions_give_back_their_reader_slots(directory):
    # What a retried attempt kept alive (issue 12) used to hold: its
    # snapshot's reader slot. Whatever outlives the calls (gc off, so on
    # PyPy every object does), the slots are back once they return.
    db = await found.open(directory)
    gc.collect()
    gc.disable()
    try:
        await _conflicting_increments(db)
        slots = live_slots(directory, os.getpid())
    finally:
        gc.enable()
    assert await found.transactional(db, found.get, b"hot") == b"192"
    assert slots <= STORE_OWN, "%d slots held after 192 conflicting increments" % slots


async def test_retried_transactions_are_not_kept_alive_in_cycles(db):
    # A retried attempt's exception held a traceback through the retry
    # loop's frame, which held the exception: a cycle per conflicted call,
    # freed only by the garbage collector (1,264 transactions alive after
    # 3 s in the run). Reference counting frees what no cycle
    # holds: CPython only (docs/build.md's PyPy table).
    from found._transaction import Transaction

    gc.collect()
    gc.disable()
    try:
        await _conflicting_increments(db)
        # This database's transactions only: earlier tests may keep others alive.
        alive = sum(isinstance(o, Transaction) and o.db is db for o in gc.get_objects())
    finally:
        gc.enable()
    assert await found.transactional(db, found.get, b"hot") == b"192"
    assert alive <= len(db._spare)
