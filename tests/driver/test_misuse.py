"""Misuse gets a clear error: closed transactions and databases, wrong arguments, option values."""

import logging
import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import found
from driver_support import everything
from found._codes import OPTIONS

# Every function taking a transaction first, with arguments that are otherwise valid.
USES = [
    ("get", lambda tx: found.get(tx, b"k")),
    ("get_key", lambda tx: found.get_key(tx, found.gte(b"k"))),
    ("query", lambda tx: found.all(found.query(tx, b"a", b"b"))),
    ("read_version", lambda tx: found.read_version(tx)),
    ("set_read_version", lambda tx: found.set_read_version(tx, 1)),
    ("estimated_size_bytes", lambda tx: found.estimated_size_bytes(tx, b"a", b"b")),
    ("get_range_split_points", lambda tx: found.get_range_split_points(tx, b"a", b"b", 1000)),
    ("get_addresses_for_key", lambda tx: found.get_addresses_for_key(tx, b"k")),
    ("set", lambda tx: found.set(tx, b"k", b"v")),
    ("clear", lambda tx: found.clear(tx, b"k")),
    ("add", lambda tx: found.add(tx, b"k", b"\x01")),
    ("compare_and_clear", lambda tx: found.compare_and_clear(tx, b"k", b"v")),
    ("commit", lambda tx: found.commit(tx)),
    ("on_error", lambda tx: found.on_error(tx, 1020)),
    ("get_approximate_size", lambda tx: found.get_approximate_size(tx)),
]
SYNC_USES = [
    ("reset", lambda tx: found.reset(tx)),
    ("cancel", lambda tx: found.cancel(tx)),
    ("set_option", lambda tx: found.set_option(tx, found.FDB_TR_OPTION_CAUSAL_READ_RISKY)),
    ("add_conflict_range", lambda tx: found.add_conflict_range(tx, b"a", b"b", found.CONFLICT_RANGE_TYPE_READ)),
    ("get_versionstamp", lambda tx: found.get_versionstamp(tx)),
    ("watch", lambda tx: found.watch(tx, b"k")),
]


async def use(call, tx):
    out = call(tx)
    if hasattr(out, "__await__"):
        await out


async def kept_after_transactional(db, *, failing=False, **options):
    kept = []

    async def work(tx):
        kept.append(tx)
        await found.set(tx, b"inside", b"1")
        if failing:
            raise ValueError("func failed")

    if failing:
        with pytest.raises(ValueError):
            await found.transactional(db, work, **options)
    else:
        await found.transactional(db, work, **options)
    return kept[0]


@pytest.mark.parametrize("name,call", USES + SYNC_USES, ids=[n for n, _ in USES + SYNC_USES])
async def test_a_transaction_kept_after_transactional_is_closed(db, name, call):
    tx = await kept_after_transactional(db)
    with pytest.raises(found.InterfaceError, match="transaction is closed"):
        await use(call, tx)
    assert await everything(db) == [(b"inside", b"1")]  # nothing but the committed write


@pytest.mark.parametrize("options", [{}, {"found_timeout": 60}, {"found_retry_limit": 3}], ids=str)
@pytest.mark.parametrize("failing", [False, True])
async def test_the_write_of_a_kept_transaction_does_not_land(db, options, failing):
    tx = await kept_after_transactional(db, failing=failing, **options)
    assert "closed" in repr(tx)
    with pytest.raises(found.InterfaceError):
        await found.set(tx, b"late", b"x")
    with pytest.raises(found.InterfaceError):
        await found.commit(tx)
    assert await everything(db) == ([] if failing else [(b"inside", b"1")])


async def test_hooks_path_closes_too(db):
    seen = []

    async def on_begin(tx):
        seen.append(tx)

    db.hooks.on_begin.append(on_begin)
    tx = await kept_after_transactional(db)
    assert seen == [tx]
    with pytest.raises(found.InterfaceError):
        await found.get(tx, b"inside")


async def test_a_transaction_used_after_async_with_is_closed(db):
    async with found.transaction(db) as tx:
        await found.set(tx, b"a", b"1")
    version = found.get_committed_version(tx)  # reading the outcome stays allowed
    assert version > 0
    for _name, call in USES + SYNC_USES:
        with pytest.raises(found.InterfaceError):
            await use(call, tx)
    with pytest.raises(RuntimeError):
        async with found.transaction(db) as failed:
            await found.set(failed, b"b", b"2")
            raise RuntimeError("body failed")
    with pytest.raises(found.InterfaceError):
        await found.set(failed, b"b", b"2")
    assert await everything(db) == [(b"a", b"1")]


async def test_transactional_still_reuses_transactions_nobody_kept(db):
    async def work(tx):
        await found.set(tx, b"k", b"v")

    await found.transactional(db, work)
    assert len(db._spare) == 1  # recycled, not closed
    await found.transactional(db, found.get, b"k")
    assert await found.transactional(db, found.get, b"k") == b"v"


@pytest.mark.parametrize("name,call", USES + SYNC_USES, ids=[n for n, _ in USES + SYNC_USES])
@pytest.mark.parametrize("wrong", ["db", None, b"k"], ids=["database", "None", "bytes"])
async def test_a_non_transaction_is_a_type_error_naming_tx(db, name, call, wrong):
    value = db if wrong == "db" else wrong
    with pytest.raises(TypeError, match="tx must be a found.Transaction, not %s" % type(value).__name__):
        await use(call, value)


async def test_get_committed_version_checks_its_argument(db):
    with pytest.raises(TypeError, match="tx must be a found.Transaction, not Database"):
        found.get_committed_version(db)


async def test_a_sync_function_is_a_type_error_and_nothing_commits(db):
    def sync(tx):
        return 1

    with pytest.raises(TypeError, match="func must be an async function .*sync returned int"):
        await found.transactional(db, sync)
    with pytest.raises(TypeError, match="func must be an async function"):
        await found.transactional(db, 42)
    db.hooks.on_begin.append(lambda tx: found.set(tx, b"hook", b"1"))  # the hooks path checks too
    with pytest.raises(TypeError, match="func must be an async function"):
        await found.transactional(db, sync)
    db.hooks.on_begin.clear()
    assert await everything(db) == []


async def test_a_callable_returning_an_awaitable_is_accepted(db):
    assert await found.transactional(db, lambda tx: found.set(tx, b"k", b"v")) is None
    assert await found.transactional(db, lambda tx: found.get(tx, b"k")) == b"v"


async def test_transactional_and_transaction_name_db(db):
    with pytest.raises(TypeError, match="db must be a found.Database"):
        await found.transactional(None, found.get, b"k")
    with pytest.raises(TypeError, match="db must be a found.Database"):
        async with found.transaction(b"nope"):
            pass


# --- closing a database


async def test_close_and_async_with(directory):
    db = await found.open(directory)
    early = found.make_transaction(db)
    db.close()
    db.close()  # twice is harmless
    assert "closed" in repr(db)
    with pytest.raises(found.InterfaceError, match="database is closed"):
        found.make_transaction(db)
    with pytest.raises(found.InterfaceError):
        await found.transactional(db, found.get, b"k")
    with pytest.raises(found.InterfaceError):
        found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, 1000)
    await found.set(early, b"made", b"before close")  # a transaction made before keeps working
    await found.commit(early)
    async with await found.open(directory) as again:
        assert await found.transactional(again, found.get, b"made") == b"before close"
    with pytest.raises(found.InterfaceError):
        found.make_transaction(again)


# --- option values against the declared parameter types


def test_option_value_out_of_range_names_the_option():
    from found._network import option_value

    with pytest.raises(
        ValueError, match=r"option timeout \(500\) takes a signed 64-bit integer, not 18446744073709551616"
    ):
        option_value(2**64, "TransactionOption", found.FDB_TR_OPTION_TIMEOUT)


async def test_option_values_are_checked_on_every_scope(db):
    tx = found.make_transaction(db)
    with pytest.raises(ValueError, match=r"option timeout \(500\) takes a signed 64-bit integer"):
        found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 2**64)
    with pytest.raises(ValueError, match=r"option transaction_timeout \(500\)"):
        found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, -(2**63) - 1)
    with pytest.raises(TypeError, match=r"option timeout \(500\) takes an int"):
        found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, "60")
    with pytest.raises(TypeError, match=r"option causal_read_risky \(20\) takes no value"):
        found.set_option(tx, found.FDB_TR_OPTION_CAUSAL_READ_RISKY, 1)
    with pytest.raises(TypeError, match=r"option debug_transaction_identifier \(403\) takes a str"):
        found.set_option(tx, found.FDB_TR_OPTION_DEBUG_TRANSACTION_IDENTIFIER, 7)
    with pytest.raises(ValueError, match=r"option client_buggify_section_fired_probability \(83\)"):
        found.network_set_option(found.FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_FIRED_PROBABILITY, 2**70)
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 2**31 - 1)  # FoundationDB's largest timeout
    with pytest.raises(found.FoundException) as caught:  # an int64 beyond C int: the library's 2006
        found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 2**63 - 1)
    assert caught.value.code == 2006
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, struct.pack("<q", 60_000))
    found.set_option(tx, found.FDB_TR_OPTION_DEBUG_TRANSACTION_IDENTIFIER, "named")
    await found.set(tx, b"k", b"v")
    await found.commit(tx)


PARAMETERS = [
    (scope, name, code, param)
    for scope, name, code, param in OPTIONS
    if scope in ("NetworkOption", "DatabaseOption", "TransactionOption")
]
VALUES = st.one_of(
    st.none(), st.integers(), st.binary(max_size=16), st.text(max_size=8), st.floats(allow_nan=False), st.booleans()
)


def accepts(param, value) -> bool:
    if param is None:
        return value is None
    if isinstance(value, bytes):
        return True
    if param == "Int":
        return isinstance(value, int) and -(2**63) <= value < 2**63
    if param == "String":
        return isinstance(value, str)
    return False


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PARAMETERS), VALUES)
def test_every_option_checks_its_declared_type(option, value):
    from found._network import option_value

    scope, name, code, param = option
    if not accepts(param, value):
        # (a renamed option's message names its first name)
        with pytest.raises((TypeError, ValueError), match=r"option \w+ \(%d\) takes" % code):
            option_value(value, scope, code)
        return
    data, size = option_value(value, scope, code)
    if param is None:
        assert size == 0
    elif isinstance(value, bytes):
        assert (data, size) == (value, len(value))
    elif param == "Int":
        assert (data, size) == (struct.pack("<q", value), 8)
    else:
        assert (data, size) == (value.encode("utf-8"), len(value.encode("utf-8")))


# --- logging and help


async def test_retries_are_logged_at_debug(db, caplog):
    attempts = []

    async def conflicts_twice(tx):
        attempts.append(1)
        if len(attempts) <= 2:
            raise found.FoundException(1020)
        await found.set(tx, b"k", b"v")

    with caplog.at_level(logging.DEBUG, logger="found"):
        await found.transactional(db, conflicts_twice)
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2
    assert retries[0].startswith("found: transactional retry 1 after error 1020 (not_committed), backed off ")
    assert retries[1].startswith("found: transactional retry 2 after error 1020 (not_committed)")
    assert all(r.levelno == logging.DEBUG for r in caplog.records if "retry" in r.getMessage())


def test_help_of_open_says_where_the_data_goes():
    doc = found.open.__doc__
    assert "~/.local/share/found/engine" in doc and "default_directory()" in doc
    assert "close()" in doc and "async with await found.open" in doc


# --- the stores pass the transaction through: the same TypeError names tx


async def test_a_store_given_no_transaction_names_tx(db):
    from found.ext import bstore, nstore, vnstore

    triples = nstore.make("t", ("t",), 3)
    with pytest.raises(TypeError, match="tx must be a found.Transaction, not NoneType"):
        await found.all(nstore.select(None, triples, nstore.var("a"), "b", "c"))
    with pytest.raises(TypeError, match="tx must be a found.Transaction, not Database"):
        await nstore.add(db, triples, "a", "b", "c")
    with pytest.raises(TypeError, match="tx must be a found.Transaction, not Database"):
        await bstore.get_or_create(db, bstore.make("b", ("b",)), b"blob")
    with pytest.raises(TypeError, match="tx must be a found.Transaction, not Database"):
        await vnstore.change_create(db, vnstore.make("v", ("v",), ("a",)))
    assert await everything(db) == []


# --- the INFO line of open names where the data is


@pytest.mark.engine_only
def test_open_logs_the_default_directory_and_an_embedded_file(tmp_path):
    from driver_support import run_python

    pointer = tmp_path / "app.cluster"
    pointer.write_text("embedded:data\n")  # relative to the file's directory
    done = run_python(
        """
        import asyncio, logging, sys, found
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        async def main():
            await found.open()
            await found.open(sys.argv[1])
        asyncio.run(main())
    """,
        str(pointer),
        env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "FDB_CLUSTER_FILE": ""},
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("found: opened")]
    assert [line.split(" with ")[0] for line in lines] == [
        "found: opened data directory %s" % (tmp_path / "xdg" / "found" / "engine"),
        "found: opened data directory %s" % (tmp_path / "data"),
    ]
    assert os.path.isdir(tmp_path / "xdg" / "found" / "engine") and os.path.isdir(tmp_path / "data")
