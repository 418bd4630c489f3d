"""Watches in one process: fire on change, cancellation, lifecycle errors."""

import threading

import fdb
import pytest

LIVENESS_LIMIT_S = 30  # generous bound so a broken watch fails instead of hanging


def wait_ready(future):
    done = threading.Event()
    future.on_ready(lambda f: done.set())
    assert done.wait(LIVENESS_LIMIT_S), "watch never became ready"


def _error(future):
    try:
        future.wait()
        return 0
    except fdb.FDBError as e:
        return e.code


def test_watch_fires_when_another_transaction_changes_the_key(db):
    db[b"w"] = b"1"
    tr = db.create_transaction()
    w = tr.watch(b"w")
    tr.commit().wait()
    db[b"w"] = b"2"
    wait_ready(w)
    assert _error(w) == 0


def test_watch_fires_on_clear(db):
    db[b"w"] = b"1"
    w = db.watch(b"w") if hasattr(db, "watch") else None
    if w is None:
        tr = db.create_transaction()
        w = tr.watch(b"w")
        tr.commit().wait()
    del db[b"w"]
    wait_ready(w)
    assert _error(w) == 0


def test_watch_compares_with_the_transactions_own_write(db):
    db[b"w"] = b"old"
    tr = db.create_transaction()
    tr[b"w"] = b"mine"
    w = tr.watch(b"w")
    tr.commit().wait()
    db[b"w"] = b"theirs"
    wait_ready(w)
    assert _error(w) == 0


def test_watch_on_missing_key_fires_when_created(db):
    tr = db.create_transaction()
    w = tr.watch(b"new")
    tr.commit().wait()
    db[b"new"] = b"x"
    wait_ready(w)
    assert _error(w) == 0


def test_cancelled_watch(db):
    tr = db.create_transaction()
    w = tr.watch(b"w")
    tr.commit().wait()
    w.cancel()
    assert _error(w) == 1101


def test_watch_cancelled_before_commit(db):
    tr = db.create_transaction()
    w = tr.watch(b"w")
    w.cancel()
    tr.commit().wait()
    assert _error(w) == 1101


def test_watch_of_reset_transaction(db):
    tr = db.create_transaction()
    w = tr.watch(b"w")
    tr.reset()
    assert _error(w) == 1025


def test_watch_of_destroyed_transaction(db):
    tr = db.create_transaction()
    w = tr.watch(b"w")
    del tr
    import gc

    gc.collect()
    assert _error(w) == 1025


def test_watch_of_failed_commit_gets_its_error(db):
    tr = db.create_transaction()
    w = tr.watch(b"w")
    tr[b"k" * 10001] = b"v"
    with pytest.raises(fdb.FDBError):
        tr.commit().wait()
    assert _error(w) == 2102


def test_watches_disabled_without_read_your_writes(db):
    tr = db.create_transaction()
    tr.options.set_read_your_writes_disable()
    assert _error(tr.watch(b"w")) == 1034


def test_watch_callback_runs_exactly_once(db):
    calls = []
    fired = threading.Event()
    tr = db.create_transaction()
    w = tr.watch(b"once")
    w.on_ready(lambda f: (calls.append(1), fired.set()))
    tr.commit().wait()
    db[b"once"] = b"1"
    db[b"once"] = b"2"
    assert fired.wait(LIVENESS_LIMIT_S)
    w.cancel()
    assert calls == [1]


def test_transaction_timeout_ends_its_watches(db):
    tr = db.create_transaction()
    tr.options.set_timeout(50)
    w = tr.watch(b"never-changed")
    tr.commit().wait()
    wait_ready(w)
    assert _error(w) == 1031
