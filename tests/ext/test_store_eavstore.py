"""eavstore against an in-memory model: create, get, update, remove and
query never disagree with a dict of dicts, and no index entry goes stale."""

import asyncio
import uuid

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

import found
from ext_support import PREFIX, AsyncMachine, attempt, reset, run_machine, snapshot, store_keys
from found.ext import eavstore
from found.ext.eavstore import EAVStoreException

KEYS = ["name", "age", 1, b"k", ("nested", 1), "name\x00"]
VALUES = ["a", "a\x00", 1, True, 1.5, None, b"a", b"a\x00b", ("t", 2), -3, uuid.UUID(int=9)]
UIDS = [uuid.UUID(int=1), uuid.UUID(int=2), "text-uid", 7, b"a", b"a\x00b"]


def packed(value):
    return found.pack((value,))


def canonical(mapping):
    return sorted((packed(k), packed(v)) for k, v in mapping.items())


class EAVMachine(AsyncMachine):
    """Random creates, updates, removes and queries compared with a dict
    packed uid -> (uid, dict)."""

    @initialize()
    def start(self):
        self.run(reset(self.db))
        self.store = eavstore.make("machine", PREFIX)
        self.model = {}

    def pick_uid(self, data):
        if self.model and data.draw(st.booleans()):
            return data.draw(st.sampled_from([uid for uid, _ in self.model.values()]))
        return data.draw(st.sampled_from(UIDS))

    @rule(
        data=st.data(),
        mapping=st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4),
        generated=st.booleans(),
    )
    def create(self, data, mapping, generated):
        uid = None if generated else self.pick_uid(data)
        got = self.tx(eavstore.create, self.store, mapping, uid)
        if generated:
            assert isinstance(got, uuid.UUID) and packed(got) not in self.model
        else:
            assert got == uid
        self.model[packed(got)] = (got, dict(mapping))

    @rule(
        data=st.data(),
        mapping=st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4),
    )
    def update(self, data, mapping):
        uid = self.pick_uid(data)
        if packed(uid) in self.model:
            self.tx(eavstore.update, self.store, uid, mapping)
            self.model[packed(uid)] = (uid, dict(mapping))
        else:
            self.refused(eavstore.update, uid, mapping)

    @rule(data=st.data())
    def remove(self, data):
        uid = self.pick_uid(data)
        if packed(uid) in self.model:
            self.tx(eavstore.remove, self.store, uid)
            del self.model[packed(uid)]
        else:
            self.refused(eavstore.remove, uid)

    def refused(self, func, *args):
        before = self.run(snapshot(self.db))
        error = self.run(attempt(self.db, func, self.store, *args, exception=EAVStoreException))
        assert isinstance(error, EAVStoreException) and "no entity" in str(error)
        assert self.run(snapshot(self.db)) == before

    @rule(key=st.sampled_from(KEYS), value=st.sampled_from(VALUES))
    def query(self, key, value):
        self.check_query(key, value)

    def check_query(self, key, value):
        got = self.tx(lambda tx: found.all(eavstore.query(tx, self.store, key, value)))
        expected = [
            uid
            for uid, mapping in self.model.values()
            if any(packed(k) == packed(key) and packed(v) == packed(value) for k, v in mapping.items())
        ]
        assert sorted(map(packed, got)) == sorted(map(packed, expected))
        assert len(got) == len(set(map(packed, got)))

    @invariant()
    def contents(self):
        for uid, mapping in self.model.values():
            assert canonical(self.tx(eavstore.get, self.store, uid)) == canonical(mapping)
        for uid in UIDS:
            if packed(uid) not in self.model:
                assert self.tx(eavstore.get, self.store, uid) == {}
        pairs = {(packed(k), packed(v)): (k, v) for _, mapping in self.model.values() for k, v in mapping.items()}
        for key, value in pairs.values():
            self.check_query(key, value)
        attributes = sum(len(mapping) for _, mapping in self.model.values())
        kinds = {"entity": 0, "index": 0}
        for key, _ in store_keys(self.run(snapshot(self.db))):
            kinds[found.unpack(key)[len(PREFIX)]] += 1
        assert kinds == {"entity": len(self.model) + attributes, "index": attributes}


def test_eavstore_machine(tmp_path):
    run_machine(EAVMachine, tmp_path, examples=50, steps=30)


async def test_create_with_an_existing_uid_replaces(db):
    store = eavstore.make("replace", PREFIX)
    await reset(db)
    uid = await found.transactional(db, eavstore.create, store, {"color": "red", "size": 1})
    await found.transactional(db, eavstore.create, store, {"color": "blue"}, uid)
    assert await found.transactional(db, eavstore.get, store, uid) == {"color": "blue"}
    red = await found.transactional(db, lambda tx: found.all(eavstore.query(tx, store, "color", "red")))
    assert red == []


async def test_empty_dict_entity_exists(db):
    store = eavstore.make("empty", PREFIX)
    await reset(db)
    uid = await found.transactional(db, eavstore.create, store, {})
    assert await found.transactional(db, eavstore.get, store, uid) == {}
    await found.transactional(db, eavstore.update, store, uid, {"a": 1})
    assert await found.transactional(db, eavstore.get, store, uid) == {"a": 1}
    await found.transactional(db, eavstore.remove, store, uid)
    assert store_keys(await snapshot(db)) == []


async def test_bad_input_raises_and_writes_nothing(db):
    store = eavstore.make("bad", PREFIX)
    await reset(db)
    uid = await found.transactional(db, eavstore.create, store, {"kept": True})
    before = await snapshot(db)
    calls = [
        ("not a mapping", lambda tx: eavstore.create(tx, store, [("a", 1)])),
        ("unpackable value", lambda tx: eavstore.create(tx, store, {"a": 1, "b": object()})),
        ("unpackable key", lambda tx: eavstore.create(tx, store, {"a": 1, frozenset(): 2})),
        ("unpackable uid", lambda tx: eavstore.create(tx, store, {"a": 1}, object())),
        ("value too large", lambda tx: eavstore.create(tx, store, {"a": 1, "b": b"x" * 100_001})),
        ("key too large", lambda tx: eavstore.create(tx, store, {"a": 1, "b": "x" * 10_001})),
        ("update with bad dict", lambda tx: eavstore.update(tx, store, uid, {"x": object()})),
        ("update unknown", lambda tx: eavstore.update(tx, store, uuid.UUID(int=5), {"a": 1})),
        ("remove unknown", lambda tx: eavstore.remove(tx, store, uuid.UUID(int=5))),
        ("get unpackable uid", lambda tx: eavstore.get(tx, store, object())),
        ("query unpackable", lambda tx: found.all(eavstore.query(tx, store, "a", object()))),
    ]
    for description, call in calls:
        error = await attempt(db, call, exception=EAVStoreException)
        assert isinstance(error, EAVStoreException), description
        assert await snapshot(db) == before, description
    assert await found.transactional(db, eavstore.get, store, uid) == {"kept": True}


@pytest.mark.parametrize("name, prefix", [(1, PREFIX), ("n", "s"), ("n", (object(),))])
def test_bad_handle(name, prefix):
    with pytest.raises(EAVStoreException):
        eavstore.make(name, prefix)


async def test_concurrent_updates_leave_one_consistent_entity(db):
    store = eavstore.make("concurrent", PREFIX)
    await reset(db)
    uid = await found.transactional(db, eavstore.create, store, {"color": "none"})
    colors = ["red", "green", "blue", "cyan", "pink"]
    await asyncio.gather(*(found.transactional(db, eavstore.update, store, uid, {"color": c, c: 1}) for c in colors))
    final = await found.transactional(db, eavstore.get, store, uid)
    (color,) = [c for c in colors if final == {"color": c, c: 1}]

    async def indexed(tx):
        return {
            (key, value): await found.all(eavstore.query(tx, store, key, value))
            for key, value in [("color", c) for c in colors + ["none"]] + [(c, 1) for c in colors]
        }

    hits = {pair: uids for pair, uids in (await found.transactional(db, indexed)).items() if uids}
    assert hits == {("color", color): [uid], (color, 1): [uid]}
