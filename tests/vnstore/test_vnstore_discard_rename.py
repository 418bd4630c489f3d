"""vnstore.change_discard and vnstore.change_rename: a pending change can be
thrown away or renamed; an applied one cannot (issue 18)."""

import uuid

import pytest

import found
from found.ext import vnstore
from vnstore_helpers import T, alive, commit_change, create, edit


async def keys_of(db, store):
    """Every (key, value) pair under the store's prefix but its version
    counter, which every write moves on (discarding too)."""
    begin = found.pack(store.prefix)
    counter = found.pack(store.prefix + ("version",))
    pairs = await T(db, lambda tx: found.all(found.query(tx, begin, found.next_prefix(begin))))
    return [(key, value) for key, value in pairs if key != counter]


async def test_discard_leaves_no_trace(db, store):
    await commit_change(db, store, adds=[("ada", "name", "Ada")])
    before = await keys_of(db, store)
    changeid = await create(db, store, "To be thrown away")
    await edit(db, store, changeid, adds=[("bob", "name", "Bob")], removes=[("ada", "name", "Ada")])
    assert await keys_of(db, store) != before
    version = await T(db, vnstore.version, store)
    await T(db, vnstore.change_discard, store, changeid)
    assert await keys_of(db, store) == before
    assert await T(db, vnstore.version, store) > version
    assert await T(db, vnstore.change_get, store, changeid) is None
    assert changeid not in [c["uid"] for c in await T(db, vnstore.change_list, store)]
    assert await alive(db, store) == [("ada", "name", "Ada")]


async def test_discard_in_the_transaction_that_created_the_change(db, store):
    before = await keys_of(db, store)

    async def run(tx):
        changeid = await vnstore.change_create(tx, store)
        await vnstore.add(tx, store, "a", "b", "c")
        await vnstore.change_discard(tx, store, changeid)
        # No active change any more: edits need a change again.
        with pytest.raises(vnstore.NoActiveChange):
            await vnstore.add(tx, store, "a", "b", "c")
        return changeid

    changeid = await T(db, run)
    assert await keys_of(db, store) == before
    assert await T(db, vnstore.change_get, store, changeid) is None


async def test_discarded_change_cannot_be_edited_applied_or_discarded_again(db, store):
    changeid = await create(db, store)
    await T(db, vnstore.change_discard, store, changeid)
    with pytest.raises(vnstore.ChangeNotFound):
        await edit(db, store, changeid, adds=[("a", "b", "c")])
    with pytest.raises(vnstore.ChangeNotFound):
        await T(db, vnstore.change_apply, store, changeid)
    with pytest.raises(vnstore.ChangeNotFound):
        await T(db, vnstore.change_discard, store, changeid)
    with pytest.raises(vnstore.ChangeNotFound):
        await T(db, vnstore.change_rename, store, changeid, "new name")


async def test_applied_change_can_be_neither_discarded_nor_renamed(db, store):
    changeid = await commit_change(db, store, adds=[("a", "b", "c")], message="Kept")
    before = await keys_of(db, store)
    with pytest.raises(vnstore.ChangeApplied):
        await T(db, vnstore.change_discard, store, changeid)
    with pytest.raises(vnstore.ChangeApplied):
        await T(db, vnstore.change_rename, store, changeid, "Rewritten")
    assert await keys_of(db, store) == before
    assert await alive(db, store) == [("a", "b", "c")]


async def test_discarding_one_change_leaves_the_others(db, store):
    keep = await create(db, store, "Keep")
    drop = await create(db, store, "Drop")
    await edit(db, store, keep, adds=[("same", "tuple", 1)])
    await edit(db, store, drop, adds=[("same", "tuple", 1), ("other", "tuple", 2)])
    await T(db, vnstore.change_discard, store, drop)
    rows = await T(db, vnstore.change_changes, store, keep)
    assert rows == [{"uid": "same", "key": "tuple", "value": 1, "alive?": True}]
    await T(db, vnstore.change_apply, store, keep)  # no conflict with the discarded one
    assert await alive(db, store) == [("same", "tuple", 1)]


async def test_rename_replaces_the_message_of_a_pending_change(db, store):
    changeid = await create(db, store, "Draft")
    await T(db, vnstore.change_rename, store, changeid, "Final name")
    assert (await T(db, vnstore.change_get, store, changeid))["message"] == "Final name"
    await T(db, vnstore.change_apply, store, changeid)
    assert (await T(db, vnstore.change_get, store, changeid))["message"] == "Final name"


async def test_rename_checks_its_arguments(db, store):
    changeid = await create(db, store, "Draft")
    with pytest.raises(TypeError, match="message must be str, not NoneType"):
        await T(db, vnstore.change_rename, store, changeid, None)
    with pytest.raises(ValueError, match="empty"):
        await T(db, vnstore.change_rename, store, changeid, "  ")
    with pytest.raises(TypeError, match="changeid must be uuid.UUID, not str"):
        await T(db, vnstore.change_rename, store, changeid.hex, "x")
    with pytest.raises(TypeError, match="changeid must be uuid.UUID, not str"):
        await T(db, vnstore.change_discard, store, changeid.hex)
    with pytest.raises(TypeError, match="vnstore must be made by vnstore.make"):
        await T(db, vnstore.change_discard, None, changeid)
    assert (await T(db, vnstore.change_get, store, changeid))["message"] == "Draft"


async def test_unknown_change(db, store):
    with pytest.raises(vnstore.ChangeNotFound):
        await T(db, vnstore.change_discard, store, uuid.uuid4())
