"""pstore: index, re-index and remove documents (counters over a small
vocabulary) and search them. Each task owns one store and models it;
searches must rank exactly like the model, and in the final check (no
model) every posting must agree with its document's counter."""

import found
from found.ext import pstore
from simulation.workloads.base import TaskStoreWorkload

TERMS = ("alpha", "beta", "gamma", "delta", "epsilon")
DOCUMENTS = 12
EVERYTHING = 10_000


class PStore(TaskStoreWorkload):
    name = "pstore"

    @staticmethod
    def make_store(space, tag):
        """The pstore of one task."""
        return pstore.make("simulation", space + ("t",) + tuple(tag))

    @staticmethod
    async def store_problems(tx, store):
        return await index_problems(tx, store)

    async def step(self):
        roll = self.rng.random()
        doc = "doc-%d" % self.rng.randrange(DOCUMENTS)
        if roll < 0.45:
            terms = self.rng.sample(TERMS, self.rng.randint(1, 3))
            counter = {term: self.rng.randint(1, 5) for term in sorted(terms)}
            await self.transact(lambda tx: pstore.index(tx, self.store, doc, counter))
            self.model[doc] = counter
            return {"op": "index", "doc": doc, "counter": counter}
        if roll < 0.6:
            await self.transact(_remove_if_present, self.store, doc)
            self.model.pop(doc, None)
            return {"op": "remove", "doc": doc}
        keywords = self.rng.sample(TERMS, self.rng.randint(1, 2))
        limit = self.rng.choice((1, 3, EVERYTHING))
        got = await self.transact(lambda tx: pstore.search(tx, self.store, keywords, limit))
        expected = self._expected(keywords, limit)
        if [tuple(pair) for pair in got] != expected:
            self.violation("search(%s, %d) returned %s, expected %s" % (keywords, limit, got, expected))
        return {"op": "search", "keywords": keywords, "limit": limit}

    def _expected(self, keywords, limit):
        scored = [
            (doc, sum(counter[k] for k in keywords))
            for doc, counter in self.model.items()
            if all(k in counter for k in keywords)
        ]
        scored.sort(key=lambda pair: (-pair[1], found.pack((pair[0],))))
        return scored[:limit]

    async def after_failure(self, error):
        async def read(tx):
            return {doc: await pstore.counter(tx, self.store, doc) for doc in ("doc-%d" % i for i in range(DOCUMENTS))}

        self.model = {doc: counter for doc, counter in (await self.transact(read)).items() if counter}

    async def finish(self):
        for term in TERMS:
            got = await self.transact(lambda tx: pstore.search(tx, self.store, [term], EVERYTHING))
            if [tuple(pair) for pair in got] != self._expected([term], EVERYTHING):
                self.violation(
                    "end of task: search([%r]) returned %s, expected %s"
                    % (term, got, self._expected([term], EVERYTHING))
                )


async def _remove_if_present(tx, store, doc):
    # pstore.remove raises for a missing document: checking first keeps the
    # operation idempotent when an ambiguous commit is retried.
    if await pstore.counter(tx, store, doc) is not None:
        await pstore.remove(tx, store, doc)


async def index_problems(tx, store):
    """Postings and counters agree both ways, for every document."""
    problems = []
    counters = {}
    for i in range(DOCUMENTS):
        counter = await pstore.counter(tx, store, "doc-%d" % i)
        if counter:
            counters["doc-%d" % i] = counter
    for term in TERMS:
        results = {doc: score for doc, score in await pstore.search(tx, store, [term], EVERYTHING)}
        expected = {doc: counter[term] for doc, counter in counters.items() if term in counter}
        if results != expected:
            problems.append("search([%r]) gives %s but the documents' counters say %s" % (term, results, expected))
    return problems
