"""vnstore against a plain-Python model: random interleavings of changes
(created, edited and applied in any order) give the state and the refusals
that the documented rules predict."""

import asyncio
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

import found
from found.ext import vnstore
from vnstore_helpers import T, alive

TUPLES = [("a", "p", 1), ("a", "p", 2)]

# A change: its edits, the times of its create, edits and apply, and
# whether it is applied at all. Run in time order, changes overlap freely.
plans = st.lists(
    st.tuples(
        st.lists(st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from(TUPLES)), min_size=1, max_size=3),
        st.lists(st.integers(0, 15), min_size=3, max_size=3, unique=True).map(sorted),
        st.booleans() | st.just(True),
    ),
    min_size=1,
    max_size=5,
)


def events(plan):
    """(time, kind, change index) in time order."""
    out = []
    for index, (_, (created, edited, applied), applies) in enumerate(plan):
        out += [(created, 0, index), (edited, 1, index)]
        if applies:
            out.append((applied, 2, index))
    return sorted(out)


class Model:
    """The rules of docs/vnstore.md, sequentially."""

    def __init__(self):
        self.state = set()  # alive tuples
        self.applies = 0  # applies so far: the logical clock
        self.changes = []  # per change: {"start", "records", "applied"}

    def create(self):
        self.changes.append({"start": self.applies, "records": {}, "applied": None})

    def add(self, change, items):
        change["records"][items] = True
        return True

    def remove(self, change, items):
        records = change["records"]
        visible = records.get(items, items in self.state)
        if not visible:
            return False
        records.pop(items, None)
        if items in self.state:
            records[items] = False
        return True

    def apply(self, change):
        if change["applied"] is not None:
            return "noop"
        for other in self.changes:
            if (
                other is not change
                and other["applied"] is not None
                and other["applied"] > change["start"]
                and set(other["records"]) & set(change["records"])
            ):
                return "conflict"
        self.applies += 1
        change["applied"] = self.applies
        for items, is_alive in change["records"].items():
            (self.state.add if is_alive else self.state.discard)(items)
        return "applied"


async def run(database_dir, plan):
    db = await found.open(database_dir)
    store = vnstore.make("model", ("test-vnstore-model", uuid.uuid4().hex), ("s", "p", "o"))
    model = Model()
    uids = {}
    changes = {}
    for _, kind, index in events(plan):
        if kind == 0:
            uids[index] = await T(db, vnstore.change_create, store)
            model.create()
            changes[index] = model.changes[-1]
        elif kind == 1:
            for operation, items in plan[index][0]:

                async def edit(tx, operation=getattr(vnstore, operation), items=items):
                    vnstore.change_continue(tx, store, uids[index])
                    return await operation(tx, store, *items)

                expected = getattr(model, operation)(changes[index], items)
                assert await T(db, edit) == expected, (operation, items)
        else:
            expected = model.apply(changes[index])
            try:
                await T(db, vnstore.change_apply, store, uids[index])
                got = "applied"
            except vnstore.ChangeConflict:
                got = "conflict"
            assert got == expected, (index, expected, got)
        assert await alive(db, store) == sorted(model.state, key=repr)
    history = [c["uid"] for c in await T(db, vnstore.change_list, store) if c["significance"] is not None]
    expected = sorted((c["applied"], uids[i]) for i, c in changes.items() if c["applied"] is not None)
    assert history == [uid for _, uid in expected]
    return model


@settings(max_examples=80, deadline=None)
@given(plans)
def test_store_follows_the_model(database_dir, plan):
    asyncio.run(run(database_dir, plan))
