"""Counter: increments by atomic add and by read-modify-write. Each increment
carries an idempotency id written in the same transaction, so a retry after
commit_unknown_result (or a client killed mid-commit) can tell whether it
already applied: the counters must equal exactly the sum of the recorded ids."""

import struct

import found
from simulation.workloads.base import Workload, read_all, read_range

PLANT_NOT_IDEMPOTENT = "counter-not-idempotent"


class Counter(Workload):
    name = "counter"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.issued = 0
        self.acknowledged = set()

    async def step(self):
        kind = self.rng.choice(("add", "rmw"))
        amount = self.rng.randint(1, 9)
        self.issued += 1
        seq = self.issued
        outcome = await self.transact(self._increment, kind, amount, seq)
        self.acknowledged.add(seq)
        return {"op": kind, "amount": amount, "id": seq, "outcome": outcome}

    async def _increment(self, tx, kind, amount, seq):
        marker = self.key("id", *self.tag, seq)
        skip_check = self.ctx.planted(PLANT_NOT_IDEMPOTENT)
        if not skip_check and await found.get(tx, marker) is not None:
            return "already-applied"
        await found.set(tx, marker, found.pack((kind, amount)))
        if kind == "add":
            await found.add(tx, self.key("add"), struct.pack("<q", amount))
        else:
            current = await found.get(tx, self.key("rmw"))
            total = 0 if current is None else found.unpack(current)[0]
            await found.set(tx, self.key("rmw"), found.pack((total + amount,)))
        return "applied"

    async def finish(self):
        prefix = self.key("id", *self.tag)
        pairs = await self.transact(lambda tx: read_range(tx, prefix))
        present = {found.unpack(key)[-1] for key, _ in pairs}
        lost = self.acknowledged - present
        if lost:
            self.violation("acknowledged increments missing: ids %s" % sorted(lost)[:10])
        phantom = {seq for seq in present if not 1 <= seq <= self.issued}
        if phantom:
            self.violation("increments never issued are recorded: ids %s" % sorted(phantom)[:10])

    @classmethod
    async def check(cls, db, space, config, runs):
        async def read(tx):
            added = await found.get(tx, found.pack(space + ("add",)))
            rmw = await found.get(tx, found.pack(space + ("rmw",)))
            return added, rmw

        # No client runs any more: reading the markers in pages is consistent.
        markers = await read_all(db, found.pack(space + ("id",)))
        added, rmw = await found.transactional(db, read)
        expected = {"add": 0, "rmw": 0}
        for _, value in markers:
            kind, amount = found.unpack(value)
            expected[kind] += amount
        actual = {
            "add": 0 if added is None else struct.unpack("<q", added)[0],
            "rmw": 0 if rmw is None else found.unpack(rmw)[0],
        }
        return [
            "%s counter is %d but the %d recorded increments sum to %d"
            % (kind, actual[kind], len(markers), expected[kind])
            for kind in ("add", "rmw")
            if actual[kind] != expected[kind]
        ]
