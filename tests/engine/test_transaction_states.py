"""The transaction state machine of FoundationDB's client (ReadYourWrites'
onError, cancel, reset, retry limits, timeouts), as the official binding's
own unit tests (cancellation_timeout_tests.py) and FoundationDB's source
define it."""

import time

import fdb
import pytest

from engine_lib import error_code

TOO_OLD = fdb.FDBError(1007)


def _commit(tr):
    return error_code(lambda: tr.commit().wait())


def _on_error(tr, err=TOO_OLD):
    return error_code(lambda: tr.on_error(err).wait())


def test_on_error_with_success_is_client_invalid_operation(db):
    tr = db.create_transaction()
    assert _on_error(tr, fdb.FDBError(0)) == 2000
    assert _commit(tr) == 1025  # and the transaction is cancelled


@pytest.mark.parametrize("code", [2004, 1025, 2101])
def test_on_error_with_a_non_retryable_error_cancels(db, code):
    tr = db.create_transaction()
    assert _on_error(tr, fdb.FDBError(code)) == code
    assert error_code(lambda: tr[b"k"].wait()) == 1025
    tr.reset()  # until reset
    tr[b"k"] = b"v"
    assert _commit(tr) == 0


def test_cancellation_survives_on_error(db):
    tr = db.create_transaction()
    tr.cancel()
    assert _on_error(tr) == 1025
    assert _commit(tr) == 1025


def test_cancellation_survives_on_error_at_the_retry_limit(db):
    tr = db.create_transaction()
    tr.options.set_retry_limit(0)
    tr.cancel()
    assert _on_error(tr) == 1025


def test_retry_limit_reached_rethrows_then_cancels(db):
    tr = db.create_transaction()
    tr.options.set_retry_limit(1)
    assert _on_error(tr) == 0
    assert _on_error(tr) == 1007
    assert _on_error(tr) == 1025
    tr.reset()  # clears the limit and the count
    assert _on_error(tr) == 0


def test_retries_count_past_no_limit_and_a_later_limit_applies(db):
    tr = db.create_transaction()
    assert _on_error(tr) == 0
    assert _on_error(tr) == 0
    tr.options.set_retry_limit(1)
    assert _on_error(tr) == 1007


def test_database_and_transaction_retry_limits(db):
    db.options.set_transaction_retry_limit(1)
    tr = db.create_transaction()
    tr.options.set_retry_limit(2)  # the transaction's own limit wins
    assert [_on_error(tr) for _ in range(4)] == [0, 0, 1007, 1025]
    tr.reset()  # back to the database's limit
    assert [_on_error(tr) for _ in range(3)] == [0, 1007, 1025]


def test_a_fired_timeout_stays_fired(db):
    tr = db.create_transaction()
    tr[b"k"] = b"v"
    tr.options.set_timeout(20)
    time.sleep(0.2)  # well past the timeout: it has fired
    tr.options.set_timeout(0)
    assert _commit(tr) == 1031


def test_a_fired_timeout_survives_on_error(db):
    tr = db.create_transaction()
    tr.options.set_timeout(20)
    time.sleep(0.2)
    assert _on_error(tr) == 1031
    assert _commit(tr) == 1031
    tr.cancel()  # a dead transaction keeps its first error
    assert _commit(tr) == 1031
    tr.reset()
    assert _commit(tr) == 0


def test_an_unset_timeout_that_had_not_fired_is_gone(db):
    tr = db.create_transaction()
    tr.options.set_timeout(60000)
    tr.options.set_timeout(0)
    tr[b"k"] = b"v"
    assert _commit(tr) == 0


def test_timeout_and_retry_options_take_a_c_int(db):
    # FoundationDB reads them as ints (0..INT_MAX, the retry limit from -1):
    # beyond is 2006 invalid_option_value, not a timeout that fires at once
    # (a 2**63-1 ms deadline once wrapped around) or never.
    tr = db.create_transaction()
    tr.options.set_timeout(2**31 - 1)
    tr.options.set_retry_limit(2**31 - 1)
    tr.options.set_max_retry_delay(2**31 - 1)
    tr[b"k"] = b"v"
    assert _commit(tr) == 0
    for setter in (
        tr.options.set_timeout,
        tr.options.set_retry_limit,
        tr.options.set_max_retry_delay,
        db.options.set_transaction_timeout,
        db.options.set_transaction_retry_limit,
    ):
        with pytest.raises(fdb.FDBError) as caught:
            setter(2**31)
        assert caught.value.code == 2006, setter
    with pytest.raises(fdb.FDBError) as caught:
        tr.options.set_retry_limit(-2)
    assert caught.value.code == 2006


def test_on_error_resets_the_transaction_s_own_options(db):
    """ReadYourWritesTransaction::resetRyow: its options back to defaults,
    the persistent ones (timeout, retry_limit, max_retry_delay) kept."""
    tr = db.create_transaction()
    tr.options.set_access_system_keys()
    tr.options.set_read_your_writes_disable()
    tr.options.set_retry_limit(2)
    tr[b"\xff/x"].wait()  # allowed with the option
    assert _on_error(tr) == 0
    assert error_code(lambda: tr[b"\xff/x"].wait()) == 2004
    tr[b"k"] = b"mine"
    assert tr[b"k"].wait() == b"mine"  # read-your-writes is back on
    assert _on_error(tr) == 0
    assert _on_error(tr) == 1007  # the retry limit stayed


def test_reset_clears_persistent_options_too(db):
    tr = db.create_transaction()
    tr.options.set_retry_limit(0)
    tr.reset()
    assert _on_error(tr) == 0
