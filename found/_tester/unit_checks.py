"""UNIT_TESTS: found's own checks of what the stack machine cannot express.

The official Python tester runs its unit tests at this instruction; these
are found's, written on found's public API: database and transaction
options, watches, cancellation, retry limits (FoundationDB's option and
found.transactional's ``found_retry_limit``), timeouts (the option and
``found_timeout``), the size limit, approximate sizes and error predicates.
A failed check raises UnitCheckFailed, which stops the tester with a
non-zero exit status, as a failed unit test stops the official tester.

The timeout checks wait longer than the timeout they set, never shorter,
so a slow machine cannot make them fail.
"""

import asyncio
from typing import Awaitable, Callable, List

import found

_RETRYABLE = found.FDB_ERR_TRANSACTION_TOO_OLD
_CANCELLED = found.FDB_ERR_TRANSACTION_CANCELLED
_TIMED_OUT = found.FDB_ERR_TRANSACTION_TIMED_OUT
_TOO_LARGE = found.FDB_ERR_TRANSACTION_TOO_LARGE
_PAUSE = 0.2  # seconds: longer than every timeout below that must fire


class UnitCheckFailed(AssertionError):
    """A unit check found found (or the database) misbehaving."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise UnitCheckFailed(message)


async def _expect_error(code: int, awaitable: Awaitable, what: str) -> None:
    try:
        await awaitable
    except found.FoundException as exc:
        _check(exc.code == code, "%s: error %d, expected %d" % (what, exc.code, code))
        return
    raise UnitCheckFailed("%s: no error, expected %d" % (what, code))


async def _set_foo(tx: found.Transaction) -> None:
    await found.set(tx, b"foo", b"bar")


async def check_options(db: found.Database) -> None:
    """Every database and transaction option the official tests set is accepted."""
    for option, value in (
        (found.FDB_DB_OPTION_LOCATION_CACHE_SIZE, 100001),
        (found.FDB_DB_OPTION_MAX_WATCHES, 100001),
        (found.FDB_DB_OPTION_DATACENTER_ID, b"dc_id"),
        (found.FDB_DB_OPTION_MACHINE_ID, b"machine_id"),
        (found.FDB_DB_OPTION_SNAPSHOT_RYW_ENABLE, None),
        (found.FDB_DB_OPTION_SNAPSHOT_RYW_DISABLE, None),
        (found.FDB_DB_OPTION_TRANSACTION_LOGGING_MAX_FIELD_LENGTH, 1000),
        (found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, 100000),
        (found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, 0),
        (found.FDB_DB_OPTION_TRANSACTION_MAX_RETRY_DELAY, 100),
        (found.FDB_DB_OPTION_TRANSACTION_SIZE_LIMIT, 100000),
        (found.FDB_DB_OPTION_TRANSACTION_RETRY_LIMIT, 10),
        (found.FDB_DB_OPTION_TRANSACTION_RETRY_LIMIT, -1),
        (found.FDB_DB_OPTION_TRANSACTION_SIZE_LIMIT, 10000000),
        (found.FDB_DB_OPTION_TRANSACTION_CAUSAL_READ_RISKY, None),
        (found.FDB_DB_OPTION_TRANSACTION_INCLUDE_PORT_IN_ADDRESS, None),
    ):
        found.database_set_option(db, option, value)

    async def with_options(tx):
        for option, value in (
            (found.FDB_TR_OPTION_PRIORITY_SYSTEM_IMMEDIATE, None),
            (found.FDB_TR_OPTION_PRIORITY_BATCH, None),
            (found.FDB_TR_OPTION_CAUSAL_READ_RISKY, None),
            (found.FDB_TR_OPTION_CAUSAL_WRITE_RISKY, None),
            (found.FDB_TR_OPTION_READ_YOUR_WRITES_DISABLE, None),
            (found.FDB_TR_OPTION_READ_SYSTEM_KEYS, None),
            (found.FDB_TR_OPTION_ACCESS_SYSTEM_KEYS, None),
            (found.FDB_TR_OPTION_TRANSACTION_LOGGING_MAX_FIELD_LENGTH, 1000),
            (found.FDB_TR_OPTION_TIMEOUT, 60 * 1000),
            (found.FDB_TR_OPTION_RETRY_LIMIT, 50),
            (found.FDB_TR_OPTION_MAX_RETRY_DELAY, 100),
            (found.FDB_TR_OPTION_USED_DURING_COMMIT_PROTECTION_DISABLE, None),
            (found.FDB_TR_OPTION_DEBUG_TRANSACTION_IDENTIFIER, b"my_transaction"),
            (found.FDB_TR_OPTION_LOG_TRANSACTION, None),
            (found.FDB_TR_OPTION_READ_LOCK_AWARE, None),
            (found.FDB_TR_OPTION_LOCK_AWARE, None),
            (found.FDB_TR_OPTION_INCLUDE_PORT_IN_ADDRESS, None),
        ):
            found.set_option(tx, option, value)
        await found.get(tx, b"\xff")  # a system key: readable with READ_SYSTEM_KEYS

    await found.transactional(db, with_options)


async def check_watches(db: found.Database) -> None:
    """Watches fire on a change made after their commit, not before, and can be cancelled."""

    async def prepare(tx):
        await found.set(tx, b"w0", b"0")
        await found.set(tx, b"w3", b"3")
        await found.set(tx, b"w1", b"1")

    await found.transactional(db, prepare)
    watches: List[asyncio.Future] = []

    async def register(tx):
        watches[:] = [found.watch(tx, key) for key in (b"w0", b"w1", b"w3")]
        await found.set(tx, b"w0", b"0")  # the transaction's own write does not fire it
        _check(not watches[0].done(), "a watch was ready before its transaction committed")

    await found.transactional(db, register)

    async def register_unused(tx):
        return found.watch(tx, b"w2")

    unused = await found.transactional(db, register_unused)
    await asyncio.sleep(_PAUSE)
    _check(not any(w.done() for w in watches), "a watch fired without a change")
    unused.cancel()
    await asyncio.sleep(0)
    _check(unused.cancelled(), "a cancelled watch was not cancelled")

    async def change(tx):
        await found.set(tx, b"w0", b"a")
        await found.clear(tx, b"w1")
        await found.bit_xor(tx, b"w3", b"\xff\xff")

    await found.transactional(db, change)
    await asyncio.wait_for(asyncio.gather(*watches), 60)


async def check_cancellation(db: found.Database) -> None:
    """A cancelled transaction fails with 1025 until reset, through on_error too."""
    tx = found.make_transaction(db)
    found.cancel(tx)
    await _expect_error(_CANCELLED, found.commit(tx), "commit after cancel")
    tx = found.make_transaction(db)
    found.cancel(tx)
    found.reset(tx)
    await found.commit(tx)  # cancellation does not survive reset
    tx = found.make_transaction(db)
    found.cancel(tx)
    await _expect_error(_CANCELLED, found.on_error(tx, _RETRYABLE), "on_error after cancel")
    await _expect_error(_CANCELLED, found.commit(tx), "commit after cancel and on_error")
    tx = found.make_transaction(db)
    await found.get(tx, b"foo")
    found.cancel(tx)
    await _expect_error(_CANCELLED, found.read_version(tx), "read version after cancel")
    tx = found.make_transaction(db)
    found.set_option(tx, found.FDB_TR_OPTION_RETRY_LIMIT, 0)
    found.cancel(tx)
    await _expect_error(_CANCELLED, found.on_error(tx, _RETRYABLE), "on_error after cancel, retry limit hit")


async def _retry(tx: found.Transaction, limit=None) -> Awaitable[None]:
    if limit is not None:
        found.set_option(tx, found.FDB_TR_OPTION_RETRY_LIMIT, limit)
    await _set_foo(tx)
    return found.on_error(tx, _RETRYABLE)


async def check_retry_limits(db: found.Database) -> None:
    """FoundationDB's retry limit option (transaction and database) and found_retry_limit."""
    tx = found.make_transaction(db)
    await (await _retry(tx, 1))
    await _expect_error(_RETRYABLE, await _retry(tx, 1), "retry limit 1, second retry")
    await _expect_error(_CANCELLED, await _retry(tx, 1), "retry past the limit")
    tx = found.make_transaction(db)
    await _expect_error(_RETRYABLE, await _retry(tx, 0), "retry limit 0")
    found.reset(tx)
    await (await _retry(tx, 1))  # the count of retries does not survive reset
    tx = found.make_transaction(db)
    await (await _retry(tx))
    await (await _retry(tx))
    await _expect_error(_RETRYABLE, await _retry(tx, 1), "retry limit set after two retries")

    found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_RETRY_LIMIT, 1)
    try:
        tx = found.make_transaction(db)
        await (await _retry(tx))
        await _expect_error(_RETRYABLE, await _retry(tx), "database retry limit 1")
        tx = found.make_transaction(db)
        await (await _retry(tx, 2))
        await (await _retry(tx))  # the transaction's limit wins over the database's
        await _expect_error(_RETRYABLE, await _retry(tx), "transaction retry limit 2")
    finally:
        found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_RETRY_LIMIT, -1)

    calls = []

    async def always_retryable(tx):
        calls.append(None)
        raise found.FoundException(_RETRYABLE)

    await _expect_error(
        _RETRYABLE, found.transactional(db, always_retryable, found_retry_limit=2), "found_retry_limit=2"
    )
    _check(len(calls) == 3, "found_retry_limit=2 ran the function %d times, not 3" % len(calls))


async def check_timeouts(db: found.Database) -> None:
    """FoundationDB's timeout option (transaction and database) and found_timeout."""

    async def timed(timeout_ms: int, before: Callable = None) -> found.Transaction:
        tx = found.make_transaction(db)
        if before is not None:
            await before(tx)
        found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, timeout_ms)
        return tx

    tx = await timed(10)
    await asyncio.sleep(_PAUSE)
    await _expect_error(_TIMED_OUT, found.commit(tx), "commit after the timeout")
    tx = await timed(10)
    await asyncio.sleep(_PAUSE)
    await _expect_error(_TIMED_OUT, found.on_error(tx, _RETRYABLE), "on_error after the timeout")
    await _expect_error(_TIMED_OUT, found.commit(tx), "commit after the timeout and on_error")
    tx = await timed(10)
    found.reset(tx)  # the timeout does not survive reset
    await asyncio.sleep(_PAUSE)
    await found.commit(tx)
    tx = await timed(10, _set_foo)
    await asyncio.sleep(_PAUSE)
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 0)  # unsetting a fired timeout does not help
    await _expect_error(_TIMED_OUT, found.commit(tx), "commit after an unset fired timeout")
    tx = found.make_transaction(db)
    await _set_foo(tx)
    await asyncio.sleep(_PAUSE)
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 10)  # fires retroactively
    await _expect_error(_TIMED_OUT, found.commit(tx), "commit after a retroactive timeout")
    tx = await timed(100000, _set_foo)
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 0)
    await found.commit(tx)

    found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, 10)
    try:
        tx = found.make_transaction(db)
        await asyncio.sleep(_PAUSE)
        await _expect_error(_TIMED_OUT, found.commit(tx), "commit after the database's timeout")
    finally:
        found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, 0)

    async def slow(tx):
        await asyncio.sleep(60)

    await _expect_error(_TIMED_OUT, found.transactional(db, slow, found_timeout=_PAUSE / 4), "found_timeout")


async def check_sizes(db: found.Database) -> None:
    """The size limit options (2101) and approximate sizes that grow with the transaction."""

    async def set_big(tx, limit=None):
        if limit is not None:
            found.set_option(tx, found.FDB_TR_OPTION_SIZE_LIMIT, limit)
        await found.set(tx, b"t1", b"a" * 1024)

    await found.transactional(db, set_big)
    await _expect_error(_TOO_LARGE, found.transactional(db, set_big, 1000), "transaction size limit")
    found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_SIZE_LIMIT, 1000)
    try:
        await _expect_error(_TOO_LARGE, found.transactional(db, set_big), "database size limit")
    finally:
        found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_SIZE_LIMIT, 10000000)

    tx = found.make_transaction(db)
    sizes = []
    for step in (
        lambda: found.set(tx, b"key1", b"value1"),
        lambda: found.set(tx, b"key2", b"value2"),
        lambda: found.clear(tx, b"key3"),
    ):
        await step()
        sizes.append(await found.get_approximate_size(tx))
    found.add_conflict_range(tx, b"key3+", b"key3+\x00", found.CONFLICT_RANGE_TYPE_READ)
    sizes.append(await found.get_approximate_size(tx))
    found.add_conflict_range(tx, b"key4", b"key4\x00", found.CONFLICT_RANGE_TYPE_WRITE)
    sizes.append(await found.get_approximate_size(tx))
    _check(sizes == sorted(set(sizes)), "approximate sizes did not grow: %r" % (sizes,))
    found.cancel(tx)


async def check_predicates(db: found.Database) -> None:
    """FoundationDB's error predicates, through found.error_predicate."""
    not_committed, unknown = found.FDB_ERR_NOT_COMMITTED, found.FDB_ERR_COMMIT_UNKNOWN_RESULT
    _check(found.error_predicate(found.ERROR_PREDICATE_RETRYABLE, not_committed), "not_committed is retryable")
    _check(not found.error_predicate(found.ERROR_PREDICATE_RETRYABLE, 10), "10 is not retryable")
    _check(
        found.error_predicate(found.ERROR_PREDICATE_MAYBE_COMMITTED, unknown),
        "commit_unknown_result may have committed",
    )


CHECKS = (
    check_options,
    check_watches,
    check_cancellation,
    check_retry_limits,
    check_timeouts,
    check_sizes,
    check_predicates,
)


async def run(db: found.Database) -> None:
    """Run every check; the first failure raises UnitCheckFailed."""
    for check in CHECKS:
        await check(db)
