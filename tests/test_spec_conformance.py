"""Conformance of found's public API with asyncio-foundationdb 0.13's documentation.

Each test checks one documented item (or a small group): the name exists, has
exactly the documented parameters (names, defaults, keyword-only markers),
is sync / coroutine / async generator as documented, and behaves as
documented against the embedded engine. docs/spec-conformance.md maps every
documented item to its implementation and to the test here.
"""

import asyncio
import concurrent.futures
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import types
import uuid

import pytest

import found
from found.ext import bstore, eavstore, nstore, pool, pstore, vnstore

P = inspect.Parameter
POS = P.POSITIONAL_OR_KEYWORD
VAR = P.VAR_POSITIONAL
KW = P.KEYWORD_ONLY
VARKW = P.VAR_KEYWORD
NO = P.empty


@pytest.fixture
async def db(tmp_path):
    """found opened on a fresh engine directory."""
    return await found.open(str(tmp_path / "db"))


async def put(db, pairs):
    async def write(tx):
        for key, value in pairs:
            await found.set(tx, key, value)

    await found.transactional(db, write)


async def read(db, key):
    return await found.transactional(db, found.get, key)


def params(func):
    """[(name, kind, default)] of ``func``'s signature."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]


def nature(func):
    if inspect.isasyncgenfunction(func):
        return "asyncgen"
    if inspect.iscoroutinefunction(func):
        return "async"
    return "sync"


# --- signatures: every documented callable, its parameters and its nature -------

# (object, documented parameters, documented nature). Parameters after the
# documented ones are allowed only when keyword-only with a default (found's
# additions cannot change how 0.13 code calls).
SIGNATURES = [
    ("found.open", found.open, [("cluster_file", POS, None)], "async"),
    (
        "found.transactional",
        found.transactional,
        [("db", POS, NO), ("func", POS, NO), ("args", VAR, NO), ("snapshot", KW, False), ("kwargs", VARKW, NO)],
        "async",
    ),
    ("found.make_hooks", found.make_hooks, [], "sync"),
    ("found.make_transaction", found.make_transaction, [("db", POS, NO)], "sync"),
    ("found.get", found.get, [("tx", POS, NO), ("key", POS, NO)], "async"),
    ("found.set", found.set, [("tx", POS, NO), ("key", POS, NO), ("value", POS, NO)], "async"),
    ("found.clear", found.clear, [("tx", POS, NO), ("key", POS, NO), ("other", POS, None)], "async"),
    (
        "found.query",
        found.query,
        [
            ("tx", POS, NO),
            ("key", POS, NO),
            ("other", POS, NO),
            ("limit", KW, 0),
            ("mode", KW, found.STREAMING_MODE_ITERATOR),
        ],
        "asyncgen",
    ),
    ("found.get_key", found.get_key, [("tx", POS, NO), ("key_selector", POS, NO)], "async"),
    ("found.commit", found.commit, [("tx", POS, NO)], "async"),
    ("found.on_error", found.on_error, [("tx", POS, NO), ("code", POS, NO)], "async"),
    ("found.reset", found.reset, [("tx", POS, NO)], "sync"),
    ("found.cancel", found.cancel, [("tx", POS, NO)], "sync"),
    ("found.get_committed_version", found.get_committed_version, [("tx", POS, NO)], "sync"),
    ("found.get_approximate_size", found.get_approximate_size, [("tx", POS, NO)], "async"),
    (
        "found.add_conflict_range",
        found.add_conflict_range,
        [("tx", POS, NO), ("begin", POS, NO), ("end", POS, NO), ("conflict_type", POS, NO)],
        "sync",
    ),
    ("found.set_option", found.set_option, [("tx", POS, NO), ("option", POS, NO), ("value", POS, None)], "sync"),
    ("found.watch", found.watch, [("tx", POS, NO), ("key", POS, NO)], "sync"),
    (
        "found.get_range_split_points",
        found.get_range_split_points,
        [("tx", POS, NO), ("begin", POS, NO), ("end", POS, NO), ("chunk_size", POS, NO)],
        "async",
    ),
    (
        "found.estimated_size_bytes",
        found.estimated_size_bytes,
        [("tx", POS, NO), ("begin", POS, NO), ("end", POS, NO)],
        "async",
    ),
    ("found.next_prefix", found.next_prefix, [("key", POS, NO)], "sync"),
    ("found.lt", found.lt, [("key", POS, NO), ("offset", POS, 0)], "sync"),
    ("found.lte", found.lte, [("key", POS, NO), ("offset", POS, 0)], "sync"),
    ("found.gt", found.gt, [("key", POS, NO), ("offset", POS, 1)], "sync"),
    ("found.gte", found.gte, [("key", POS, NO), ("offset", POS, 1)], "sync"),
    ("found.read_version", found.read_version, [("tx", POS, NO)], "async"),
    ("found.set_read_version", found.set_read_version, [("tx", POS, NO), ("version", POS, NO)], "async"),
    ("found.co", found.co, [("func", POS, NO)], "sync"),
    ("found.all", found.all, [("aiogenerator", POS, NO)], "async"),
    ("found.limit", found.limit, [("iterator", POS, NO), ("length", POS, NO)], "asyncgen"),
    ("found.get_client_version", found.get_client_version, [], "sync"),
    ("found.get_addresses_for_key", found.get_addresses_for_key, [("tx", POS, NO), ("key", POS, NO)], "async"),
    (
        "found.database_set_option",
        found.database_set_option,
        [("db", POS, NO), ("option", POS, NO), ("value", POS, None)],
        "sync",
    ),
    ("found.network_set_option", found.network_set_option, [("option", POS, NO), ("value", POS, None)], "sync"),
    (
        "found.add_network_thread_completion_hook",
        found.add_network_thread_completion_hook,
        [("callback", POS, NO)],
        "sync",
    ),
    ("found.error_predicate", found.error_predicate, [("predicate", POS, NO), ("code", POS, NO)], "sync"),
    ("bstore.make", bstore.make, [("name", POS, NO), ("prefix", POS, NO)], "sync"),
    ("bstore.get_or_create", bstore.get_or_create, [("tx", POS, NO), ("bstore", POS, NO), ("blob", POS, NO)], "async"),
    ("bstore.get", bstore.get, [("tx", POS, NO), ("bstore", POS, NO), ("uid", POS, NO)], "async"),
    ("nstore.make", nstore.make, [("name", POS, NO), ("prefix", POS, NO), ("n", POS, NO)], "sync"),
    ("nstore.add", nstore.add, [("tx", POS, NO), ("nstore", POS, NO), ("items", VAR, NO), ("value", KW, b"")], "async"),
    ("nstore.remove", nstore.remove, [("tx", POS, NO), ("nstore", POS, NO), ("items", VAR, NO)], "async"),
    ("nstore.get", nstore.get, [("tx", POS, NO), ("nstore", POS, NO), ("items", VAR, NO)], "async"),
    ("nstore.var", nstore.var, [("name", POS, NO)], "sync"),
    (
        "nstore.select",
        nstore.select,
        [("tx", POS, NO), ("nstore", POS, NO), ("pattern", VAR, NO), ("seed", KW, None)],
        "asyncgen",
    ),
    (
        "nstore.where",
        nstore.where,
        [("tx", POS, NO), ("nstore", POS, NO), ("iterator", POS, NO), ("pattern", VAR, NO)],
        "asyncgen",
    ),
    (
        "nstore.query",
        nstore.query,
        [("tx", POS, NO), ("nstore", POS, NO), ("pattern", POS, NO), ("patterns", VAR, NO)],
        "sync",
    ),
    ("eavstore.make", eavstore.make, [("name", POS, NO), ("prefix", POS, NO)], "sync"),
    (
        "eavstore.create",
        eavstore.create,
        [("tx", POS, NO), ("eavstore", POS, NO), ("dict", POS, NO), ("uid", POS, None)],
        "async",
    ),
    ("eavstore.get", eavstore.get, [("tx", POS, NO), ("eavstore", POS, NO), ("uid", POS, NO)], "async"),
    ("eavstore.remove", eavstore.remove, [("tx", POS, NO), ("eavstore", POS, NO), ("uid", POS, NO)], "async"),
    (
        "eavstore.update",
        eavstore.update,
        [("tx", POS, NO), ("eavstore", POS, NO), ("uid", POS, NO), ("dict", POS, NO)],
        "async",
    ),
    (
        "eavstore.query",
        eavstore.query,
        [("tx", POS, NO), ("eavstore", POS, NO), ("key", POS, NO), ("value", POS, NO)],
        "asyncgen",
    ),
    ("pstore.make", pstore.make, [("name", POS, NO), ("prefix", POS, NO)], "sync"),
    (
        "pstore.index",
        pstore.index,
        [("tx", POS, NO), ("store", POS, NO), ("docuid", POS, NO), ("counter", POS, NO)],
        "async",
    ),
    ("vnstore.make", vnstore.make, [("name", POS, NO), ("prefix", POS, NO), ("items", POS, NO)], "sync"),
    ("vnstore.change_create", vnstore.change_create, [("tr", POS, NO), ("vnstore", POS, NO)], "async"),
    ("vnstore.change_list", vnstore.change_list, [("tr", POS, NO), ("vnstore", POS, NO)], "async"),
    ("vnstore.change_get", vnstore.change_get, [("tr", POS, NO), ("vnstore", POS, NO), ("changeid", POS, NO)], "async"),
    (
        "vnstore.change_continue",
        vnstore.change_continue,
        [("tr", POS, NO), ("vnstore", POS, NO), ("changeid", POS, NO)],
        "sync",
    ),
    (
        "vnstore.change_message",
        vnstore.change_message,
        [("tr", POS, NO), ("vnstore", POS, NO), ("changeid", POS, NO), ("message", POS, NO)],
        "async",
    ),
    (
        "vnstore.change_changes",
        vnstore.change_changes,
        [("tr", POS, NO), ("vnstore", POS, NO), ("changeid", POS, NO)],
        "async",
    ),
    (
        "vnstore.change_apply",
        vnstore.change_apply,
        [("tr", POS, NO), ("vnstore", POS, NO), ("changeid", POS, NO)],
        "async",
    ),
    (
        "vnstore.select",
        vnstore.select,
        [("tr", POS, NO), ("vnstore", POS, NO), ("pattern", VAR, NO), ("seed", KW, None)],
        "asyncgen",
    ),
    ("vnstore.ask", vnstore.ask, [("tr", POS, NO), ("vnstore", POS, NO), ("items", VAR, NO)], "async"),
    ("vnstore.add", vnstore.add, [("tr", POS, NO), ("vnstore", POS, NO), ("items", VAR, NO)], "async"),
    ("vnstore.remove", vnstore.remove, [("tr", POS, NO), ("vnstore", POS, NO), ("items", VAR, NO)], "async"),
    (
        "vnstore.where",
        vnstore.where,
        [("tr", POS, NO), ("vnstore", POS, NO), ("iterator", POS, NO), ("pattern", VAR, NO)],
        "asyncgen",
    ),
    (
        "pool.pool_for_each_par_map",
        pool.pool_for_each_par_map,
        [("loop", POS, NO), ("pool", POS, NO), ("f", POS, NO), ("p", POS, NO), ("iterator", POS, NO)],
        "async",
    ),
]


@pytest.mark.parametrize("name,func,documented,kind", SIGNATURES, ids=[s[0] for s in SIGNATURES])
def test_signature_and_nature(name, func, documented, kind):
    actual = params(func)
    names = {n for n, _, _ in documented}
    assert [p for p in actual if p[0] in names] == documented, name
    last_positional = max((i for i, p in enumerate(actual) if p[0] in names and p[1] in (POS, VAR)), default=-1)
    for index, (extra_name, extra_kind, extra_default) in enumerate(actual):
        if extra_name in names:
            continue
        # An addition must not change how documented calls bind: optional, and
        # keyword-only or after every documented positional parameter.
        assert extra_default is not NO and extra_kind in (KW, POS), (name, extra_name)
        assert extra_kind == KW or index > last_positional, (name, extra_name)
    assert nature(func) == kind, name


# Documented with a required ``limit``; a default is an addition old calls do not see.
def test_pstore_search_signature():
    actual = params(pstore.search)
    assert [(n, k) for n, k, _ in actual] == [("tx", POS), ("store", POS), ("keywords", POS), ("limit", POS)]
    assert nature(pstore.search) == "async"


def test_vnstore_query_signature():
    """Documented ``await vnstore.query(...)``: the result must be awaitable (and iterable)."""
    assert [(n, k) for n, k, _ in params(vnstore.query)] == [
        ("tr", POS),
        ("vnstore", POS),
        ("pattern", POS),
        ("patterns", VAR),
    ]


# --- exceptions --------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc", [found.FoundException, bstore.BStoreException, nstore.NStoreException, pstore.PStoreException]
)
def test_exceptions_inherit_base(exc):
    assert issubclass(exc, found.BaseFoundException)
    assert issubclass(found.BaseFoundException, Exception)


async def test_driver_errors_are_found_exceptions(db):
    tx = found.make_transaction(db)
    with pytest.raises(found.FoundException) as info:
        await found.on_error(tx, 2000)  # client_invalid_operation: not retryable
    assert info.value.code == 2000


# --- constants ---------------------------------------------------------------------

STREAMING = {"WANT_ALL": -2, "ITERATOR": -1, "EXACT": 0, "SMALL": 1, "MEDIUM": 2, "LARGE": 3, "SERIAL": 4}


@pytest.mark.parametrize("mode,value", sorted(STREAMING.items()))
def test_streaming_mode_constants(mode, value):
    assert getattr(found, "STREAMING_MODE_" + mode) == value


@pytest.mark.parametrize(
    "name,value",
    [
        ("ERROR_PREDICATE_RETRYABLE", 50000),
        ("ERROR_PREDICATE_MAYBE_COMMITTED", 50001),
        ("ERROR_PREDICATE_RETRYABLE_NOT_COMMITTED", 50002),
        ("CONFLICT_RANGE_TYPE_READ", 0),
        ("CONFLICT_RANGE_TYPE_WRITE", 1),
    ],
)
def test_numeric_constants(name, value):
    assert getattr(found, name) == value


@pytest.mark.parametrize(
    "prefix,examples",
    [
        ("FDB_TR_OPTION_", ["TIMEOUT", "RETRY_LIMIT", "READ_YOUR_WRITES_DISABLE", "ACCESS_SYSTEM_KEYS"]),
        ("FDB_DB_OPTION_", ["TRANSACTION_TIMEOUT", "TRANSACTION_RETRY_LIMIT", "LOCATION_CACHE_SIZE"]),
        ("FDB_NET_OPTION_", ["TRACE_ENABLE", "KNOB", "CLIENT_BUGGIFY_ENABLE"]),
    ],
)
def test_option_constants(prefix, examples):
    for example in examples:
        value = getattr(found, prefix + example)
        assert isinstance(value, int) and not isinstance(value, bool)


# --- README example ----------------------------------------------------------------


async def test_readme_example(tmp_path):
    async def get(tx, key):
        return await found.get(tx, key)

    async def set(tx, key, value):
        await found.set(tx, key, value)

    async def query(tx, key, other):
        return await found.all(found.query(tx, key, other))

    db = await found.open(str(tmp_path / "db"))
    assert await found.transactional(db, get, b"hello") is None
    await found.transactional(db, set, b"hello", b"world")
    assert await found.transactional(db, get, b"hello") == b"world"
    await found.transactional(db, set, b"azul", b"world")
    assert await found.transactional(db, query, b"", b"\xff") == [(b"azul", b"world"), (b"hello", b"world")]


# --- open / transactional / transaction ----------------------------------------------


async def test_open_returns_database_with_hooks(db):
    assert isinstance(db.hooks, found.Hooks)
    assert db.hooks == found.make_hooks()


async def test_open_error_is_found_exception(tmp_path):
    """0.13 checks fdb_create_database's return code: a bad cluster file raises FoundException."""
    cluster_file = tmp_path / "bad.cluster"
    cluster_file.write_text("not a connection string")
    with pytest.raises(found.FoundException):
        await found.open(str(cluster_file))


async def test_transactional_passes_args_and_kwargs(db):
    async def func(tx, a, b, *, c):
        assert isinstance(tx.vars, dict)
        return (a, b, c)

    assert await found.transactional(db, func, 1, 2, c=3) == (1, 2, 3)


async def test_transactional_snapshot_is_read_only(db):
    await put(db, [(b"k", b"v")])

    async def reader(tx):
        assert tx.snapshot
        return await found.get(tx, b"k")

    assert await found.transactional(db, reader, snapshot=True) == b"v"

    async def writer(tx):
        await found.set(tx, b"k", b"w")

    with pytest.raises(found.FoundException):
        await found.transactional(db, writer, snapshot=True)
    assert await read(db, b"k") == b"v"


async def test_transactional_retries_and_clears_vars(db):
    seen = []

    async def func(tx):
        seen.append(dict(tx.vars))
        tx.vars["attempt"] = len(seen)
        await found.set(tx, b"k", b"%d" % len(seen))
        if len(seen) == 1:
            raise found.FoundException(1020)  # not_committed: retryable

    await found.transactional(db, func)
    assert seen == [{}, {}]
    assert await read(db, b"k") == b"2"


async def test_transaction_context_manager_commits_on_clean_exit(db):
    async with found.transaction(db) as tx:
        await found.set(tx, b"k", b"v")
    assert await read(db, b"k") == b"v"


async def test_transaction_context_manager_abandons_on_exception_and_does_not_retry(db):
    attempts = []
    with pytest.raises(found.FoundException):
        async with found.transaction(db) as tx:
            attempts.append(tx)
            await found.set(tx, b"k", b"v")
            raise found.FoundException(1020)  # retryable, yet no retry here
    assert len(attempts) == 1
    assert await read(db, b"k") is None


def test_transaction_signature():
    assert params(found.transaction)[:2] == [("db", POS, NO), ("snapshot", POS, False)]


async def test_transaction_snapshot(db):
    async with found.transaction(db, snapshot=True) as tx:
        assert tx.snapshot


# --- hooks ---------------------------------------------------------------------------


def test_hooks_and_stats_shapes():
    assert found.Hooks._fields == ("on_begin", "on_commit", "on_post_commit")
    assert found.TransactionStats._fields[:3] == ("retries", "elapsed", "commit_bytes")
    stats = found.TransactionStats(2, 0.5, 100)  # 0.13 code builds it from the three documented fields
    assert (stats.retries, stats.elapsed, stats.commit_bytes) == (2, 0.5, 100)
    one, two = found.make_hooks(), found.make_hooks()
    assert one == found.Hooks([], [], [])
    one.on_begin.append(None)
    assert two.on_begin == []  # fresh lists each time


async def test_hooks_order_retry_and_stats(db):
    events = []
    commits = []

    async def on_begin(tx):
        events.append(("begin", dict(tx.vars)))

    async def on_commit(tx):
        commits.append(1)
        events.append(("commit",))
        await found.set(tx, b"hooked", b"yes")
        if len(commits) == 1:
            raise found.FoundException(1020)  # the first commit fails: everything re-runs

    async def on_post_commit(tx, stats):
        events.append(("post", stats))

    db.hooks.on_begin.append(on_begin)
    db.hooks.on_commit.append(on_commit)
    db.hooks.on_post_commit.append(on_post_commit)

    async def func(tx):
        tx.vars["x"] = 1
        events.append(("func",))
        await found.set(tx, b"k", b"v")

    await found.transactional(db, func)
    names = [event[0] for event in events]
    assert names == ["begin", "func", "commit", "begin", "func", "commit", "post"]
    assert events[3] == ("begin", {})  # after tx.vars.clear()
    stats = events[-1][1]
    assert isinstance(stats, found.TransactionStats)
    assert stats.retries == 1
    assert stats.elapsed >= 0
    assert stats.commit_bytes > 0
    assert await read(db, b"hooked") == b"yes"  # on_commit writes commit with the transaction


async def test_hooks_fire_for_transaction_context_manager(db):
    events = []

    async def on_begin(tx):
        events.append("begin")

    async def on_commit(tx):
        events.append("commit")

    async def on_post_commit(tx, stats):
        events.append(("post", stats.retries))

    db.hooks.on_begin.append(on_begin)
    db.hooks.on_commit.append(on_commit)
    db.hooks.on_post_commit.append(on_post_commit)
    async with found.transaction(db) as tx:
        events.append("body")
        await found.set(tx, b"k", b"v")
    assert events == ["begin", "body", "commit", ("post", 0)]


# --- get / set / clear -----------------------------------------------------------------


async def test_get_missing_is_none_and_set_get(db):
    assert await read(db, b"missing") is None
    await put(db, [(b"k", b"v")])
    assert await read(db, b"k") == b"v"


@pytest.mark.parametrize("call", ["get", "set-key", "set-value", "clear"])
async def test_bytes_are_required(db, call):
    tx = found.make_transaction(db)
    with pytest.raises(TypeError):
        if call == "get":
            await found.get(tx, "k")
        elif call == "set-key":
            await found.set(tx, "k", b"v")
        elif call == "set-value":
            await found.set(tx, b"k", "v")
        else:
            await found.clear(tx, "k")


async def test_clear_one_key_and_range_excluding_other(db):
    await put(db, [(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")])

    async def clear(tx):
        await found.clear(tx, b"a")
        await found.clear(tx, b"b", b"d")

    await found.transactional(db, clear)

    async def everything(tx):
        return await found.all(found.query(tx, b"", b"\xff"))

    assert await found.transactional(db, everything) == [(b"d", b"4")]


# --- query -------------------------------------------------------------------------


@pytest.fixture
async def abcd(db):
    await put(db, [(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")])
    return db


async def run(db, func, *args, **kwargs):
    return await found.transactional(db, func, *args, **kwargs)


async def collect(tx, key, other, **kwargs):
    return [k for k, _ in await found.all(found.query(tx, key, other, **kwargs))]


async def test_query_forward_excludes_other(abcd):
    assert await run(abcd, collect, b"a", b"c") == [b"a", b"b"]


async def test_query_reverse_when_key_greater(abcd):
    assert await run(abcd, collect, b"c", b"a") == [b"c", b"b", b"a"]
    assert await run(abcd, collect, b"\xff", b"") == [b"d", b"c", b"b", b"a"]


async def test_query_limit(abcd):
    assert await run(abcd, collect, b"", b"\xff", limit=2) == [b"a", b"b"]
    assert await run(abcd, collect, b"\xff", b"", limit=3) == [b"d", b"c", b"b"]
    assert await run(abcd, collect, b"", b"\xff", limit=0) == [b"a", b"b", b"c", b"d"]


@pytest.mark.parametrize("mode", sorted(STREAMING))
async def test_query_every_streaming_mode(abcd, mode):
    value = getattr(found, "STREAMING_MODE_" + mode)
    assert await run(abcd, collect, b"", b"\xff", limit=10, mode=value) == [b"a", b"b", b"c", b"d"]
    if mode != "EXACT":  # FoundationDB's exact mode requires a limit
        assert await run(abcd, collect, b"", b"\xff", mode=value) == [b"a", b"b", b"c", b"d"]


async def test_query_limit_and_mode_are_keyword_only(abcd):
    async def positional(tx):
        return await found.all(found.query(tx, b"", b"\xff", 1))

    with pytest.raises(TypeError):
        await run(abcd, positional)


async def test_query_accepts_key_selectors(abcd):
    assert await run(abcd, collect, found.gt(b"a"), found.gte(b"d")) == [b"b", b"c"]


# --- key selectors and get_key ----------------------------------------------------------


@pytest.mark.parametrize(
    "selector,expected",
    [
        (("lt", b"c"), b"b"),
        (("lte", b"c"), b"c"),
        (("gt", b"b"), b"c"),
        (("gte", b"b"), b"b"),
        (("gte", b"b", 2), b"c"),  # 0.13 fixed gte ignoring offset
        (("gt", b"a", 2), b"c"),
        (("lte", b"c", -1), b"b"),
        (("lt", b"c", -1), b"a"),
        (("gte", b"bb"), b"c"),
        (("lt", b"bb"), b"b"),
    ],
)
async def test_key_selectors_with_get_key(abcd, selector, expected):
    name, *args = selector
    made = getattr(found, name)(*args)

    async def resolve(tx):
        return await found.get_key(tx, made)

    assert await run(abcd, resolve) == expected


@pytest.mark.parametrize("name", ["lt", "lte", "gt", "gte"])
def test_key_selectors_require_bytes(name):
    with pytest.raises(TypeError):
        getattr(found, name)("k")


# --- manual transactions -----------------------------------------------------------


async def test_make_transaction_commit_and_committed_version(db):
    tx = found.make_transaction(db)
    await found.set(tx, b"k", b"v")
    assert await found.commit(tx) is None
    version = found.get_committed_version(tx)
    assert isinstance(version, int) and version > 0
    assert await read(db, b"k") == b"v"


async def test_on_error_retryable_returns_and_other_raises(db):
    tx = found.make_transaction(db)
    await found.set(tx, b"k", b"v")
    assert await found.on_error(tx, 1020) is None  # not_committed: retryable, tx reset
    await found.commit(tx)
    assert await read(db, b"k") is None  # the reset dropped the write
    with pytest.raises(found.FoundException):
        await found.on_error(tx, 2004)  # key_outside_legal_range: not retryable


async def test_reset_is_sync_and_forgets_writes(db):
    tx = found.make_transaction(db)
    await found.set(tx, b"k", b"v")
    assert found.reset(tx) is None
    assert await found.get(tx, b"k") is None
    await found.set(tx, b"other", b"x")
    await found.commit(tx)
    assert await read(db, b"k") is None
    assert await read(db, b"other") == b"x"


async def test_cancel_makes_operations_fail(db):
    tx = found.make_transaction(db)
    assert found.cancel(tx) is None
    with pytest.raises(found.FoundException) as info:
        await found.get(tx, b"k")
    assert info.value.code == 1025  # transaction_cancelled


async def test_get_approximate_size_grows(db):
    tx = found.make_transaction(db)
    before = await found.get_approximate_size(tx)
    await found.set(tx, b"k", b"v" * 1000)
    after = await found.get_approximate_size(tx)
    assert isinstance(after, int) and after >= before + 1000


async def test_get_versionstamp_created_before_commit_awaited_after(db):
    tx = found.make_transaction(db)
    await found.set(tx, b"k", b"v")
    pending = found.get_versionstamp(tx)
    assert inspect.isawaitable(pending)
    await found.commit(tx)
    stamp = await pending
    assert isinstance(stamp, bytes) and len(stamp) == 10
    assert int.from_bytes(stamp[:8], "big") == found.get_committed_version(tx)


async def test_add_conflict_range_read_conflicts(db):
    tx = found.make_transaction(db)
    await found.read_version(tx)
    assert found.add_conflict_range(tx, b"k", b"l", found.CONFLICT_RANGE_TYPE_READ) is None
    await found.set(tx, b"mine", b"1")
    await put(db, [(b"k1", b"theirs")])
    with pytest.raises(found.FoundException) as info:
        await found.commit(tx)
    assert info.value.code == 1020


async def test_add_conflict_range_write_conflicts(db):
    reader = found.make_transaction(db)
    await found.get(reader, b"k1")
    writer = found.make_transaction(db)
    found.add_conflict_range(writer, b"k", b"l", found.CONFLICT_RANGE_TYPE_WRITE)
    await found.set(writer, b"elsewhere", b"1")
    await found.commit(writer)
    await found.set(reader, b"mine", b"1")
    with pytest.raises(found.FoundException) as info:
        await found.commit(reader)
    assert info.value.code == 1020


async def test_set_option_sync(db):
    tx = found.make_transaction(db)
    assert found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, (60000).to_bytes(8, "little")) is None
    assert found.set_option(tx, found.FDB_TR_OPTION_READ_YOUR_WRITES_DISABLE) is None
    with pytest.raises(found.FoundException):
        found.set_option(tx, 987654, None)


async def test_watch_is_sync_and_returns_future(db):
    await put(db, [(b"w", b"0")])
    tx = found.make_transaction(db)
    watched = found.watch(tx, b"w")
    assert isinstance(watched, asyncio.Future)
    await found.commit(tx)
    await put(db, [(b"w", b"1")])
    assert await asyncio.wait_for(watched, 60) is None  # a hang guard, not a timing assertion


async def test_unused_watch_future_can_be_cancelled(db):
    errors = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        tx = found.make_transaction(db)
        watched = found.watch(tx, b"w")
        await found.commit(tx)
        watched.cancel()
        await put(db, [(b"w", b"changed")])  # fires the C watch after its future was cancelled
        for _ in range(3):
            await asyncio.sleep(0)
        assert watched.cancelled()
        assert errors == []
    finally:
        loop.set_exception_handler(None)


async def test_watch_requires_bytes(db):
    tx = found.make_transaction(db)
    with pytest.raises(TypeError):
        found.watch(tx, "w")


async def test_get_range_split_points(db):
    await put(db, [(b"s%04d" % i, b"x" * 1000) for i in range(50)])

    async def split(tx, begin, end, size):
        return await found.get_range_split_points(tx, begin, end, size)

    points = await run(db, split, b"s", b"t", 10_000)
    assert isinstance(points, list) and all(isinstance(p, bytes) for p in points)
    assert points == sorted(points)
    inner = [p for p in points if b"s" < p < b"t"]
    assert 3 <= len(inner) <= 6  # 50 KB in chunks of about 10 KB


async def test_get_range_split_points_empty_or_small_range_is_empty_list(db):
    await put(db, [(b"s%04d" % i, b"x" * 1000) for i in range(5)])

    async def split(tx, begin, end, size):
        return await found.get_range_split_points(tx, begin, end, size)

    assert await run(db, split, b"u", b"v", 10_000) == []  # documented: empty range
    assert await run(db, split, b"s", b"t", 10**9) == []  # documented: smaller than chunk_size


async def test_estimated_size_bytes(db):
    await put(db, [(b"e%03d" % i, b"x" * 100) for i in range(10)])

    async def estimate(tx):
        return await found.estimated_size_bytes(tx, b"e", b"f")

    size = await run(db, estimate)
    assert isinstance(size, int) and size >= 0


# --- helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key,expected", [(b"a", b"b"), (b"a\xff\xff", b"b"), (b"\x00", b"\x01"), (b"ab\xfe", b"ab\xff")]
)
def test_next_prefix(key, expected):
    assert found.next_prefix(key) == expected


@pytest.mark.parametrize("key", [b"\xff", b"\xff\xff\xff"])
def test_next_prefix_all_ff_raises_value_error(key):
    with pytest.raises(ValueError):
        found.next_prefix(key)


async def test_read_version_and_set_read_version(db):
    await put(db, [(b"k", b"old")])
    tx = found.make_transaction(db)
    version = await found.read_version(tx)
    assert isinstance(version, int)
    await put(db, [(b"k", b"new")])
    later = found.make_transaction(db)
    assert await found.set_read_version(later, version) is None
    assert await found.read_version(later) == version
    assert await found.get(later, b"k") == b"old"


async def test_co_all_limit():
    inc = found.co(lambda x: x + 1)
    assert inspect.iscoroutinefunction(inc)
    assert await inc(1) == 2

    async def numbers():
        for i in range(5):
            yield i

    assert await found.all(numbers()) == [0, 1, 2, 3, 4]
    assert await found.all(found.limit(numbers(), 3)) == [0, 1, 2]
    assert await found.all(found.limit(numbers(), 10)) == [0, 1, 2, 3, 4]


# --- atomic operations ------------------------------------------------------------------

ATOMICS = [
    ("add", (1).to_bytes(8, "little"), (41).to_bytes(8, "little"), (42).to_bytes(8, "little")),
    ("bit_and", b"\x0f", b"\x3c", b"\x0c"),
    ("bit_or", b"\x0f", b"\x30", b"\x3f"),
    ("bit_xor", b"\x0f", b"\xff", b"\xf0"),
    ("max", b"\x05\x00", b"\x00\x01", b"\x00\x01"),
    ("min", b"\x05\x00", b"\x00\x01", b"\x05\x00"),
    ("byte_max", b"abc", b"abd", b"abd"),
    ("byte_min", b"abc", b"abd", b"abc"),
    ("append_if_fits", b"ab", b"cd", b"abcd"),
    ("append_if_fits", b"a" * 99_999, b"cd", b"a" * 99_999),  # would exceed the value limit: no effect
    ("compare_and_clear", b"same", b"same", None),
    ("compare_and_clear", b"same", b"other", b"same"),
]


@pytest.mark.parametrize("name,initial,param,expected", ATOMICS, ids=[a[0] for a in ATOMICS])
async def test_atomic_operations(db, name, initial, param, expected):
    operation = getattr(found, name)
    assert params(operation) == [("tx", POS, NO), ("key", POS, NO), ("param", POS, NO)]
    assert inspect.iscoroutinefunction(operation)
    await put(db, [(b"atomic", initial)])
    await found.transactional(db, operation, b"atomic", param)
    assert await read(db, b"atomic") == expected


async def test_set_versionstamped_key_and_value(db):
    key = found.pack_with_versionstamp((b"vs", found.Versionstamp()))
    value = found.pack_with_versionstamp((found.Versionstamp(),))
    assert (
        params(found.set_versionstamped_key)
        == params(found.set_versionstamped_value)
        == [("tx", POS, NO), ("key", POS, NO), ("param", POS, NO)]
    )

    async def write(tx):
        await found.set_versionstamped_key(tx, key, b"payload")
        await found.set_versionstamped_value(tx, b"stamped", value)

    await found.transactional(db, write)
    prefix = found.pack((b"vs",))

    async def scan(tx):
        return await found.all(found.query(tx, prefix, found.next_prefix(prefix)))

    [(written, payload)] = await found.transactional(db, scan)
    assert payload == b"payload"
    stamp = found.unpack(written)[1]
    assert isinstance(stamp, found.Versionstamp) and stamp.is_complete()
    (stored,) = found.unpack(await read(db, b"stamped"))
    assert stored.is_complete() and stored.tr_version == stamp.tr_version


# --- tuple layer ------------------------------------------------------------------------

TUPLES = [
    (),
    (None,),
    (b"bytes", "text", 42, -7, 3.5, True, False),
    (uuid.UUID(int=5), (1, (2, None))),
    (2**70, -(2**70)),
]


@pytest.mark.parametrize("value", TUPLES)
def test_pack_unpack_match_fdb_tuple(value):
    import fdb.tuple

    packed = found.pack(value)
    assert packed == fdb.tuple.pack(value)
    assert found.unpack(packed) == fdb.tuple.unpack(packed)


@pytest.mark.parametrize("name", ["pack", "unpack", "pack_with_versionstamp", "has_incomplete_versionstamp"])
def test_tuple_functions_are_sync_with_one_positional_argument(name):
    """Documented as ``found.pack(tuple)`` etc. (the C codec's builtins have no
    introspectable signature: the pure-Python reference is checked, and the
    exported function is called with one positional argument in the tests below)."""
    from found import _tuple_py
    from found import tuple as layer

    for func in (getattr(found, name), getattr(layer, name)):
        assert callable(func) and not inspect.iscoroutinefunction(func)
    reference = getattr(_tuple_py, name, getattr(layer, name))
    first, *rest = inspect.signature(reference).parameters.values()
    assert first.kind in (P.POSITIONAL_ONLY, POS) and first.default is NO
    assert all(p.default is not NO or p.kind in (VAR, VARKW) for p in rest)


def test_versionstamp_helpers():
    incomplete = (b"k", found.Versionstamp())
    assert found.has_incomplete_versionstamp(incomplete) is True
    assert found.has_incomplete_versionstamp((b"k", 1)) is False
    head = found.pack((b"k",))
    # 0x33, 10 placeholder bytes, user version 0, then the stamp's offset (little-endian)
    expected = head + b"\x33" + b"\xff" * 10 + b"\x00\x00" + (len(head) + 1).to_bytes(4, "little")
    assert found.pack_with_versionstamp(incomplete) == expected
    complete = found.Versionstamp(b"\x01" * 10, 3)
    assert complete.is_complete()
    assert found.Versionstamp.from_bytes(complete.to_bytes()) == complete
    assert not found.Versionstamp().is_complete()
    assert found.unpack(found.pack((complete,))) == (complete,)


# --- client, network and database --------------------------------------------------------


def test_get_client_version():
    version = found.get_client_version()
    assert isinstance(version, str) and version


async def test_get_addresses_for_key(db):
    async def addresses(tx):
        return await found.get_addresses_for_key(tx, b"k")

    out = await run(db, addresses)
    assert isinstance(out, list) and all(isinstance(a, str) for a in out)


async def test_database_set_option(db):
    assert found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, (60000).to_bytes(8, "little")) is None
    with pytest.raises(found.FoundException):
        found.database_set_option(db, 987654)


def test_network_set_option_unknown_code_raises():
    with pytest.raises(found.FoundException):
        found.network_set_option(987654)


def test_network_option_before_open_and_completion_hook(tmp_path):
    """In a fresh process: a network option before the first open() is accepted,
    and a completion hook runs when the network thread exits."""
    script = (
        "import asyncio, found\n"
        "found.network_set_option(found.FDB_NET_OPTION_TRACE_FORMAT, b'json')\n"
        "found.add_network_thread_completion_hook(lambda: print('hook ran', flush=True))\n"
        "async def main():\n"
        "    db = await found.open(%r)\n"
        "    await found.transactional(db, found.set, b'k', b'v')\n"
        "asyncio.run(main())\n"
        "print('done', flush=True)\n" % str(tmp_path / "db")
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(found.__file__))),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["done", "hook", "ran"]


@pytest.mark.parametrize(
    "predicate,code,expected",
    [
        ("RETRYABLE", 1020, True),
        ("RETRYABLE", 2000, False),
        ("MAYBE_COMMITTED", 1021, True),
        ("MAYBE_COMMITTED", 1020, False),
        ("RETRYABLE_NOT_COMMITTED", 1020, True),
        ("RETRYABLE_NOT_COMMITTED", 1021, False),
    ],
)
def test_error_predicate(predicate, code, expected):
    assert found.error_predicate(getattr(found, "ERROR_PREDICATE_" + predicate), code) is expected


# --- docstrings -----------------------------------------------------------------------


def _modules():
    names = ["found"]
    for info in pkgutil.walk_packages(found.__path__, "found."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_module_docstring(name):
    module = importlib.import_module(name)
    if not isinstance(module, types.ModuleType) or not hasattr(module, "__file__"):
        pytest.fail("%s is not a module" % name)
    if module.__file__.endswith((".so", ".pyd")):
        return  # compiled extensions: not Python modules with docstrings of their own
    assert (module.__doc__ or "").strip(), name


def _public_definitions(module):
    """Public functions and classes defined in ``module``, and the public methods of those classes."""
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            yield name, obj
            for method_name, method in vars(obj).items():
                if not method_name.startswith("_") and inspect.isfunction(method):
                    yield name + "." + method_name, method


@pytest.mark.parametrize("name", _modules())
def test_public_functions_have_docstrings(name):
    module = importlib.import_module(name)
    missing = [what for what, obj in _public_definitions(module) if not (obj.__doc__ or "").strip()]
    assert not missing, "%s: no docstring on %s" % (name, missing)


# --- bstore -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, exception",
    [
        (lambda prefix: bstore.make("s", prefix), bstore.BStoreException),
        (lambda prefix: nstore.make("s", prefix, 3), nstore.NStoreException),
        (lambda prefix: eavstore.make("s", prefix), eavstore.EAVStoreException),
        (lambda prefix: pstore.make("s", prefix), pstore.PStoreException),
    ],
)
def test_store_make_takes_a_list_prefix_as_0_13_did(make, exception):
    # Deviation row "prefix should be a tuple" (docs/spec-conformance.md):
    # 0.13 called tuple(prefix), so a list works; a non-sequence is refused.
    assert make(["s", 1]).prefix == ("s", 1)
    with pytest.raises(exception, match="str"):
        make("s")


async def test_bstore(db):
    store = bstore.make("blobs", ("blobs",))

    async def create(tx, blob):
        return await bstore.get_or_create(tx, store, blob)

    one = await run(db, create, b"payload" * 1000)
    assert isinstance(one, uuid.UUID)  # as 0.13's uids
    assert await run(db, create, b"payload" * 1000) == one
    other = await run(db, create, b"other")
    assert other != one
    assert await run(db, bstore.get, store, one) == b"payload" * 1000
    assert await run(db, bstore.get, store, other) == b"other"
    with pytest.raises(bstore.BStoreException):
        await run(db, bstore.get, store, uuid.uuid4())


async def test_bstore_same_content_is_stored_once(db):
    store = bstore.make("blobs", ("blobs",))
    blob = bytes(range(256)) * 200

    async def everything(tx):
        return await found.all(found.query(tx, b"", b"\xff"))

    first = await run(db, bstore.get_or_create, store, blob)
    before = await run(db, everything)
    assert await run(db, bstore.get_or_create, store, blob) == first
    after = await run(db, everything)
    assert [k for k, _ in after] == [k for k, _ in before]
    assert sum(len(v) for _, v in after) < sum(len(v) for _, v in before) + 100


# --- nstore ----------------------------------------------------------------------------


@pytest.mark.parametrize("n,indices", [(2, 2), (3, 3), (4, 6), (5, 10)])
async def test_nstore_writes_central_binomial_indices(db, n, indices):
    """Documented: C(n, n//2) permutations, every add writes to all of them."""
    store = nstore.make("wide", ("wide",), n)
    await run(db, nstore.add, store, *range(n))

    async def everything(tx):
        return await found.all(found.query(tx, b"", b"\xff"))

    assert len(await run(db, everything)) == indices


async def test_nstore_add_get_remove(db):
    triples = nstore.make("triples", ("triples",), 3)
    await run(db, nstore.add, triples, "alice", "knows", "bob")
    await run(db, nstore.add, triples, "alice", "age", 42, value=b"v")
    assert await run(db, nstore.get, triples, "alice", "knows", "bob") == b""
    assert await run(db, nstore.get, triples, "alice", "age", 42) == b"v"
    assert await run(db, nstore.get, triples, "bob", "knows", "alice") is None
    await run(db, nstore.remove, triples, "alice", "knows", "bob")
    assert await run(db, nstore.get, triples, "alice", "knows", "bob") is None


async def test_nstore_select_where_query(db):
    triples = nstore.make("triples", ("triples",), 3)
    for s, p, o in [
        ("alice", "knows", "bob"),
        ("bob", "knows", "carol"),
        ("alice", "knows", "dan"),
        ("carol", "name", "Carol"),
        ("dan", "name", "Dan"),
    ]:
        await run(db, nstore.add, triples, s, p, o)
    var = nstore.var

    async def select(tx):
        return [dict(b) async for b in nstore.select(tx, triples, "alice", "knows", var("who"))]

    assert sorted(b["who"] for b in await run(db, select)) == ["bob", "dan"]

    async def seeded(tx):
        return [dict(b) async for b in nstore.select(tx, triples, "alice", "knows", var("who"), seed={"extra": 1})]

    assert all(b["extra"] == 1 for b in await run(db, seeded))

    async def where(tx):
        first = nstore.select(tx, triples, "alice", "knows", var("who"))
        return [dict(b) async for b in nstore.where(tx, triples, first, var("who"), "name", var("name"))]

    assert [b["name"] for b in await run(db, where)] == ["Dan"]

    async def query(tx):
        return [
            dict(b)
            async for b in nstore.query(tx, triples, (var("a"), "knows", var("b")), (var("b"), "knows", var("c")))
        ]

    assert await run(db, query) == [{"a": "alice", "b": "bob", "c": "carol"}]


# --- eavstore ---------------------------------------------------------------------------


async def test_eavstore(db):
    store = eavstore.make("people", ("people",))
    uid = await run(db, eavstore.create, store, {"name": "alice", "age": 42})
    assert await run(db, eavstore.get, store, uid) == {"name": "alice", "age": 42}
    given = uuid.uuid4()
    assert await run(db, eavstore.create, store, {"name": "bob", "age": 42}, given) == given

    async def query(tx, key, value):
        return [u async for u in eavstore.query(tx, store, key, value)]

    assert sorted(await run(db, query, "age", 42), key=str) == sorted([uid, given], key=str)
    await run(db, eavstore.update, store, uid, {"name": "alice", "city": "Paris"})
    assert await run(db, eavstore.get, store, uid) == {"name": "alice", "city": "Paris"}
    assert await run(db, query, "age", 42) == [given]
    await run(db, eavstore.remove, store, uid)
    assert await run(db, eavstore.get, store, uid) == {}
    assert await run(db, query, "name", "alice") == []
    assert await run(db, eavstore.get, store, uuid.uuid4()) == {}


# --- pstore -----------------------------------------------------------------------------


async def test_pstore(db):
    store = pstore.make("docs", ("docs",))
    await run(db, pstore.index, store, "d1", {"fox": 3, "dog": 1})
    await run(db, pstore.index, store, "d2", {"fox": 1})
    await run(db, pstore.index, store, "d3", {"cat": 5})
    assert await run(db, pstore.search, store, ["fox"], 10) == [("d1", 3), ("d2", 1)]
    assert await run(db, pstore.search, store, ["fox"], 1) == [("d1", 3)]
    assert await run(db, pstore.search, store, ["fox", "dog"], 10) == [("d1", 4)]
    assert await run(db, pstore.search, store, ["bird"], 10) == []


@pytest.mark.parametrize("counter", [{"fox": 0}, {"fox": -1}, {1: 2}])
async def test_pstore_counter_must_map_str_to_positive_int(db, counter):
    store = pstore.make("docs", ("docs",))
    with pytest.raises(pstore.PStoreException):
        await run(db, pstore.index, store, "d1", counter)


# --- vnstore ----------------------------------------------------------------------------


async def test_vnstore_changes(db):
    store = vnstore.make("v", ("v",), ("subject", "predicate", "object"))
    changeid = await run(db, vnstore.change_create, store)
    change = await run(db, vnstore.change_get, store, changeid)
    assert {"uid", "type", "significance", "message"} <= set(change)
    assert change["uid"] == changeid and change["significance"] is None and change["message"] is None
    assert await run(db, vnstore.change_get, store, uuid.uuid4()) is None

    async def edit(tx):
        assert vnstore.change_continue(tx, store, changeid) is None
        assert await vnstore.add(tx, store, "alice", "knows", "bob") is True
        await vnstore.change_message(tx, store, changeid, "first change")

    await run(db, edit)
    assert (await run(db, vnstore.change_get, store, changeid))["message"] == "first change"
    assert len(await run(db, vnstore.change_changes, store, changeid)) == 1
    assert await run(db, vnstore.ask, store, "alice", "knows", "bob") is False  # not applied yet
    await run(db, vnstore.change_apply, store, changeid)
    significance = (await run(db, vnstore.change_get, store, changeid))["significance"]
    # Documented: a uuid7. found deliberately uses the applying commit's
    # versionstamp (docs/vnstore.md, "Order"); both are set on apply and
    # order history. See docs/spec-conformance.md (deviations).
    assert significance is not None
    assert await run(db, vnstore.ask, store, "alice", "knows", "bob") is True
    [listed] = await run(db, vnstore.change_list, store)
    assert {"uid", "type", "significance", "message"} <= set(listed) and listed["uid"] == changeid

    second = await run(db, vnstore.change_create, store)

    async def remove(tx):
        vnstore.change_continue(tx, store, second)
        return (
            await vnstore.remove(tx, store, "alice", "knows", "bob"),
            await vnstore.remove(tx, store, "nobody", "knows", "bob"),
        )

    assert await run(db, remove) == (True, False)
    await run(db, vnstore.change_apply, store, second)
    assert await run(db, vnstore.ask, store, "alice", "knows", "bob") is False
    later = (await run(db, vnstore.change_get, store, second))["significance"]
    assert later > significance  # applied later: later in history


async def test_vnstore_select_where_query(db):
    store = vnstore.make("v", ("v",), ("subject", "predicate", "object"))
    changeid = await run(db, vnstore.change_create, store)

    async def edit(tx):
        vnstore.change_continue(tx, store, changeid)
        await vnstore.add(tx, store, "alice", "knows", "bob")
        await vnstore.add(tx, store, "bob", "name", "Bob")

    await run(db, edit)
    await run(db, vnstore.change_apply, store, changeid)
    var = nstore.var

    async def select(tx):
        return [dict(b) async for b in vnstore.select(tx, store, var("s"), "knows", var("o"))]

    assert await run(db, select) == [{"s": "alice", "o": "bob"}]

    async def where(tx):
        first = vnstore.select(tx, store, "alice", "knows", var("o"))
        return [dict(b) async for b in vnstore.where(tx, store, first, var("o"), "name", var("n"))]

    assert await run(db, where) == [{"o": "bob", "n": "Bob"}]

    async def query_awaited(tx):
        bindings = await vnstore.query(tx, store, (var("s"), "knows", var("o")), (var("o"), "name", var("n")))
        return [b async for b in bindings]

    async def query_iterated(tx):
        return [dict(b) async for b in vnstore.query(tx, store, (var("s"), "knows", var("o")))]

    assert await run(db, query_iterated) == [{"s": "alice", "o": "bob"}]
    [binding] = await run(db, query_awaited)
    assert dict(binding) == {"s": "alice", "o": "bob", "n": "Bob"}
    with pytest.raises(TypeError):
        binding["s"] = "mallory"  # immutable mapping


async def test_vnstore_select_yields_dicts(db):
    store = vnstore.make("v", ("v",), ("subject", "predicate", "object"))
    changeid = await run(db, vnstore.change_create, store)

    async def edit(tx):
        vnstore.change_continue(tx, store, changeid)
        await vnstore.add(tx, store, "alice", "knows", "bob")

    await run(db, edit)
    await run(db, vnstore.change_apply, store, changeid)

    async def select(tx):
        return [b async for b in vnstore.select(tx, store, nstore.var("s"), "knows", "bob")]

    [binding] = await run(db, select)
    assert isinstance(binding, dict)


def test_vnstore_server_surface(monkeypatch, tmp_path):
    import socket

    import uvicorn

    from found.ext.vnstore import launcher
    from found.ext.vnstore import server as module

    assert [p.name for p in inspect.signature(module.server).parameters.values()] == ["scope", "receive", "send"]
    served, bound = [], []

    def run(self, sockets):
        served.append(self.config)
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    # found-vnstore binds the address itself before it says it serves; port 8000 may be taken here.
    monkeypatch.setattr(launcher, "_bind", lambda host, port: bound.append((host, port)) or socket.socket())
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the engine reads the process environment
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setattr(sys, "argv", ["found-vnstore"])
    module.main()
    [config] = served
    assert config.app == "found.ext.vnstore.server:server"
    assert bound == [("127.0.0.1", 8000)]
    assert (config.host, config.port, config.lifespan) == ("127.0.0.1", 8000, "on")


class _Lifespan:
    """Drives an ASGI app's lifespan around requests, as an ASGI server does."""

    def __init__(self, app):
        self.app, self.state = app, {}
        self.inbox, self.outbox = asyncio.Queue(), asyncio.Queue()

    async def start(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        return await self.outbox.get()

    async def stop(self):
        await self.inbox.put({"type": "lifespan.shutdown"})
        out = await self.outbox.get()
        await self.task
        return out

    async def __call__(self, scope, receive, send):
        await self.app(dict(scope, state=dict(self.state)), receive, send)


async def test_vnstore_server_lifespan_and_routes(tmp_path, monkeypatch):
    """The documented ``server`` callable, its lifespan and every documented route."""
    import re

    import httpx

    from found.ext.vnstore import server as module

    monkeypatch.setenv(module.DATABASE_ENV, str(tmp_path / "db"))
    running = _Lifespan(module.server)
    assert await running.start() == {"type": "lifespan.startup.complete"}
    try:
        transport = httpx.ASGITransport(app=running)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            for path in ["/", "/history/", "/history/change/", "/navigate/"]:
                assert (await client.get(path)).status_code == 200, path
            created = await client.post("/history/change/", data={"description": "A change made by a test"})
            assert created.status_code == 303
            hexid = re.fullmatch(r"/history/u/([0-9a-f]{32})/", created.headers["location"]).group(1)
            base = "/history/u/%s/" % hexid
            for path in [base, base + "add/", base + "remove/", base + "apply/"]:
                assert (await client.get(path)).status_code == 200, path
            row = {"uid": "#i1", "key": "name", "value": "alice"}
            assert (await client.post(base + "add/", data=row)).status_code == 303
            assert (await client.post(base + "remove/", data=row)).status_code == 303
            assert (await client.post(base + "apply/")).status_code == 303
    finally:
        assert await running.stop() == {"type": "lifespan.shutdown.complete"}


@pytest.mark.parametrize(
    "text,value",
    [
        ("hello", "hello"),
        ("#none", None),
        ("#true", True),
        ("#false", False),
        ("#i42", 42),
        ("#f3.14", 3.14),
        ("#u" + "DEADBEEF" * 4, uuid.UUID("DEADBEEF" * 4)),
    ],
)
def test_vnstore_server_value_encoding(text, value):
    from found.ext.vnstore import server as module

    assert module.fromstring(text) == value
    assert module.fromstring(module.tostring(value)) == value


def test_vnstore_server_underscore_is_fresh_uuid():
    from found.ext.vnstore import server as module

    one, two = module.fromstring("_"), module.fromstring("_")
    assert isinstance(one, uuid.UUID) and one != two


# --- pool --------------------------------------------------------------------------------


async def test_pool_for_each_par_map():
    results = []
    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        await pool.pool_for_each_par_map(loop, executor, results.append, lambda x: x * x, iter(range(10)))
    assert sorted(results) == [x * x for x in range(10)]

    async def numbers():
        for i in range(5):
            yield i

    results.clear()
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        await pool.pool_for_each_par_map(loop, executor, results.append, lambda x: -x, numbers())
    assert sorted(results) == [-4, -3, -2, -1, 0]
