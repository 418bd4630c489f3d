"""eavstore: create, update and remove small documents (random attribute
sets) and look them up by attribute. Each task owns one store and models
it in memory; the final check needs no model: every (attribute, value)
lookup must return exactly the documents holding that pair."""

import uuid

from found.ext import eavstore
from simulation.workloads.base import TaskStoreWorkload

ATTRIBUTES = ("color", "size", "shape")
VALUES = ("red", "blue", 1, 2)


class EAVStore(TaskStoreWorkload):
    name = "eavstore"

    @staticmethod
    def make_store(space, tag):
        """The eavstore of one task."""
        return eavstore.make("simulation", space + ("t",) + tuple(tag))

    @staticmethod
    async def store_problems(tx, store):
        return await index_problems(tx, store)

    def _document(self):
        chosen = self.rng.sample(ATTRIBUTES, self.rng.randint(1, len(ATTRIBUTES)))
        return {attribute: self.rng.choice(VALUES) for attribute in sorted(chosen)}

    async def step(self):
        roll = self.rng.random()
        if roll < 0.35 or not self.model:
            uid = uuid.UUID(int=self.rng.getrandbits(128))
            document = self._document()
            await self.transact(lambda tx: eavstore.create(tx, self.store, document, uid=uid))
            self.model[uid] = document
            return {"op": "create", "doc": _show(document)}
        uid = self.rng.choice(sorted(self.model))
        if roll < 0.55:
            document = self._document()
            await self.transact(lambda tx: eavstore.update(tx, self.store, uid, document))
            self.model[uid] = document
            return {"op": "update", "doc": _show(document)}
        if roll < 0.65:
            await self.transact(_remove_if_present, self.store, uid)
            del self.model[uid]
            return {"op": "remove"}
        if roll < 0.8:
            got = await self.transact(lambda tx: eavstore.get(tx, self.store, uid))
            if got != self.model[uid]:
                self.violation("get returned %r, expected %r" % (got, self.model[uid]))
            return {"op": "get"}
        attribute, value = self.rng.choice(ATTRIBUTES), self.rng.choice(VALUES)
        await self._compare_lookup(attribute, value)
        return {"op": "query", "attribute": attribute, "value": value}

    async def _compare_lookup(self, attribute, value):
        got = await self.transact(lookup, self.store, attribute, value)
        expected = {uid for uid, doc in self.model.items() if attribute in doc and _same(doc[attribute], value)}
        if got != expected:
            self.violation(
                "query(%r, %r): missing %d, unexpected %d documents"
                % (attribute, value, len(expected - got), len(got - expected))
            )

    async def after_failure(self, error):
        documents = {}
        for attribute in ATTRIBUTES:
            for value in VALUES:
                for uid in await self.transact(lookup, self.store, attribute, value):
                    documents[uid] = None
        for uid in documents:
            documents[uid] = await self.transact(lambda tx: eavstore.get(tx, self.store, uid))
        self.model = {uid: doc for uid, doc in documents.items() if doc}

    async def finish(self):
        for attribute in ATTRIBUTES:
            for value in VALUES:
                await self._compare_lookup(attribute, value)


async def _remove_if_present(tx, store, uid):
    # eavstore.remove raises for a missing entity: checking first keeps the
    # operation idempotent when an ambiguous commit is retried.
    if await eavstore.get(tx, store, uid):
        await eavstore.remove(tx, store, uid)


def _same(a, b):
    return type(a) is type(b) and a == b


def _show(document):
    return {k: v for k, v in document.items()}


async def lookup(tx, store, attribute, value):
    """The set of uids eavstore.query returns for (attribute, value)."""
    result = eavstore.query(tx, store, attribute, value)
    if hasattr(result, "__aiter__"):
        return {uid async for uid in result}
    return set(await result)


async def index_problems(tx, store):
    """Every lookup agrees with the documents it names, and every document
    is found by each of its pairs."""
    problems, documents = [], {}
    for attribute in ATTRIBUTES:
        for value in VALUES:
            for uid in await lookup(tx, store, attribute, value):
                if uid not in documents:
                    documents[uid] = await eavstore.get(tx, store, uid)
                document = documents[uid]
                if attribute not in document or not _same(document[attribute], value):
                    problems.append("query(%r, %r) returns %s whose document is %r" % (attribute, value, uid, document))
    for uid, document in documents.items():
        for attribute, value in document.items():
            if uid not in await lookup(tx, store, attribute, value):
                problems.append("document %s has %r=%r but query does not find it" % (uid, attribute, value))
    return problems
