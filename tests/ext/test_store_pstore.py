"""pstore against an in-memory model: index, re-index, remove and ranked
search agree with a dict of counters."""

import asyncio
import uuid

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

import found
from ext_support import PREFIX, AsyncMachine, attempt, reset, run_machine, snapshot, store_keys
from found.ext import pstore
from found.ext.pstore import PStoreException

TERMS = ["apple", "banana", "cherry", "date", "été", "a\x00b", "a"]
DOCUIDS = [1, 2, 3, "doc", uuid.UUID(int=3), b"x", b"x\x00y", ("nested", 1)]


def packed(value):
    return found.pack((value,))


def model_search(docs, keywords, limit):
    """The documented ranking: documents holding every keyword, by
    decreasing sum of the keywords' counts, then by encoded docuid."""
    keywords = set(keywords)
    hits = []
    for docuid, counter in docs.values():
        if keywords <= set(counter):
            hits.append((-sum(counter[k] for k in keywords), packed(docuid), docuid))
    hits.sort(key=lambda hit: hit[:2])
    return [(docuid, -negative) for negative, _, docuid in hits[:limit]]


def ranking(pairs):
    return [(packed(docuid), score) for docuid, score in pairs]


counters = st.dictionaries(st.sampled_from(TERMS), st.integers(1, 4), max_size=4)


class PStoreMachine(AsyncMachine):
    """Random indexing, re-indexing, removal and searches compared with a
    dict packed docuid -> (docuid, counter)."""

    @initialize()
    def start(self):
        self.run(reset(self.db))
        self.store = pstore.make("machine", PREFIX)
        self.model = {}

    @rule(docuid=st.sampled_from(DOCUIDS), counter=counters)
    def index(self, docuid, counter):
        self.tx(pstore.index, self.store, docuid, counter)
        self.model[packed(docuid)] = (docuid, dict(counter))

    @rule(docuid=st.sampled_from(DOCUIDS))
    def remove(self, docuid):
        if packed(docuid) in self.model:
            self.tx(pstore.remove, self.store, docuid)
            del self.model[packed(docuid)]
        else:
            before = self.run(snapshot(self.db))
            error = self.run(attempt(self.db, pstore.remove, self.store, docuid, exception=PStoreException))
            assert isinstance(error, PStoreException) and "no document" in str(error)
            assert self.run(snapshot(self.db)) == before

    @rule(
        keywords=st.lists(st.sampled_from(TERMS), min_size=1, max_size=3),
        limit=st.integers(1, 5),
    )
    def search(self, keywords, limit):
        got = self.tx(pstore.search, self.store, keywords, limit)
        assert ranking(got) == ranking(model_search(self.model, keywords, limit))

    @invariant()
    def contents(self):
        for term in TERMS:
            got = self.tx(pstore.search, self.store, [term], len(DOCUIDS))
            assert ranking(got) == ranking(model_search(self.model, [term], len(DOCUIDS)))
        for docuid, counter in self.model.values():
            assert self.tx(pstore.counter, self.store, docuid) == counter
        kinds = {"doc": 0, "term": 0}
        for key, _ in store_keys(self.run(snapshot(self.db))):
            kinds[found.unpack(key)[len(PREFIX)]] += 1
        assert kinds == {
            "doc": len(self.model),
            "term": sum(len(counter) for _, counter in self.model.values()),
        }


def test_pstore_machine(tmp_path):
    run_machine(PStoreMachine, tmp_path, examples=50, steps=30)


async def test_equal_scores_rank_by_docuid(db):
    store = pstore.make("ties", PREFIX)
    await reset(db)

    async def fill(tx):
        for docuid in ["c", "a", "b"]:
            await pstore.index(tx, store, docuid, {"word": 2, "other": 1})
        await pstore.index(tx, store, "z", {"word": 5})

    await found.transactional(db, fill)
    got = await found.transactional(db, pstore.search, store, ["word"], 10)
    assert got == [("z", 5), ("a", 2), ("b", 2), ("c", 2)]
    assert await found.transactional(db, pstore.search, store, ["word", "other"], 2) == [("a", 3), ("b", 3)]
    assert await found.transactional(db, pstore.search, store, ["word", "missing"], 2) == []


async def test_counters_are_stored_compressed(db):
    import zstandard

    store = pstore.make("zstd", PREFIX)
    await reset(db)
    counter = {"term{}".format(i): i + 1 for i in range(200)}
    await found.transactional(db, pstore.index, store, "doc", counter)
    record = dict(store_keys(await snapshot(db)))[found.pack(PREFIX + ("doc", "doc"))]
    raw = zstandard.decompress(record)
    assert len(record) < len(raw)
    assert await found.transactional(db, pstore.counter, store, "doc") == counter


async def test_bad_input_raises_and_writes_nothing(db):
    store = pstore.make("bad", PREFIX)
    await reset(db)
    await found.transactional(db, pstore.index, store, "kept", {"word": 1})
    before = await snapshot(db)
    writes = [
        ("counter not a mapping", lambda tx: pstore.index(tx, store, "d", [("a", 1)])),
        ("term bytes", lambda tx: pstore.index(tx, store, "d", {"a": 1, b"b": 1})),
        ("term int", lambda tx: pstore.index(tx, store, "d", {"a": 1, 3: 1})),
        ("count zero", lambda tx: pstore.index(tx, store, "d", {"a": 1, "b": 0})),
        ("count negative", lambda tx: pstore.index(tx, store, "d", {"a": -1})),
        ("count bool", lambda tx: pstore.index(tx, store, "d", {"a": True})),
        ("count float", lambda tx: pstore.index(tx, store, "d", {"a": 1.5})),
        ("docuid unpackable", lambda tx: pstore.index(tx, store, object(), {"a": 1})),
        ("term too large", lambda tx: pstore.index(tx, store, "d", {"a": 1, "x" * 10_001: 1})),
        ("reindex with bad counter", lambda tx: pstore.index(tx, store, "kept", {"word": 0})),
        ("remove unknown", lambda tx: pstore.remove(tx, store, "nope")),
        ("keywords str", lambda tx: pstore.search(tx, store, "word", 3)),
        ("keywords int", lambda tx: pstore.search(tx, store, ["word", 1], 3)),
        ("keywords empty", lambda tx: pstore.search(tx, store, [], 3)),
        ("limit zero", lambda tx: pstore.search(tx, store, ["word"], 0)),
        ("limit str", lambda tx: pstore.search(tx, store, ["word"], "3")),
        ("limit bool", lambda tx: pstore.search(tx, store, ["word"], True)),
    ]
    for description, call in writes:
        error = await attempt(db, call, exception=PStoreException)
        assert isinstance(error, PStoreException), description
        assert str(error), description
        assert await snapshot(db) == before, description


@pytest.mark.parametrize("name, prefix", [(1, PREFIX), ("n", "s"), ("n", (object(),))])
def test_bad_handle(name, prefix):
    with pytest.raises(PStoreException):
        pstore.make(name, prefix)


async def test_concurrent_reindexing_leaves_one_counter(db):
    store = pstore.make("concurrent", PREFIX)
    await reset(db)
    words = ["alpha", "beta", "gamma", "delta"]
    await asyncio.gather(
        *(found.transactional(db, pstore.index, store, "doc", {w: i + 1}) for i, w in enumerate(words))
    )
    counter = await found.transactional(db, pstore.counter, store, "doc")
    (word,) = counter
    for w in words:
        expected = [("doc", counter[w])] if w == word else []
        assert await found.transactional(db, pstore.search, store, [w], 5) == expected
    assert len(store_keys(await snapshot(db))) == 2
