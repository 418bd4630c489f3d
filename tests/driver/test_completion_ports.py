"""Completion ports (ffi/driver/completions.c, found/_futures.py): ready C futures
are queued in C and their event loop is woken once per batch, not per future."""

import asyncio
import os
import select

import pytest

import found
from driver_support import futures_alive, put
from found import _futures
from found._fdb import ffi, lib


def _readable(fd) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


def _ready_gets(tx, count):
    """count C futures that are ready at once (the engine answers reads synchronously)."""
    futures = [lib.fdb_transaction_get(tx.pointer, b"k%d" % i, len(b"k%d" % i), 0) for i in range(count)]
    assert all(lib.fdb_future_is_ready(f) for f in futures)
    return futures


async def test_one_wake_up_for_a_batch_and_tokens_in_order(db):
    await put(db, *[(b"k%d" % i, b"v%d" % i) for i in range(100)])
    tx = found.make_transaction(db)
    port = lib.found_port_open()
    assert port != ffi.NULL
    fd = lib.found_port_fd(port)
    try:
        futures = _ready_gets(tx, 100)
        assert not _readable(fd)
        for token, future in enumerate(futures, 1):
            assert lib.found_port_watch(port, future, token) == 0
        # 100 completions, one write: the queue went from empty to non-empty once
        assert len(os.read(fd, 4096)) == 8
        assert not _readable(fd)
        pairs = ffi.new("intptr_t[]", 2 * 64)  # (token, code) per completion
        taken = []
        while True:
            n = lib.found_port_take(port, pairs, 64)
            taken += ffi.unpack(pairs, 2 * n)
            if n < 64:
                break
        # watched futures are still the caller's to read: code 0 beside each token
        assert taken[::2] == list(range(1, 101)) and set(taken[1::2]) == {0}
        for i, future in enumerate(futures):
            assert ffi.unpack(lib.found_take_value(future).data, len(b"v%d" % i)) == b"v%d" % i
    finally:
        lib.found_port_close(port)


async def test_descriptor_is_readable_exactly_while_something_is_queued(db):
    await put(db, (b"k0", b"v"))
    tx = found.make_transaction(db)
    port = lib.found_port_open()
    fd = lib.found_port_fd(port)
    pairs = ffi.new("intptr_t[]", 2 * 4)
    try:
        for round_ in range(3):
            (future,) = _ready_gets(tx, 1)
            assert lib.found_port_watch(port, future, round_ + 1) == 0
            assert _readable(fd)
            assert lib.found_port_take(port, pairs, 4) == 1 and pairs[0] == round_ + 1
            assert not _readable(fd)
            assert lib.found_port_take(port, pairs, 4) == 0
            lib.fdb_future_destroy(future)
    finally:
        lib.found_port_close(port)


async def test_closing_a_port_destroys_queued_and_later_completions(db):
    await put(db, (b"k0", b"v"), (b"watched", b"1"))
    baseline = futures_alive()
    tx = found.make_transaction(db)
    port = lib.found_port_open()
    for token, future in enumerate(_ready_gets(tx, 10), 1):
        assert lib.found_port_watch(port, future, token) == 0
    watch = lib.fdb_transaction_watch(tx.pointer, b"watched", 7)
    await found.commit(tx)
    assert not lib.fdb_future_is_ready(watch)
    assert lib.found_port_watch(port, watch, 99) == 0
    lib.found_port_close(port)  # the 10 queued futures are destroyed now
    assert futures_alive() == baseline + 1  # the watch, still pending
    await put(db, (b"watched", b"2"))  # fires the watch: the closed port destroys it
    for _ in range(500):
        if futures_alive() == baseline:
            break
        await asyncio.sleep(0.01)
    assert futures_alive() == baseline


def test_a_closed_loops_port_is_closed_by_the_next_loop(directory):
    """A watch left pending when its loop closed is destroyed once it fires (no leak, no error)."""

    async def leave_a_watch():
        db = await found.open(directory)
        await put(db, (b"watched", b"1"))
        tx = found.make_transaction(db)
        aio = found.watch(tx, b"watched")
        await found.commit(tx)
        assert not aio.done()
        return db, futures_alive()

    loop = asyncio.new_event_loop()
    db, alive = loop.run_until_complete(leave_a_watch())
    waiting = _futures.pending_count()
    assert waiting >= 1
    loop.close()

    async def fire_it():
        await put(db, (b"watched", b"2"))  # a pending commit: opens this loop's port, closing the old one
        assert _futures.pending_count() == waiting - 1
        for _ in range(500):
            if futures_alive() == alive - 1:
                break
            await asyncio.sleep(0.01)
        return futures_alive()

    assert asyncio.run(fire_it()) == alive - 1


async def test_many_tasks_commit_through_one_port(db):
    async def write(tx, i):
        await found.set(tx, b"w%04d" % i, b"v")

    await asyncio.gather(*(found.transactional(db, write, i) for i in range(500)))
    assert _futures.pending_count() == 0
    loop = asyncio.get_running_loop()
    assert list(_futures._ports).count(loop) == 1


async def test_opening_a_port_while_another_thread_opens_one(db, monkeypatch):
    """Loops in other threads open their ports while this one sweeps closed ones:
    the sweep must not iterate the live dict (here another 'thread' inserts
    from inside the sweep, as a thread switch between two bytecodes could)."""

    class OtherThreadsLoop:
        def is_closed(self):
            _futures._ports[object()] = _futures._ports.get(self)  # a port opened elsewhere meanwhile
            return False

    other = OtherThreadsLoop()
    monkeypatch.setitem(_futures._ports, other, None)
    loop = asyncio.get_running_loop()
    own = _futures._ports.pop(loop, None)
    try:
        await put(db, (b"k", b"v"))  # a pending commit: this loop opens its port and sweeps
        assert loop in _futures._ports
    finally:
        for key in [k for k in _futures._ports if _futures._ports[k] is None]:
            del _futures._ports[key]
        if own is not None:
            _futures._ports[loop].close()
            _futures._ports[loop] = own


async def test_a_pending_commit_is_watched_by_the_call_that_sends_it(db):
    """found_port_commit: a commit still pending is on the loop's port when start_commit returns;
    one finished at once (read-only, or refused) leaves nothing registered."""
    from found._transaction import start_commit

    waiting = _futures.pending_count()
    tx = found.make_transaction(db)
    await found.set(tx, b"pc", b"v")
    pending = start_commit(tx)
    assert pending is not None and _futures.pending_count() == waiting + 1
    await pending
    assert _futures.pending_count() == waiting
    assert await found.transactional(db, found.get, b"pc") == b"v"

    read_only = found.make_transaction(db)
    await found.get(read_only, b"pc")
    assert start_commit(read_only) is None and _futures.pending_count() == waiting

    too_large = found.make_transaction(db)
    found.set_option(too_large, found.FDB_TR_OPTION_SIZE_LIMIT, 32)
    await found.set(too_large, b"big", b"x" * 100)
    with pytest.raises(found.TooLargeError):
        start_commit(too_large)  # refused before reaching the store: raised at once
    assert _futures.pending_count() == waiting


async def test_a_sent_commit_is_read_and_destroyed_by_the_port(db):
    """found_port_send_commit (transactional()'s path): the port owns the C future;
    the asyncio future gets the error code, and nothing is left to destroy."""
    baseline, waiting = futures_alive(), _futures.pending_count()
    tx = found.make_transaction(db)
    await found.set(tx, b"sent", b"v")
    pending = _futures.send_commit(tx.pointer)
    assert isinstance(pending, asyncio.Future) and _futures.pending_count() == waiting + 1
    assert await pending == 0
    assert _futures.pending_count() == waiting and futures_alive() == baseline
    assert await found.transactional(db, found.get, b"sent") == b"v"


async def test_a_sent_commit_that_conflicts_gives_its_code(db):
    await put(db, (b"contended", b"0"))
    baseline = futures_alive()
    reader = found.make_transaction(db)
    await found.get(reader, b"contended")
    await put(db, (b"contended", b"1"))
    await found.set(reader, b"contended", b"2")
    pending = _futures.send_commit(reader.pointer)
    code = await pending if isinstance(pending, asyncio.Future) else pending
    assert code == found.FDB_ERR_NOT_COMMITTED
    assert futures_alive() == baseline
    assert await found.transactional(db, found.get, b"contended") == b"1"


async def test_a_commit_finished_at_once_returns_its_code_and_registers_nothing(db):
    waiting = _futures.pending_count()
    read_only = found.make_transaction(db)
    await found.get(read_only, b"anything")
    assert _futures.send_commit(read_only.pointer) == 0
    too_large = found.make_transaction(db)
    found.set_option(too_large, found.FDB_TR_OPTION_SIZE_LIMIT, 32)
    await found.set(too_large, b"big", b"x" * 100)
    assert _futures.send_commit(too_large.pointer) == found.FDB_ERR_TRANSACTION_TOO_LARGE
    assert _futures.pending_count() == waiting


async def test_cancelling_transactional_while_its_commit_is_sent_leaks_nothing(db):
    """The awaiting task is cancelled with the commit in flight: transactional() cancels
    the transaction, the port destroys the C future when it completes."""
    baseline = futures_alive()
    sent = asyncio.Event()

    async def write(tx):
        await found.set(tx, b"cancelled-commit", b"v")
        asyncio.get_running_loop().call_soon(sent.set)  # runs once the commit is sent

    for _ in range(20):
        task = asyncio.ensure_future(found.transactional(db, write))
        await sent.wait()
        sent.clear()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    for _ in range(500):
        if futures_alive() == baseline and _futures.pending_count() == 0:
            break
        await asyncio.sleep(0.01)
    assert futures_alive() == baseline and _futures.pending_count() == 0


def test_a_closed_loops_sent_commit_is_destroyed_in_c(directory):
    """A loop closed with a sent commit in flight: the port, closed, destroys the future."""

    async def send_and_leave():
        db = await found.open(directory)
        tx = found.make_transaction(db)
        await found.set(tx, b"left", b"v")
        pending = _futures.send_commit(tx.pointer)
        assert isinstance(pending, asyncio.Future)
        return db, futures_alive()

    loop = asyncio.new_event_loop()
    db, alive = loop.run_until_complete(send_and_leave())
    loop.close()

    async def later():
        await put(db, (b"other", b"v"))  # opens this loop's port, closing the old one
        for _ in range(500):
            if futures_alive() <= alive - 1:
                break
            await asyncio.sleep(0.01)
        return futures_alive()

    assert asyncio.run(later()) <= alive - 1
    assert asyncio.run(_read(db, b"left")) == b"v"  # the commit itself went through


async def _read(db, key):
    return await found.transactional(db, found.get, key)
