"""nstore: random adds, removes and pattern queries against an in-memory
model; at the end, every index permutation must agree with every other.

Each task owns one 3-column store (so its model is exact). Pattern queries
with different bound columns are served by different index permutations,
so comparing every pattern shape with the model (and, in the final check,
with what the other shapes return) exposes an index that is missing an
entry or holds a stale one."""

import itertools

from found.ext import nstore
from simulation.workloads.base import TaskStoreWorkload

COLUMNS = 3
VOCABULARY = ("a", "b", "c", 1, 2, 3)
PLANT_SKIP_INDEX = "nstore-skip-index"


class NStore(TaskStoreWorkload):
    name = "nstore"

    @staticmethod
    def make_store(space, tag):
        """The nstore of one task."""
        return nstore.make("simulation", space + ("t",) + tuple(tag), COLUMNS)

    @staticmethod
    async def store_problems(tx, store):
        return await index_problems(tx, store)

    async def step(self):
        roll = self.rng.random()
        if roll < 0.4 or not self.model:
            items = tuple(self.rng.choice(VOCABULARY) for _ in range(COLUMNS))
            value = self.rng.choice((b"", b"v", bytes([self.rng.randrange(256)]) * 3))
            await self.transact(self._add, items, value)
            self.model[items] = value
            return {"op": "add", "items": list(items), "value": value.hex()}
        if roll < 0.65:
            items = self.rng.choice(sorted(self.model, key=repr))
            await self.transact(lambda tx: nstore.remove(tx, self.store, *items))
            del self.model[items]
            return {"op": "remove", "items": list(items)}
        if roll < 0.75:
            items = self.rng.choice(sorted(self.model, key=repr))
            value = await self.transact(lambda tx: nstore.get(tx, self.store, *items))
            if value != self.model[items]:
                self.violation("get%r returned %r, expected %r" % (items, value, self.model[items]))
            return {"op": "get", "items": list(items)}
        pattern = random_pattern(self.rng)
        await self._compare(pattern)
        return {"op": "select", "pattern": [p if not _is_var(p) else "?" for p in pattern]}

    async def _add(self, tx, items, value):
        if self.ctx.planted(PLANT_SKIP_INDEX):
            from simulation import plants

            return await plants.nstore_add_skipping_one_index(tx, self.store, items, value)
        return await nstore.add(tx, self.store, *items, value=value)

    async def _compare(self, pattern):
        got = await self.transact(select_tuples, self.store, pattern)
        expected = {t for t in self.model if matches(t, pattern)}
        if got != expected:
            self.violation(
                "select %s: missing %s, unexpected %s"
                % (show(pattern), sorted(expected - got, key=repr), sorted(got - expected, key=repr))
            )

    async def after_failure(self, error):
        # The transaction may or may not have applied: read the truth back.
        self.model = {t: v for t, v in (await self.transact(_dump, self.store)).items()}

    async def finish(self):
        for bound in itertools.product((False, True), repeat=COLUMNS):
            samples = self.rng.sample(sorted(self.model, key=repr), min(3, len(self.model))) or [("a",) * COLUMNS]
            for sample in samples:
                await self._compare(
                    tuple(v if b else nstore.var("c%d" % i) for i, (v, b) in enumerate(zip(sample, bound)))
                )


def random_pattern(rng):
    """A pattern binding each column with probability 1/2."""
    return tuple(rng.choice(VOCABULARY) if rng.random() < 0.5 else nstore.var("c%d" % i) for i in range(COLUMNS))


def _is_var(item):
    return isinstance(item, nstore.Variable)


def matches(items, pattern):
    """True when ``items`` agree with every bound column of ``pattern``."""
    return all(_is_var(p) or p == v for v, p in zip(items, pattern))


def show(pattern):
    """``pattern`` as text, ``?`` for its variables."""
    return "(%s)" % ", ".join("?" if _is_var(p) else repr(p) for p in pattern)


async def select_tuples(tx, store, pattern):
    """The set of tuples matching ``pattern``, rebuilt from select's bindings."""
    out = set()
    async for binding in nstore.select(tx, store, *pattern):
        out.add(tuple(binding[p.name] if _is_var(p) else p for p in pattern))
    return out


async def _dump(tx, store):
    everything = await select_tuples(tx, store, tuple(nstore.var("c%d" % i) for i in range(COLUMNS)))
    return {t: await nstore.get(tx, store, *t) for t in everything}


async def index_problems(tx, store):
    """Model-free consistency: every pattern shape must return exactly the
    tuples of the full scan that match it, whichever index serves it."""
    everything = await select_tuples(tx, store, tuple(nstore.var("c%d" % i) for i in range(COLUMNS)))
    problems = []
    probes = set()
    for rank, items in enumerate(sorted(everything, key=repr)):
        for bound in itertools.product((False, True), repeat=COLUMNS):
            if any(bound) and (not all(bound) or rank < 20):
                probes.add(tuple(v if b else None for v, b in zip(items, bound)))
    for column in range(COLUMNS):
        for value in VOCABULARY:
            probes.add(tuple(value if i == column else None for i in range(COLUMNS)))
    for probe in sorted(probes, key=repr):
        pattern = tuple(nstore.var("c%d" % i) if v is None else v for i, v in enumerate(probe))
        got = await select_tuples(tx, store, pattern)
        expected = {t for t in everything if matches(t, pattern)}
        if got != expected:
            problems.append(
                "select %s disagrees with the full scan: missing %s, unexpected %s"
                % (show(pattern), sorted(expected - got, key=repr), sorted(got - expected, key=repr))
            )
    return problems
