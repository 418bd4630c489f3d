"""nstore against an in-memory model: indices, single range reads, pattern
queries, bad input."""

import itertools
import uuid
from collections import Counter
from math import comb

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

import found
from ext_support import PREFIX, AsyncMachine, attempt, reset, run_machine, snapshot, store_keys
from found.ext import nstore
from found.ext.nstore import NStoreException, var

# Values of many types, with look-alikes the tuple layer keeps apart:
# 1 / True / 1.5, 'a' / 'a\x00' and b'a' / b'a\x00b' (an escaped NUL).
ALPHABET = ["a", "a\x00", "b", 1, True, 1.5, b"a", b"a\x00b", None, ("t", 1), uuid.UUID(int=7), -2]
VALUES = [b"", b"v", b"\x00\xff"]
NAMES = ["x", "y", "z"]


def packed(value):
    return found.pack((value,))


def canonical(binding):
    """A binding as comparable bytes (1 and True are different values)."""
    return tuple(sorted((name, packed(value)) for name, value in binding.items()))


# --- the model ----------------------------------------------------------------


def model_match(tuples, pattern, seed):
    """Bindings of ``pattern`` over ``tuples`` (a list of item tuples),
    extending ``seed``."""
    out = []
    for items in tuples:
        binding = dict(seed)
        fresh = {}
        for item, value in zip(pattern, items):
            if isinstance(item, nstore.Variable) and item.name not in seed:
                if item.name in fresh and packed(fresh[item.name]) != packed(value):
                    break
                fresh[item.name] = value
            else:
                expected = seed[item.name] if isinstance(item, nstore.Variable) else item
                if packed(expected) != packed(value):
                    break
        else:
            binding.update(fresh)
            out.append(binding)
    return out


def model_query(tuples, patterns):
    bindings = [{}]
    for pattern in patterns:
        bindings = [b for seed in bindings for b in model_match(tuples, pattern, seed)]
    return bindings


# --- the index family ---------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 11))
def test_indices_are_a_minimal_chain_cover(n):
    indices = nstore.minimal_indices(n)
    assert len(indices) == comb(n, n // 2)
    assert all(sorted(order) == list(range(n)) for order in indices)
    prefixes = {frozenset(order[:size]) for order in indices for size in range(n + 1)}
    every_subset = {frozenset(c) for size in range(n + 1) for c in itertools.combinations(range(n), size)}
    assert prefixes == every_subset


def test_triple_and_quad_store_index_counts():
    assert len(nstore.make("t", PREFIX, 3).indices) == 3
    assert len(nstore.make("q", PREFIX, 4).indices) == 6


@pytest.mark.parametrize("n", [0, 17, -1, "3", 3.0, True, None])
def test_bad_width(n):
    with pytest.raises(NStoreException, match="n must be"):
        nstore.make("bad", PREFIX, n)


@pytest.mark.parametrize("prefix", [b"s", "s", (object(),)])
def test_bad_prefix(prefix):
    with pytest.raises(NStoreException, match="prefix"):
        nstore.make("bad", prefix, 3)


# --- one range read per select, any width -------------------------------------


@pytest.mark.parametrize("n", range(2, 9))
async def test_every_pattern_is_one_range_read(db, n, monkeypatch):
    store = nstore.make("w{}".format(n), PREFIX, n)
    tuples = [tuple((row * 7 + column) % 3 for column in range(n)) for row in range(4)]
    tuples.append(tuple("u" for _ in range(n)))

    async def fill(tx):
        for items in tuples:
            await nstore.add(tx, store, *items, value=b"v")

    await reset(db)
    await found.transactional(db, fill)
    pairs = store_keys(await snapshot(db))
    assert len(pairs) == len(set(tuples)) * comb(n, n // 2)

    calls = []
    real_query = found.query

    def counting_query(*args, **kwargs):
        calls.append(args[1:3])
        return real_query(*args, **kwargs)

    monkeypatch.setattr(found, "query", counting_query)
    probe = tuples[1]
    for mask in itertools.product([False, True], repeat=n):
        pattern = tuple(var("v{}".format(c)) if free else probe[c] for c, free in enumerate(mask))
        calls.clear()
        got = await found.transactional(db, lambda tx: found.all(nstore.select(tx, store, *pattern)))
        assert len(calls) == 1, mask
        expected = model_match(list(set(tuples)), pattern, {})
        assert Counter(map(canonical, got)) == Counter(map(canonical, expected)), mask


# --- the state machine ----------------------------------------------------------


class NStoreMachine(AsyncMachine):
    """Random adds, removes and queries on a width-``n`` store, each answer
    compared with a dict of tuples."""

    n = 3

    @initialize()
    def start(self):
        self.run(reset(self.db))
        self.store = nstore.make("machine", PREFIX, self.n)
        self.model = {}  # packed items -> (items, value)

    def items(self):
        return st.tuples(*[st.sampled_from(ALPHABET)] * self.n)

    def pattern(self, data):
        base = data.draw(
            st.sampled_from([items for items, _ in self.model.values()])
            if self.model and data.draw(st.booleans())
            else self.items()
        )
        return tuple(var(data.draw(st.sampled_from(NAMES))) if data.draw(st.booleans()) else value for value in base)

    def tuples(self):
        return [items for items, _ in self.model.values()]

    @rule(data=st.data(), value=st.sampled_from(VALUES))
    def add(self, data, value):
        items = data.draw(self.items())
        self.tx(nstore.add, self.store, *items, value=value)
        self.model[tuple(map(packed, items))] = (items, value)

    @rule(data=st.data())
    def remove(self, data):
        if self.model and data.draw(st.booleans()):
            items = data.draw(st.sampled_from(self.tuples()))
        else:
            items = data.draw(self.items())
        self.tx(nstore.remove, self.store, *items)
        self.model.pop(tuple(map(packed, items)), None)

    @rule(data=st.data())
    def get(self, data):
        items = data.draw(self.items())
        expected = self.model.get(tuple(map(packed, items)), (None, None))[1]
        assert self.tx(nstore.get, self.store, *items) == expected

    @rule(data=st.data())
    def select(self, data):
        pattern = self.pattern(data)
        got = self.tx(lambda tx: found.all(nstore.select(tx, self.store, *pattern)))
        expected = model_match(self.tuples(), pattern, {})
        assert Counter(map(canonical, got)) == Counter(map(canonical, expected))

    @rule(data=st.data())
    def join(self, data):
        patterns = [self.pattern(data) for _ in range(data.draw(st.integers(2, 3)))]
        got = self.tx(lambda tx: found.all(nstore.query(tx, self.store, *patterns)))
        expected = model_query(self.tuples(), patterns)
        assert Counter(map(canonical, got)) == Counter(map(canonical, expected))

    @invariant()
    def contents(self):
        everything = tuple(var("c{}".format(c)) for c in range(self.n))
        got = self.tx(lambda tx: found.all(nstore.select(tx, self.store, *everything)))
        assert sorted(canonical(b) for b in got) == sorted(
            canonical(b) for b in model_match(self.tuples(), everything, {})
        )
        pairs = store_keys(self.run(snapshot(self.db)))
        assert len(pairs) == len(self.model) * len(self.store.indices)
        values = Counter(value for _, value in pairs)
        assert values == Counter(value for _, value in self.model.values() for _ in self.store.indices)


class QuadMachine(NStoreMachine):
    n = 4


def test_triple_store_machine(tmp_path):
    run_machine(NStoreMachine, tmp_path, examples=60, steps=30)


def test_quad_store_machine(tmp_path):
    run_machine(QuadMachine, tmp_path, examples=30, steps=25)


# --- behaviour details ---------------------------------------------------------


async def test_select_with_seed_and_where_over_plain_iterables(db):
    store = nstore.make("seed", PREFIX, 3)

    async def fill(tx):
        await nstore.add(tx, store, "alice", "knows", "bob")
        await nstore.add(tx, store, "bob", "knows", "carol")
        await nstore.add(tx, store, "bob", "likes", "tea")

    await reset(db)
    await found.transactional(db, fill)

    async def read(tx):
        seeded = await found.all(
            nstore.select(tx, store, var("who"), var("verb"), var("what"), seed={"who": "bob", "n": 1})
        )
        chained = await found.all(
            nstore.where(tx, store, [{"who": "alice"}, {"who": "bob"}], var("who"), "knows", var("whom"))
        )
        return seeded, chained

    seeded, chained = await found.transactional(db, read)
    assert sorted(b["what"] for b in seeded) == ["carol", "tea"]
    assert all(b["who"] == "bob" and b["n"] == 1 for b in seeded)
    assert chained == [{"who": "alice", "whom": "bob"}, {"who": "bob", "whom": "carol"}]


async def test_add_replaces_the_value_and_get_returns_it(db):
    store = nstore.make("value", PREFIX, 2)
    await reset(db)
    await found.transactional(db, nstore.add, store, "k", 1, value=b"one")
    await found.transactional(db, nstore.add, store, "k", 1, value=bytearray(b"uno"))
    assert await found.transactional(db, nstore.get, store, "k", 1) == b"uno"
    assert await found.transactional(db, nstore.get, store, "k", 2) is None


def bad_calls(store):
    """(description, coroutine function of tx) pairs that must raise."""
    big = "x" * 10_001
    return [
        ("add arity", lambda tx: nstore.add(tx, store, "a", "b")),
        ("add arity+", lambda tx: nstore.add(tx, store, "a", "b", "c", "d")),
        ("remove arity", lambda tx: nstore.remove(tx, store, "a")),
        ("get arity", lambda tx: nstore.get(tx, store)),
        ("unpackable", lambda tx: nstore.add(tx, store, "a", object(), "c")),
        ("unpackable nested", lambda tx: nstore.add(tx, store, "a", "b", ("c", {1: 2}))),
        ("variable in add", lambda tx: nstore.add(tx, store, "a", var("x"), "c")),
        ("value not bytes", lambda tx: nstore.add(tx, store, "a", "b", "c", value="text")),
        ("value too large", lambda tx: nstore.add(tx, store, "a", "b", "c", value=b"v" * 100_001)),
        ("key too large", lambda tx: nstore.add(tx, store, "a", "b", big)),
        ("incomplete versionstamp", lambda tx: nstore.add(tx, store, "a", "b", found.Versionstamp())),
        ("select arity", lambda tx: found.all(nstore.select(tx, store, var("x")))),
        ("select unpackable", lambda tx: found.all(nstore.select(tx, store, object(), var("x"), var("y")))),
        ("select bad seed", lambda tx: found.all(nstore.select(tx, store, "a", "b", "c", seed=[1]))),
        ("query pattern not a tuple", lambda tx: found.all(nstore.query(tx, store, "abc"))),
        ("query arity", lambda tx: found.all(nstore.query(tx, store, ("a", "b", var("x")), ("a",)))),
    ]


async def test_bad_input_raises_and_writes_nothing(db):
    store = nstore.make("bad", PREFIX, 3)
    await reset(db)
    await found.transactional(db, nstore.add, store, "a", "b", "c")
    before = await snapshot(db)
    for description, call in bad_calls(store):
        error = await attempt(db, call, exception=NStoreException)
        assert isinstance(error, NStoreException), description
        assert str(error), description
        assert await snapshot(db) == before, description


def test_variable_names_are_str():
    with pytest.raises(NStoreException, match="variable name must be str"):
        var(1)
    assert var("x") == var("x") and var("x") != var("y") and len({var("x"), var("x")}) == 1
