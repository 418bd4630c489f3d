"""vnstore: changes are created, edited over several transactions and
applied (or refused for conflicting with history). The invariant: replaying
the applied changes' edits in history (significance) order gives exactly the
tuples the store says are alive; pending changes stay invisible. Checked by
mid-run audits and, for every task's store, at the end."""

import itertools

import found
from found.ext import vnstore
from simulation.workloads.base import Workload

COLUMNS = ("s", "p", "o")
VOCABULARY = ("x", "y", "z", 1, 2)
MAX_PENDING = 3
#: Changes per store before the task moves to a fresh store (an "epoch"), so
#: that audits, which replay the whole history in one transaction, stay small.
CHANGES_PER_EPOCH = 25


class VNStore(Workload):
    name = "vnstore"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.epoch = 0
        self.changes = 0
        self.store = make_store(self.space, ctx.tag, self.epoch)
        self.pending = []

    def _edits(self):
        return [
            (self.rng.random() < 0.7, tuple(self.rng.choice(VOCABULARY) for _ in COLUMNS))
            for _ in range(self.rng.randint(1, 4))
        ]

    async def step(self):
        roll = self.rng.random()
        if roll < 0.05:
            await self.transact(self._audit)
            return {"op": "audit"}
        if self.changes >= CHANGES_PER_EPOCH:
            self.epoch += 1
            self.changes = 0
            self.pending = []
            self.store = make_store(self.space, self.tag, self.epoch)
        if roll < 0.5 or not self.pending:
            edits = self._edits()
            apply_now = self.rng.random() < 0.5 or len(self.pending) >= MAX_PENDING
            changeid = await self.transact(self._new_change, edits, apply_now)
            self.changes += 1
            if not apply_now:
                self.pending.append(changeid)
            return {"op": "new", "edits": _show(edits), "applied": apply_now}
        index = self.rng.randrange(len(self.pending))
        changeid = self.pending[index]
        if roll < 0.75:
            edits = self._edits()
            await self.transact(self._edit, changeid, edits)
            return {"op": "edit", "change": index, "edits": _show(edits)}
        del self.pending[index]
        try:
            await self.transact(lambda tx: vnstore.change_apply(tx, self.store, changeid))
        except vnstore.ChangeConflict:
            return {"op": "apply", "change": index, "outcome": "conflict"}
        return {"op": "apply", "change": index, "outcome": "applied"}

    async def _new_change(self, tx, edits, apply_now):
        changeid = await vnstore.change_create(tx, self.store)
        await _perform(tx, self.store, edits)
        if apply_now:
            await vnstore.change_apply(tx, self.store, changeid)
        return changeid

    async def _edit(self, tx, changeid, edits):
        vnstore.change_continue(tx, self.store, changeid)
        await _perform(tx, self.store, edits)

    async def _audit(self, tx):
        for problem in await history_problems(tx, self.store):
            self.violation("mid-run audit: " + problem)

    async def after_failure(self, error):
        self.pending = []

    @classmethod
    async def check(cls, db, space, config, runs):
        problems = []
        for tag in runs:
            for epoch in itertools.count():
                store = make_store(space, tag, epoch)
                if not await found.transactional(db, vnstore.change_list, store):
                    break
                for problem in await found.transactional(db, history_problems, store):
                    problems.append("store %s epoch %d: %s" % (tag, epoch, problem))
        return problems


def make_store(space, tag, epoch):
    """The vnstore of one task in one epoch."""
    return vnstore.make("simulation", space + ("t",) + tuple(tag) + (epoch,), COLUMNS)


async def _perform(tx, store, edits):
    for add, items in edits:
        if add:
            await vnstore.add(tx, store, *items)
        else:
            await vnstore.remove(tx, store, *items)


def _show(edits):
    return [["+" if add else "-"] + list(items) for add, items in edits]


async def history_problems(tx, store):
    """Replay the applied changes in significance order and compare with
    what select and ask report as alive."""
    alive = set()
    for change in await vnstore.change_list(tx, store):
        if change["significance"] is None:
            continue
        for row in await vnstore.change_changes(tx, store, change["uid"]):
            items = tuple(row[column] for column in COLUMNS)
            if row[vnstore.ALIVE]:
                alive.add(items)
            else:
                alive.discard(items)
    pattern = [vnstore.var(column) for column in COLUMNS]
    seen = set()
    async for binding in vnstore.select(tx, store, *pattern):
        seen.add(tuple(binding[column] for column in COLUMNS))
    problems = []
    if seen != alive:
        problems.append(
            "replaying history gives %d alive tuples, select gives %d: missing %s, unexpected %s"
            % (len(alive), len(seen), sorted(alive - seen, key=repr)[:5], sorted(seen - alive, key=repr)[:5])
        )
    for items in sorted(alive, key=repr)[:10]:
        if not await vnstore.ask(tx, store, *items):
            problems.append("ask%r is False but history says alive" % (items,))
    return problems
