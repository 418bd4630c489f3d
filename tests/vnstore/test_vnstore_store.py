"""vnstore's store API: changes, tuples, history order, queries."""

import uuid

import pytest

import found
from found.ext import nstore, vnstore
from vnstore_helpers import T, alive, commit_change, create, edit


async def test_make_checks_its_arguments():
    with pytest.raises(TypeError, match="name must be str, not int"):
        vnstore.make(1, ("p",), ("a",))
    with pytest.raises(TypeError, match="prefix must be a tuple or list, not str"):
        vnstore.make("x", "p", ("a",))
    with pytest.raises(TypeError, match="items must be a tuple or list, not str"):
        vnstore.make("x", ("p",), "abc")
    with pytest.raises(ValueError, match="distinct"):
        vnstore.make("x", ("p",), ("a", "a"))
    with pytest.raises(ValueError, match="reserved"):
        vnstore.make("x", ("p",), ("a", "alive?"))
    store = vnstore.make("x", ["p"], ["a", "b"])
    assert store.prefix == ("p",) and store.items == ("a", "b")


async def test_new_change_is_pending_with_no_message(db, store):
    changeid = await create(db, store)
    assert isinstance(changeid, uuid.UUID)
    change = await T(db, vnstore.change_get, store, changeid)
    assert change["uid"] == changeid
    assert change["type"] == "change"
    assert change["significance"] is None
    assert change["message"] is None
    assert change["started"].is_complete()


async def test_change_get_of_unknown_change_is_none(db, store):
    assert await T(db, vnstore.change_get, store, uuid.uuid4()) is None


async def test_change_get_needs_a_uuid(db, store):
    with pytest.raises(TypeError, match="changeid must be uuid.UUID, not str"):
        await T(db, vnstore.change_get, store, "abc")


async def test_change_message_replaces_the_message(db, store):
    changeid = await create(db, store, "first")
    await T(db, vnstore.change_message, store, changeid, "second")
    assert (await T(db, vnstore.change_get, store, changeid))["message"] == "second"
    with pytest.raises(TypeError, match="message must be str or None, not bytes"):
        await T(db, vnstore.change_message, store, changeid, b"x")
    with pytest.raises(vnstore.ChangeNotFound):
        await T(db, vnstore.change_message, store, uuid.uuid4(), "x")


async def test_change_get_in_the_creating_transaction(db, store):
    async def run(tx):
        changeid = await vnstore.change_create(tx, store)
        return await vnstore.change_get(tx, store, changeid), await vnstore.change_list(tx, store)

    change, listed = await T(db, run)
    assert change["significance"] is None
    assert not change["started"].is_complete()
    assert [c["uid"] for c in listed] == [change["uid"]]


async def test_reads_in_the_transaction_that_applies(db, store):
    async def run(tx):
        changeid = await vnstore.change_create(tx, store)
        await vnstore.add(tx, store, "a", "b", "c")
        await vnstore.change_apply(tx, store, changeid)
        listed = await vnstore.change_list(tx, store)
        tuples = [dict(b) async for b in vnstore.select(tx, store, nstore.var("s"), "b", "c")]
        return changeid, listed, tuples

    changeid, listed, tuples = await T(db, run)
    assert [c["uid"] for c in listed] == [changeid]
    assert not listed[0]["significance"].is_complete()  # known at commit only
    assert tuples == [{"s": "a"}]


async def test_add_needs_an_active_change(db, store):
    with pytest.raises(vnstore.NoActiveChange):
        await T(db, vnstore.add, store, "a", "b", "c")


async def test_add_to_unknown_change_is_refused(db, store):
    async def run(tx):
        vnstore.change_continue(tx, store, uuid.uuid4())
        await vnstore.add(tx, store, "a", "b", "c")

    with pytest.raises(vnstore.ChangeNotFound):
        await T(db, run)


async def test_add_checks_arity(db, store):
    changeid = await create(db, store)
    with pytest.raises(ValueError, match="has 3 columns"):
        await edit(db, store, changeid, adds=[("a", "b")])


async def test_tuples_are_invisible_until_the_change_is_applied(db, store):
    changeid = await create(db, store)
    await edit(db, store, changeid, adds=[("a", "name", "Ada")])
    assert not await T(db, vnstore.ask, store, "a", "name", "Ada")
    assert await alive(db, store) == []
    await T(db, vnstore.change_apply, store, changeid)
    assert await T(db, vnstore.ask, store, "a", "name", "Ada")
    assert await alive(db, store) == [("a", "name", "Ada")]


async def test_a_change_sees_its_own_edits(db, store):
    changeid = await create(db, store)

    async def run(tx):
        vnstore.change_continue(tx, store, changeid)
        await vnstore.add(tx, store, "a", "b", "c")
        return await vnstore.ask(tx, store, "a", "b", "c")

    assert await T(db, run)

    # Another transaction continuing the change sees them too...
    async def seen(tx):
        vnstore.change_continue(tx, store, changeid)
        return await vnstore.ask(tx, store, "a", "b", "c")

    assert await T(db, seen)
    # ... but not a reader without the active change.
    assert not await T(db, vnstore.ask, store, "a", "b", "c")


async def test_remove_of_absent_tuple_returns_false(db, store):
    changeid = await create(db, store)
    assert await edit(db, store, changeid, removes=[("x", "y", "z")]) == [False]
    assert await T(db, vnstore.change_changes, store, changeid) == []


async def test_remove_then_apply_hides_the_tuple(db, store):
    await commit_change(db, store, adds=[("a", "b", 1), ("a", "b", 2)])
    changeid = await create(db, store)
    assert await edit(db, store, changeid, removes=[("a", "b", 1)]) == [True]
    assert await T(db, vnstore.ask, store, "a", "b", 1)  # not applied yet
    await T(db, vnstore.change_apply, store, changeid)
    assert not await T(db, vnstore.ask, store, "a", "b", 1)
    assert await alive(db, store) == [("a", "b", 2)]


async def test_removing_a_tuple_added_by_the_same_change_drops_the_addition(db, store):
    changeid = await create(db, store)
    assert await edit(db, store, changeid, adds=[("a", "b", "c")], removes=[("a", "b", "c")]) == [True]
    assert await T(db, vnstore.change_changes, store, changeid) == []


async def test_change_changes_lists_additions_and_removals(db, store):
    await commit_change(db, store, adds=[("old", "k", "v")])
    changeid = await create(db, store)
    await edit(db, store, changeid, adds=[("new", "k", "v")], removes=[("old", "k", "v")])
    rows = await T(db, vnstore.change_changes, store, changeid)
    assert sorted(rows, key=lambda r: r["uid"]) == [
        {"uid": "new", "key": "k", "value": "v", "alive?": True},
        {"uid": "old", "key": "k", "value": "v", "alive?": False},
    ]


async def test_readding_after_removal_yields_the_tuple_once(db, store):
    await commit_change(db, store, adds=[("a", "b", "c")])
    await commit_change(db, store, removes=[("a", "b", "c")])
    assert await alive(db, store) == []
    await commit_change(db, store, adds=[("a", "b", "c")])
    assert await alive(db, store) == [("a", "b", "c")]
    assert await T(db, vnstore.ask, store, "a", "b", "c")


async def test_applied_change_cannot_be_edited(db, store):
    changeid = await commit_change(db, store, adds=[("a", "b", "c")])
    with pytest.raises(vnstore.ChangeApplied):
        await edit(db, store, changeid, adds=[("d", "e", "f")])
    with pytest.raises(vnstore.ChangeApplied):
        await edit(db, store, changeid, removes=[("a", "b", "c")])
    assert await alive(db, store) == [("a", "b", "c")]


async def test_applying_twice_changes_nothing(db, store):
    changeid = await commit_change(db, store, adds=[("a", "b", "c")])
    first = await T(db, vnstore.change_get, store, changeid)
    await T(db, vnstore.change_apply, store, changeid)
    assert await T(db, vnstore.change_get, store, changeid) == first


async def test_applying_an_unknown_change_raises(db, store):
    with pytest.raises(vnstore.ChangeNotFound):
        await T(db, vnstore.change_apply, store, uuid.uuid4())


async def test_history_is_ordered_by_apply_commit_versionstamp(db, store):
    first = await create(db, store, "created first")
    second = await create(db, store, "created second")
    pending = await create(db, store, "never applied")
    # Applied in the opposite order of creation.
    await T(db, vnstore.change_apply, store, second)
    await T(db, vnstore.change_apply, store, first)
    changes = await T(db, vnstore.change_list, store)
    assert [c["uid"] for c in changes] == [second, first, pending]
    a = await T(db, vnstore.change_get, store, second)
    b = await T(db, vnstore.change_get, store, first)
    assert isinstance(a["significance"], found.Versionstamp)
    assert a["significance"] < b["significance"]
    # A significance is the commit version of the apply transaction.
    assert a["started"] < a["significance"]
    # The history index lists applied changes by significance.
    begin = found.pack(store.prefix + ("applied",))
    pairs = await T(db, lambda tx: found.all(found.query(tx, begin, found.next_prefix(begin))))
    assert [found.unpack(value)[0] for _, value in pairs] == [second, first]
    assert [found.unpack(key)[-1] for key, _ in pairs] == [a["significance"], b["significance"]]


async def test_history_decides_by_significance_not_creation(db, store):
    older = await create(db, store)
    newer = await create(db, store)
    await edit(db, store, newer, adds=[("k", "v", 1)])
    await T(db, vnstore.change_apply, store, newer)
    # The older change was started before ``newer`` applied and touches the
    # same tuple: refused (see test_conflicts.py); an unrelated tuple is fine.
    await edit(db, store, older, adds=[("k", "w", 2)])
    await T(db, vnstore.change_apply, store, older)
    assert await alive(db, store) == [("k", "v", 1), ("k", "w", 2)]


async def test_two_changes_applied_in_one_transaction_are_ordered(db, store):
    one = await create(db, store)
    two = await create(db, store)

    async def run(tx):
        await vnstore.change_apply(tx, store, two)
        await vnstore.change_apply(tx, store, one)

    await T(db, run)
    assert [c["uid"] for c in await T(db, vnstore.change_list, store)] == [two, one]


async def test_create_edit_and_apply_in_one_transaction(db, store):
    async def run(tx):
        changeid = await vnstore.change_create(tx, store)
        await vnstore.add(tx, store, "a", "b", "c")
        await vnstore.change_apply(tx, store, changeid)
        return changeid

    changeid = await T(db, run)
    assert await alive(db, store) == [("a", "b", "c")]
    assert (await T(db, vnstore.change_get, store, changeid))["significance"].is_complete()


async def test_select_with_values_and_variables(db, store):
    await commit_change(
        db,
        store,
        adds=[
            ("ada", "name", "Ada"),
            ("ada", "knows", "bob"),
            ("bob", "name", "Bob"),
            ("eve", "name", "Eve"),
        ],
    )

    async def run(tx):
        return [dict(b) async for b in vnstore.select(tx, store, nstore.var("who"), "name", nstore.var("n"))]

    got = await T(db, run)
    assert sorted(got, key=lambda b: b["who"]) == [
        {"who": "ada", "n": "Ada"},
        {"who": "bob", "n": "Bob"},
        {"who": "eve", "n": "Eve"},
    ]


async def test_select_yields_dicts_and_query_immutable_mappings(db, store):
    await commit_change(db, store, adds=[("a", "b", "c")])

    async def run(tx):
        selected = [b async for b in vnstore.select(tx, store, nstore.var("x"), "b", "c")]
        queried = [b async for b in vnstore.query(tx, store, (nstore.var("x"), "b", "c"))]
        return selected, queried

    (selected,), (queried,) = await T(db, run)
    assert type(selected) is dict and selected == {"x": "a"}
    selected["x"] = "other"  # a caller's own copy
    assert dict(queried) == {"x": "a"}
    with pytest.raises(TypeError):
        queried["x"] = "other"


async def test_select_seed_is_part_of_every_binding(db, store):
    await commit_change(db, store, adds=[("a", "b", "c")])

    async def run(tx):
        return [dict(b) async for b in vnstore.select(tx, store, "a", "b", nstore.var("v"), seed={"s": 1})]

    assert await T(db, run) == [{"s": 1, "v": "c"}]


async def test_query_joins_patterns_on_shared_variables(db, store):
    await commit_change(
        db,
        store,
        adds=[
            ("ada", "knows", "bob"),
            ("bob", "name", "Bob"),
            ("ada", "knows", "eve"),
            ("eve", "name", "Eve"),
            ("bob", "knows", "eve"),
        ],
    )
    await commit_change(db, store, removes=[("ada", "knows", "eve")])
    v = nstore.var

    async def run(tx):
        bindings = await vnstore.query(tx, store, ("ada", "knows", v("friend")), (v("friend"), "name", v("name")))
        return [dict(b) async for b in bindings]

    assert await T(db, run) == [{"friend": "bob", "name": "Bob"}]

    async def iterate(tx):
        q = vnstore.query(tx, store, (v("x"), "knows", v("y")), (v("y"), "name", v("n")))
        return sorted([dict(b) async for b in q], key=repr)

    assert await T(db, iterate) == [{"x": "ada", "y": "bob", "n": "Bob"}, {"x": "bob", "y": "eve", "n": "Eve"}]


async def test_where_chains_from_any_bindings(db, store):
    await commit_change(db, store, adds=[("a", "p", 1), ("b", "p", 2)])

    async def seeds():
        yield {"s": "a"}
        yield {"s": "b"}
        yield {"s": "zzz"}

    async def run(tx):
        return [dict(b) async for b in vnstore.where(tx, store, seeds(), nstore.var("s"), "p", nstore.var("o"))]

    assert await T(db, run) == [{"s": "a", "o": 1}, {"s": "b", "o": 2}]


async def test_patterns_are_checked(db, store):
    async def wrong_arity(tx):
        return [b async for b in vnstore.select(tx, store, "a")]

    with pytest.raises(ValueError, match="has 3 columns"):
        await T(db, wrong_arity)

    async def reserved(tx):
        return [b async for b in vnstore.select(tx, store, nstore.var("__vnstore_alive__"), "b", "c")]

    with pytest.raises(ValueError, match="reserved"):
        await T(db, reserved)


async def test_values_of_many_types(db, store):
    values = [None, True, False, 0, -7, 2**70, 1.5, "text", b"\x00bytes", uuid.UUID(int=5)]
    await commit_change(db, store, adds=[("t", "v", x) for x in values])

    async def run(tx):
        return [b["x"] async for b in vnstore.select(tx, store, "t", "v", nstore.var("x"))]

    got = await T(db, run)
    assert len(got) == len(values)
    assert all(any(type(g) is type(x) and g == x for g in got) for x in values)


async def test_stores_with_different_prefixes_are_independent(db, store):
    other = vnstore.make("other", store.prefix + ("other",), store.items)
    await commit_change(db, store, adds=[("a", "b", "c")])
    assert await alive(db, other) == []
    assert await T(db, vnstore.change_list, other) == []


def test_store_imports_without_the_server_dependencies():
    import os
    import subprocess
    import sys

    from vnstore_helpers import ROOT

    code = (
        "import sys; sys.modules['jinja2'] = sys.modules['uvicorn'] = None\n"
        "import found.ext.vnstore as v; assert v.change_apply\n"
        "try:\n    import found.ext.vnstore.server\nexcept ImportError:\n    print('server needs jinja2')\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    assert out.stdout.strip() == "server needs jinja2"
