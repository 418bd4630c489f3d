"""Cycle: N keys form one ring (each holds the index of the next); every
transaction rotates three consecutive nodes. Whatever commits, aborts,
repeats or is killed midway, the keys must still form a single ring."""

import found
from simulation.workloads.base import SpaceInvariantWorkload

NODES = 16


class Cycle(SpaceInvariantWorkload):
    name = "cycle"

    async def step(self):
        if self.rng.random() < 0.1:
            await self.transact(self.audit)
            return {"op": "audit"}
        start = self.rng.randrange(NODES)
        await self.transact(self._rotate, start)
        return {"op": "rotate", "node": start}

    async def _rotate(self, tx, start):
        # start → a → b → c becomes start → b → a → c.
        a = await self._next(tx, start)
        b = await self._next(tx, a)
        c = await self._next(tx, b)
        await found.set(tx, self.key(start), found.pack((b,)))
        await found.set(tx, self.key(b), found.pack((a,)))
        await found.set(tx, self.key(a), found.pack((c,)))

    async def _next(self, tx, node):
        value = await found.get(tx, self.key(node))
        if value is None:
            raise _Broken("node %d has no successor" % node)
        return found.unpack(value)[0]

    @staticmethod
    async def space_problem(tx, space):
        return await ring_problem(tx, space)

    @classmethod
    async def setup(cls, db, space, config):
        async def init(tx):
            for node in range(NODES):
                await found.set(tx, found.pack(space + (node,)), found.pack(((node + 1) % NODES,)))

        await found.transactional(db, init)


class _Broken(Exception):
    pass


async def ring_problem(tx, space):
    """None when the NODES keys under ``space`` form one ring, else what is wrong."""
    node, seen = 0, []
    for _ in range(NODES):
        value = await found.get(tx, found.pack(space + (node,)))
        if value is None:
            return "node %d has no successor (path %s)" % (node, seen)
        seen.append(node)
        node = found.unpack(value)[0]
    if node != 0 or len(set(seen)) != NODES:
        return "not one ring of %d: path from 0 is %s then %s" % (NODES, seen, node)
    return None
