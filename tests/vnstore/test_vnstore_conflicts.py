"""change_apply refuses a change whose tuples another change modified (applied)
after it started; history order is the apply commit order. Together they
prevent lost updates between concurrent changes."""

import asyncio
import random

import pytest

from found.ext import nstore, vnstore
from vnstore_helpers import T, alive, commit_change, create, edit


async def test_second_change_on_the_same_tuple_is_refused(db, store):
    await commit_change(db, store, adds=[("k", "count", 0)])
    one = await create(db, store)
    two = await create(db, store)
    await edit(db, store, one, adds=[("k", "count", 1)], removes=[("k", "count", 0)])
    await edit(db, store, two, adds=[("k", "count", 1)], removes=[("k", "count", 0)])
    await T(db, vnstore.change_apply, store, one)
    with pytest.raises(vnstore.ChangeConflict) as caught:
        await T(db, vnstore.change_apply, store, two)
    error = caught.value
    assert isinstance(error, vnstore.VNStoreException)
    assert error.changeid == two
    assert sorted(error.conflicts, key=repr) == [(("k", "count", 0), one), (("k", "count", 1), one)]
    assert two.hex in str(error) and one.hex in str(error)
    # The refused change stays pending and the data is as ``one`` left it.
    assert (await T(db, vnstore.change_get, store, two))["significance"] is None
    assert await alive(db, store) == [("k", "count", 1)]


async def test_conflict_is_found_even_when_edits_come_after_the_other_apply(db, store):
    # ``late`` started before ``early`` was applied: its edits, though made
    # later, belong to a change whose start predates ``early``'s commit.
    late = await create(db, store)
    await commit_change(db, store, adds=[("k", "v", 1)])
    await edit(db, store, late, adds=[("k", "v", 1)])
    with pytest.raises(vnstore.ChangeConflict):
        await T(db, vnstore.change_apply, store, late)


async def test_changes_on_different_tuples_both_apply(db, store):
    one = await create(db, store)
    two = await create(db, store)
    await edit(db, store, one, adds=[("a", "p", 1)])
    await edit(db, store, two, adds=[("b", "p", 1)])
    await T(db, vnstore.change_apply, store, one)
    await T(db, vnstore.change_apply, store, two)
    assert await alive(db, store) == [("a", "p", 1), ("b", "p", 1)]


async def test_change_started_after_the_other_applied_is_accepted(db, store):
    await commit_change(db, store, adds=[("k", "v", 1)])
    after = await create(db, store)
    await edit(db, store, after, removes=[("k", "v", 1)], adds=[("k", "v", 2)])
    await T(db, vnstore.change_apply, store, after)
    assert await alive(db, store) == [("k", "v", 2)]


async def test_pending_changes_do_not_conflict(db, store):
    one = await create(db, store)
    two = await create(db, store)
    await edit(db, store, one, adds=[("k", "v", 1)])
    await edit(db, store, two, adds=[("k", "v", 1)])
    # ``one`` is never applied: ``two`` is free to go.
    await T(db, vnstore.change_apply, store, two)
    assert await alive(db, store) == [("k", "v", 1)]


async def test_concurrent_applies_of_conflicting_changes_let_exactly_one_win(db, store):
    await commit_change(db, store, adds=[("k", "owner", "nobody")])
    changes = [await create(db, store) for _ in range(6)]
    for changeid in changes:
        # Each one takes ownership: all touch ("k", "owner", "nobody").
        await edit(db, store, changeid, adds=[("k", "owner", changeid.hex)], removes=[("k", "owner", "nobody")])

    async def apply(changeid):
        try:
            await T(db, vnstore.change_apply, store, changeid)
            return changeid
        except vnstore.ChangeConflict:
            return None

    results = await asyncio.gather(*(apply(c) for c in changes))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await alive(db, store) == [("k", "owner", winners[0].hex)]
    applied = [c for c in await T(db, vnstore.change_list, store) if c["significance"] is not None]
    assert [c["uid"] for c in applied][1:] == winners


async def _increment(db, store, key, rng, after_read=None):
    """Read-modify-write of a counter tuple (key, "count", n) through
    changes, restarting on conflict as an application would. Returns the
    number of refused attempts."""
    refused = 0
    while True:
        changeid = await create(db, store)

        async def read(tx):
            return [b["n"] async for b in vnstore.select(tx, store, key, "count", nstore.var("n"))]

        (current,) = await T(db, read)
        if after_read is not None:
            await after_read()
            after_read = None
        await asyncio.sleep(rng.random() / 1000)
        removed = await edit(db, store, changeid, adds=[(key, "count", current + 1)], removes=[(key, "count", current)])
        await asyncio.sleep(rng.random() / 1000)
        if removed == [True]:
            try:
                await T(db, vnstore.change_apply, store, changeid)
                return refused
            except vnstore.ChangeConflict:
                pass
        refused += 1


async def test_concurrent_read_modify_write_loses_no_update(db, store):
    await commit_change(db, store, adds=[("c", "count", 0)])
    rng = random.Random(7)
    workers, rounds = 6, 4

    # The first increments all read the counter before any of them applies:
    # a guaranteed race.
    arrived = []
    everyone_read = asyncio.Event()

    async def barrier():
        arrived.append(1)
        if len(arrived) == workers:
            everyone_read.set()
        await everyone_read.wait()

    async def worker():
        refused = await _increment(db, store, "c", rng, barrier)
        for _ in range(rounds - 1):
            refused += await _increment(db, store, "c", rng)
        return refused

    refused = await asyncio.gather(*(worker() for _ in range(workers)))
    # Every increment landed exactly once...
    assert await alive(db, store) == [("c", "count", workers * rounds)]
    # ... although they raced: of the first increments, all read 0 and only
    # one could apply on top of it.
    assert sum(refused) >= workers - 1
    applied = [c for c in await T(db, vnstore.change_list, store) if c["significance"] is not None]
    assert len(applied) == 1 + workers * rounds
    significances = [c["significance"] for c in applied]
    assert significances == sorted(significances) and len(set(significances)) == len(significances)


async def test_history_replays_to_the_current_state(db, store):
    """Replaying applied changes in significance order reproduces what
    readers see: history is a serial order of the changes."""
    rng = random.Random(11)
    keys = ["a", "b", "c"]

    async def random_change():
        changeid = await create(db, store)
        adds = [(rng.choice(keys), "p", rng.randrange(3)) for _ in range(rng.randrange(1, 3))]
        removes = [(rng.choice(keys), "p", rng.randrange(3)) for _ in range(rng.randrange(0, 2))]
        await asyncio.sleep(rng.random() / 1000)
        await edit(db, store, changeid, adds, removes)
        await asyncio.sleep(rng.random() / 1000)
        try:
            await T(db, vnstore.change_apply, store, changeid)
        except vnstore.ChangeConflict:
            pass

    await asyncio.gather(*(random_change() for _ in range(16)))
    state = set()
    for change in await T(db, vnstore.change_list, store):
        if change["significance"] is None:
            continue
        for row in await T(db, vnstore.change_changes, store, change["uid"]):
            items = (row["uid"], row["key"], row["value"])
            (state.add if row["alive?"] else state.discard)(items)
    assert sorted(state, key=repr) == await alive(db, store)
