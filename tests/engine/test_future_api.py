"""The future API through raw C calls: readiness, callbacks, cancellation,
accessor errors (2015 future_not_set, 1102 future_released, 1101)."""

import ctypes
import threading
import time

import pytest

from engine_lib import CAPI
from writer_lock import writer_lock_held

vp = ctypes.c_void_p
CALLBACK = ctypes.CFUNCTYPE(None, vp, vp)
CAPI.fdb_transaction_watch.restype = vp
CAPI.fdb_transaction_watch.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
CAPI.fdb_transaction_get.restype = vp
CAPI.fdb_transaction_get.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
CAPI.fdb_transaction_get_read_version.restype = vp
CAPI.fdb_transaction_get_read_version.argtypes = [vp]
CAPI.fdb_transaction_commit.restype = vp
CAPI.fdb_transaction_commit.argtypes = [vp]
CAPI.fdb_transaction_set.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
for name in ("fdb_future_is_ready", "fdb_future_get_error", "fdb_future_block_until_ready", "fdb_future_is_error"):
    getattr(CAPI, name).argtypes = [vp]
for name in ("fdb_future_cancel", "fdb_future_destroy", "fdb_future_release_memory"):
    getattr(CAPI, name).argtypes = [vp]
    getattr(CAPI, name).restype = None
CAPI.fdb_future_set_callback.argtypes = [vp, CALLBACK, vp]
CAPI.fdb_future_get_value.argtypes = [
    vp,
    ctypes.POINTER(ctypes.c_int),
    ctypes.POINTER(vp),
    ctypes.POINTER(ctypes.c_int),
]
CAPI.fdb_future_get_int64.argtypes = [vp, ctypes.POINTER(ctypes.c_int64)]
CAPI.fdb_database_create_transaction.argtypes = [vp, ctypes.POINTER(vp)]
CAPI.fdb_transaction_destroy.argtypes = [vp]
CAPI.fdb_transaction_destroy.restype = None


@pytest.fixture
def tr(db):
    handle = vp()
    assert CAPI.fdb_database_create_transaction(db.dpointer, ctypes.byref(handle)) == 0
    yield handle.value
    CAPI.fdb_transaction_destroy(handle.value)


def get_value(f):
    present, value, length = ctypes.c_int(), vp(), ctypes.c_int()
    err = CAPI.fdb_future_get_value(f, ctypes.byref(present), ctypes.byref(value), ctypes.byref(length))
    return err, (ctypes.string_at(value, length.value) if present.value else None)


def test_reads_return_ready_futures(tr):
    f = CAPI.fdb_transaction_get(tr, b"k", 1, 0)
    assert CAPI.fdb_future_is_ready(f) == 1
    assert CAPI.fdb_future_get_error(f) == 0
    assert get_value(f) == (0, None)
    CAPI.fdb_future_destroy(f)


def test_pending_future_accessors_say_not_set(tr):
    f = CAPI.fdb_transaction_watch(tr, b"k", 1)
    assert CAPI.fdb_future_is_ready(f) == 0
    assert CAPI.fdb_future_get_error(f) == 2015
    assert get_value(f)[0] == 2015
    CAPI.fdb_future_destroy(f)


def test_wrong_accessor_is_invalid_operation(tr):
    f = CAPI.fdb_transaction_get(tr, b"k", 1, 0)
    out = ctypes.c_int64()
    assert CAPI.fdb_future_get_int64(f, ctypes.byref(out)) == 2000
    CAPI.fdb_future_destroy(f)


def test_release_memory(tr):
    f = CAPI.fdb_transaction_get_read_version(tr)
    CAPI.fdb_future_release_memory(f)
    out = ctypes.c_int64()
    assert CAPI.fdb_future_get_int64(f, ctypes.byref(out)) == 1102
    CAPI.fdb_future_destroy(f)


def test_callback_on_ready_future_runs_now_in_this_thread(tr):
    seen = []
    cb = CALLBACK(lambda fut, param: seen.append((fut, param, threading.get_ident())))
    f = CAPI.fdb_transaction_get(tr, b"k", 1, 0)
    assert CAPI.fdb_future_set_callback(f, cb, 42) == 0
    assert seen == [(f, 42, threading.get_ident())]
    CAPI.fdb_future_destroy(f)


def test_cancel_pending_future_fires_callback_once(tr):
    seen = []
    cb = CALLBACK(lambda fut, param: seen.append(CAPI.fdb_future_get_error(fut)))
    f = CAPI.fdb_transaction_watch(tr, b"k", 1)
    CAPI.fdb_future_set_callback(f, cb, None)
    CAPI.fdb_future_cancel(f)
    CAPI.fdb_future_cancel(f)
    assert seen == [1101]
    assert CAPI.fdb_future_is_error(f) == 1
    CAPI.fdb_future_destroy(f)
    assert seen == [1101]


def test_destroying_a_pending_future_with_callback(tr):
    seen = []
    cb = CALLBACK(lambda fut, param: seen.append(CAPI.fdb_future_get_error(fut)))
    f = CAPI.fdb_transaction_watch(tr, b"k", 1)
    CAPI.fdb_future_set_callback(f, cb, None)
    CAPI.fdb_future_destroy(f)
    assert seen == [1101]


def test_block_until_ready_wakes_on_completion(db, tr):
    f = CAPI.fdb_transaction_watch(tr, b"k", 1)
    c = CAPI.fdb_transaction_commit(tr)
    CAPI.fdb_future_block_until_ready(c)
    assert CAPI.fdb_future_get_error(c) == 0
    CAPI.fdb_future_destroy(c)
    changer = threading.Thread(target=lambda: db.__setitem__(b"k", b"changed"))
    changer.start()
    assert CAPI.fdb_future_block_until_ready(f) == 0
    changer.join()
    assert CAPI.fdb_future_get_error(f) == 0
    CAPI.fdb_future_destroy(f)


def test_each_blocked_thread_wakes_for_its_own_future(db, tr):
    # blocked threads wait on records of their own: a completion wakes all
    # of its future's waiters and none of another future's
    f1 = CAPI.fdb_transaction_watch(tr, b"k1", 2)
    f2 = CAPI.fdb_transaction_watch(tr, b"k2", 2)
    c = CAPI.fdb_transaction_commit(tr)
    CAPI.fdb_future_block_until_ready(c)
    assert CAPI.fdb_future_get_error(c) == 0
    CAPI.fdb_future_destroy(c)
    returned = []

    def block(f, name):
        CAPI.fdb_future_block_until_ready(f)
        returned.append((name, CAPI.fdb_future_is_ready(f)))

    first = [threading.Thread(target=block, args=(f1, "f1")) for _ in range(4)]
    second = [threading.Thread(target=block, args=(f2, "f2")) for _ in range(2)]
    for t in first + second:
        t.start()
    db[b"k1"] = b"changed"
    for t in first:
        t.join(30)
        assert not t.is_alive()
    assert sorted(returned) == [("f1", 1)] * 4
    assert not CAPI.fdb_future_is_ready(f2)
    CAPI.fdb_future_cancel(f2)
    for t in second:
        t.join(30)
        assert not t.is_alive()
    assert sorted(returned) == [("f1", 1)] * 4 + [("f2", 1)] * 2
    assert CAPI.fdb_future_get_error(f2) == 1101
    CAPI.fdb_future_destroy(f1)
    CAPI.fdb_future_destroy(f2)


def _start_commit(db, key):
    """A new transaction that sets key to b"1", and its commit future."""
    handle = vp()
    assert CAPI.fdb_database_create_transaction(db.dpointer, ctypes.byref(handle)) == 0
    CAPI.fdb_transaction_set(handle.value, key, len(key), b"1", 1)
    return handle.value, CAPI.fdb_transaction_commit(handle.value)


def _commit_one(db, key):
    tr, c = _start_commit(db, key)
    CAPI.fdb_future_block_until_ready(c)
    err = CAPI.fdb_future_get_error(c)
    CAPI.fdb_future_destroy(c)
    CAPI.fdb_transaction_destroy(tr)
    return err


def test_threads_blocked_on_commits_all_wake(db):
    # commit futures of a batch wake their blocked threads together (one
    # shared word): every thread must still see its own commit, none hang
    errors = []

    def writer(t):
        for i in range(40):
            errors.append(_commit_one(db, b"w%02d-%03d" % (t, i)))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert errors == [0] * (24 * 40)
    assert len(list(db.get_range(b"w", b"x"))) == 24 * 40


def _cancel_while_blocked(tr, c):
    """Cancel commit future c while another thread blocks on it; its error."""
    waiter = threading.Thread(target=CAPI.fdb_future_block_until_ready, args=(c,))
    waiter.start()
    CAPI.fdb_future_cancel(c)
    waiter.join(30)
    assert not waiter.is_alive()
    err = CAPI.fdb_future_get_error(c)
    CAPI.fdb_future_destroy(c)
    CAPI.fdb_transaction_destroy(tr)
    return err


def test_commit_cancelled_while_a_thread_blocks_on_it(db, tmp_path):
    # a cancel completes the commit future outside the batch: the blocked
    # thread must wake with 1101. Another process holds LMDB's writer lock,
    # so the commit is sure to be pending when the cancel comes, even when
    # this thread is descheduled meanwhile (the pause stands for that; a
    # commit queued behind a big one was not enough on a loaded machine).
    for i in range(3):
        with writer_lock_held(str(tmp_path / "data")):
            tr, c = _start_commit(db, b"c%03d" % i)
            time.sleep(0.05)
            assert _cancel_while_blocked(tr, c) == 1101
    # and racing the commit itself: either outcome, never a hang
    outcomes = {_cancel_while_blocked(*_start_commit(db, b"r%03d" % i)) for i in range(60)}
    assert outcomes <= {0, 1101}


def test_commit_completes_on_another_thread(tr):
    seen = []
    done = threading.Event()
    cb = CALLBACK(lambda fut, param: (seen.append(CAPI.fdb_future_get_error(fut)), done.set()))
    CAPI.fdb_transaction_set(tr, b"a", 1, b"b", 1)
    c = CAPI.fdb_transaction_commit(tr)
    CAPI.fdb_future_set_callback(c, cb, None)
    assert done.wait(30)
    assert seen == [0]
    CAPI.fdb_future_destroy(c)


def test_destroying_the_transaction_while_its_commit_runs(db):
    for _ in range(20):
        tr, c = _start_commit(db, b"d")
        CAPI.fdb_transaction_destroy(tr)
        CAPI.fdb_future_block_until_ready(c)
        assert CAPI.fdb_future_get_error(c) == 0
        CAPI.fdb_future_destroy(c)
    assert db[b"d"] == b"1"


def test_callbacks_run_once_when_destroyed_during_commit(db):
    calls = {}
    lock = threading.Lock()

    def on_ready(fut, param):
        with lock:
            calls[param] = calls.get(param, 0) + 1

    cb = CALLBACK(on_ready)
    for i in range(200):
        tr, c = _start_commit(db, b"x%03d" % i)
        CAPI.fdb_future_set_callback(c, cb, i + 1)
        CAPI.fdb_future_destroy(c)  # maybe before the commit thread is done
        CAPI.fdb_transaction_destroy(tr)
    with lock:
        assert calls == {i + 1: 1 for i in range(200)}


def test_null_pointers_mean_empty_keys_and_values(db, tr):
    CAPI.fdb_transaction_set(tr, None, 0, None, 0)  # the empty key, empty value
    f = CAPI.fdb_transaction_get(tr, None, 0, 0)
    assert get_value(f) == (0, b"")
    CAPI.fdb_future_destroy(f)
    CAPI.fdb_transaction_clear_range.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    CAPI.fdb_transaction_clear_range.restype = None
    CAPI.fdb_transaction_clear_range(tr, None, 0, b"\x00", 1)
    f = CAPI.fdb_transaction_get(tr, None, 0, 0)
    assert get_value(f) == (0, None)
    CAPI.fdb_future_destroy(f)
