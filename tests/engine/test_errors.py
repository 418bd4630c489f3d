"""fdb_get_error messages, error predicates, and on_error's retry rules."""

import csv
import os

import fdb
import pytest

from engine_lib import CAPI

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "ffi", "reference", "fdb-errors-7.3.69.tsv")


def _reference_errors():
    with open(REFERENCE) as f:
        rows = [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r and r[0].strip().isdigit()]
    # messages are stored C-escaped (\" for ")
    return [(int(r[0]), r[2].encode().decode("unicode_escape")) for r in rows]


def test_every_error_message_matches_foundationdb():
    errors = _reference_errors()
    assert len(errors) > 300
    for code, message in errors:
        assert CAPI.fdb_get_error(code).decode() == message, code


def test_unknown_code_message():
    assert CAPI.fdb_get_error(424242) == CAPI.fdb_get_error(4000)


RETRYABLE_NOT_COMMITTED = [1020, 1007, 1009, 1038, 1078, 1042, 1051, 1037, 1213, 1223]
MAYBE_COMMITTED = [1021, 1039]
NOT_RETRYABLE = [0, 1000, 1025, 1031, 1101, 2004, 2017, 2101, 2102, 4100]


@pytest.mark.parametrize("code", RETRYABLE_NOT_COMMITTED + MAYBE_COMMITTED + NOT_RETRYABLE)
def test_predicates(code):
    retryable = code in RETRYABLE_NOT_COMMITTED + MAYBE_COMMITTED
    assert bool(CAPI.fdb_error_predicate(50000, code)) == retryable
    assert bool(CAPI.fdb_error_predicate(50001, code)) == (code in MAYBE_COMMITTED)
    assert bool(CAPI.fdb_error_predicate(50002, code)) == (code in RETRYABLE_NOT_COMMITTED)
    assert CAPI.fdb_error_predicate(12345, code) == 0


def test_binding_predicates_agree():
    assert fdb.predicates.is_retryable(fdb.FDBError(1020))
    assert fdb.predicates.is_maybe_committed(fdb.FDBError(1021))
    assert not fdb.predicates.is_retryable_not_committed(fdb.FDBError(1021))


@pytest.mark.parametrize("code", [1020, 1007, 1009, 1021, 1037])
def test_on_error_retries_retryable_and_resets(db, code):
    tr = db.create_transaction()
    tr[b"pending"] = b"1"
    tr.on_error(fdb.FDBError(code)).wait()
    assert tr[b"pending"].value is None  # the transaction was reset
    tr.commit().wait()
    assert db[b"pending"] is None


@pytest.mark.parametrize("code", [1000, 1025, 2004, 2101, 1101])
def test_on_error_returns_other_errors(db, code):
    tr = db.create_transaction()
    with pytest.raises(fdb.FDBError) as e:
        tr.on_error(fdb.FDBError(code)).wait()
    assert e.value.code == code


def test_retry_limit(db):
    tr = db.create_transaction()
    tr.options.set_retry_limit(2)
    tr.options.set_max_retry_delay(1)
    tr.on_error(fdb.FDBError(1020)).wait()
    tr.on_error(fdb.FDBError(1020)).wait()
    with pytest.raises(fdb.FDBError) as e:
        tr.on_error(fdb.FDBError(1020)).wait()
    assert e.value.code == 1020


def test_retry_limit_from_database_default(db):
    db.options.set_transaction_retry_limit(0)
    try:
        tr = db.create_transaction()
        with pytest.raises(fdb.FDBError) as e:
            tr.on_error(fdb.FDBError(1020)).wait()
        assert e.value.code == 1020
    finally:
        db.options.set_transaction_retry_limit(-1)


def test_options_survive_on_error_but_not_reset(db):
    tr = db.create_transaction()
    tr.options.set_retry_limit(1)
    tr.on_error(fdb.FDBError(1020)).wait()
    with pytest.raises(fdb.FDBError):
        tr.on_error(fdb.FDBError(1020)).wait()
    tr.reset()
    tr.on_error(fdb.FDBError(1020)).wait()  # reset restored the unlimited default


def test_transactional_decorator_retries_conflicts(db):
    db[b"n"] = b"0"
    attempts = []

    @fdb.transactional
    def bump(tr):
        attempts.append(1)
        n = int(tr[b"n"].value)
        if len(attempts) == 1:  # a competing writer slips in
            db[b"n"] = b"100"
        tr[b"n"] = str(n + 1).encode()

    bump(db)
    assert len(attempts) == 2
    assert db[b"n"] == b"101"


def test_cancelled_transaction(db):
    tr = db.create_transaction()
    tr.cancel()
    with pytest.raises(fdb.FDBError) as e:
        tr[b"a"].wait()
    assert e.value.code == 1025
    tr.reset()
    assert tr[b"a"].value is None
