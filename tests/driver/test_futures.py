"""C futures and asyncio: concurrency, cancellation, exactly-once destruction, watches, uvloop, fork."""

import asyncio
import os
import sys

import pytest

import found
from driver_support import everything, futures_alive, put, run_python
from found import _futures
from found._fdb import lib


async def test_thousand_concurrent_tasks(db):
    async def bump(tx, i):
        await found.add(tx, b"total", (1).to_bytes(8, "little"))
        await found.set(tx, b"task%04d" % i, b"%d" % i)
        return await found.get(tx, b"task%04d" % i)

    results = await asyncio.gather(*(found.transactional(db, bump, i) for i in range(1000)))
    assert results == [b"%d" % i for i in range(1000)]
    assert await found.transactional(db, found.get, b"total") == (1000).to_bytes(8, "little")


async def test_every_future_destroyed_once(db):
    baseline = futures_alive()
    await put(db, *[(b"k%03d" % i, b"v" * i) for i in range(200)])

    async def work(tx):
        for i in range(200):
            await found.get(tx, b"k%03d" % i)
            await found.get(tx, b"missing%d" % i)
        await found.get_key(tx, found.gte(b"k1"))
        await found.all(found.query(tx, b"", b"\xff", mode=found.STREAMING_MODE_SMALL))
        await found.read_version(tx)
        await found.get_approximate_size(tx)
        await found.estimated_size_bytes(tx, b"", b"\xff")
        await found.get_range_split_points(tx, b"", b"\xff", 1000)
        await found.get_addresses_for_key(tx, b"k")
        found.watch(tx, b"k000").cancel()
        await found.set(tx, b"x", b"y")

    for _ in range(20):
        await found.transactional(db, work)
    with pytest.raises(found.FoundException):
        tx = found.make_transaction(db)
        found.cancel(tx)
        await found.get(tx, b"a")
    await asyncio.sleep(0)  # let the cancelled watches' callbacks run
    for _ in range(100):
        if futures_alive() == baseline:
            break
        await asyncio.sleep(0.01)
    assert futures_alive() == baseline


async def test_cancel_a_task_waiting_on_a_pending_future(db):
    baseline = futures_alive()
    errors = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
    tx = found.make_transaction(db)
    future = lib.fdb_transaction_watch(tx.pointer, b"w", 1)  # pending until cancelled or fired
    await found.commit(tx)
    waiting = asyncio.ensure_future(_futures.wait(future))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    for _ in range(100):  # the cancelled C future completes, then is destroyed
        if futures_alive() == baseline:
            break
        await asyncio.sleep(0.01)
    assert futures_alive() == baseline
    await found.transactional(db, found.set, b"w", b"late")  # nothing left to fire
    await asyncio.sleep(0.05)
    assert errors == [] and _futures.pending_count() == 0


async def test_cancel_mid_query_closes_cleanly(db):
    await put(db, *[(b"%05d" % i, b"x" * 500) for i in range(2000)])
    baseline = futures_alive()
    started = asyncio.Event()

    async def scan(tx):
        count = 0
        async for _ in found.query(tx, b"", b"\xff", mode=found.STREAMING_MODE_SMALL):
            count += 1
            if count == 100:
                started.set()
                await asyncio.sleep(10)
        return count

    task = asyncio.ensure_future(found.transactional(db, scan))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert futures_alive() == baseline
    assert len(await everything(db)) == 2000


async def test_watch_fires_on_change(db, directory):
    tx = found.make_transaction(db)
    watch = found.watch(tx, b"key")
    await found.commit(tx)
    assert isinstance(watch, asyncio.Future) and not watch.done()
    await found.transactional(db, found.set, b"key", b"new")
    assert await asyncio.wait_for(watch, 30) is None


async def test_watch_fired_by_another_process(db, directory):
    tx = found.make_transaction(db)
    watch = found.watch(tx, b"shared")
    await found.commit(tx)
    await asyncio.get_running_loop().run_in_executor(
        None,
        lambda: run_python(
            """
        import asyncio, sys, found
        async def main():
            db = await found.open(sys.argv[1])
            await found.transactional(db, found.set, b"shared", b"from another process")
        asyncio.run(main())
    """,
            directory,
        ),
    )
    assert await asyncio.wait_for(watch, 30) is None
    assert await found.transactional(db, found.get, b"shared") == b"from another process"


async def test_cancelled_watch_is_released(db):
    baseline = futures_alive()
    tx = found.make_transaction(db)
    watches = [found.watch(tx, b"w%d" % i) for i in range(50)]
    await found.commit(tx)
    for watch in watches:
        watch.cancel()
    for _ in range(100):
        await asyncio.sleep(0.01)
        if futures_alive() == baseline:
            break
    assert futures_alive() == baseline


def test_slow_path_with_delayed_reads_and_commits(tmp_path):
    """Engine fault injection delays reads and commits: results come through the callback."""
    run_python(
        """
        import asyncio, sys, found
        from found._fdb import lib
        found.network_set_option(found.FDB_NET_OPTION_CLIENT_BUGGIFY_ENABLE)
        found.network_set_option(found.FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_ACTIVATED_PROBABILITY, 100)
        found.network_set_option(found.FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_FIRED_PROBABILITY, 20)
        async def main():
            db = await found.open(sys.argv[1])
            async def work(tx, i):
                for j in range(3):
                    await found.set(tx, b"k%d/%d" % (i, j), b"v")
                assert await found.get(tx, b"k%d/1" % i) == b"v"
                return len(await found.all(found.query(tx, b"k%d/" % i, b"k%d0" % i)))
            counts = await asyncio.gather(*(found.transactional(db, work, i) for i in range(100)))
            assert counts == [3] * 100, counts
            async def cancel_some(i):
                task = asyncio.ensure_future(found.transactional(db, work, 1000 + i))
                await asyncio.sleep(0.001 * (i % 5))
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
            await asyncio.gather(*(cancel_some(i) for i in range(50)))
            for _ in range(300):
                if lib.found_futures_alive_count() == 0:
                    break
                await asyncio.sleep(0.01)
            assert lib.found_futures_alive_count() == 0, lib.found_futures_alive_count()
        asyncio.run(main())
    """,
        str(tmp_path / "db"),
    )


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="uvloop is CPython only")
def test_uvloop(directory):
    import uvloop

    async def main():
        db = await found.open(directory)
        await found.transactional(db, found.set, b"a", b"uv")
        tx = found.make_transaction(db)
        watch = found.watch(tx, b"a")
        await found.commit(tx)
        await found.transactional(db, found.set, b"a", b"changed")
        await asyncio.wait_for(watch, 30)
        return await found.transactional(db, found.get, b"a")

    loop = uvloop.new_event_loop()
    try:
        assert loop.run_until_complete(main()) == b"changed"
    finally:
        loop.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
async def test_use_after_fork_is_a_clear_error(db):
    await found.transactional(db, found.set, b"a", b"b")
    before = found.make_transaction(db)
    await found.set(before, b"c", b"d")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        status = 1
        try:
            os.close(read)
            try:
                found.make_transaction(db)
            except found.ForkError as exc:
                message = str(exc)
                try:
                    tx = found.Transaction.__new__(found.Transaction)
                    tx.pointer, tx.snapshot = None, False
                    asyncio.new_event_loop().run_until_complete(found.get(tx, b"a"))
                except found.ForkError:
                    try:  # a transaction made before the fork cannot commit through the parent's library
                        asyncio.new_event_loop().run_until_complete(found.commit(before))
                    except found.ForkError:
                        os.write(write, message.encode()[:200])
                        status = 0
        finally:
            os._exit(status)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    message = os.read(read, 1000).decode()
    os.close(read)
    assert os.WEXITSTATUS(status) == 0
    assert "fork" in message
    assert await found.transactional(db, found.get, b"a") == b"b"  # the parent is unaffected
    await found.commit(before)
    assert await found.transactional(db, found.get, b"c") == b"d"


def test_fork_before_first_open_is_fine(tmp_path):
    run_python(
        """
        import asyncio, os, sys, found
        pid = os.fork()
        if pid == 0:
            async def child():
                db = await found.open(sys.argv[1])
                await found.transactional(db, found.set, b"child", b"yes")
            asyncio.run(child())
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        async def parent():
            db = await found.open(sys.argv[1])
            assert await found.transactional(db, found.get, b"child") == b"yes"
        asyncio.run(parent())
    """,
        str(tmp_path / "db"),
    )


def test_network_thread_stops_at_exit_and_runs_completion_hooks(tmp_path):
    done = run_python(
        """
        import asyncio, sys, found
        found.add_network_thread_completion_hook(lambda: print("network thread done", flush=True))
        async def main():
            db = await found.open(sys.argv[1])
            await found.transactional(db, found.set, b"a", b"b")
        asyncio.run(main())
        print("main done", flush=True)
    """,
        str(tmp_path / "db"),
    )
    assert done.stdout.splitlines() == ["main done", "network thread done"]


def test_network_options_are_checked_and_queued_until_open(tmp_path):
    run_python(
        """
        import asyncio, sys, found
        try:
            found.network_set_option(123456)
        except found.FoundException as exc:
            assert exc.code == 2007, exc  # invalid_option
        else:
            raise AssertionError("unknown option accepted")
        try:
            found.network_set_option(found.FDB_NET_OPTION_TRACE_ENABLE, 1.5)
        except TypeError as exc:
            assert "option trace_enable (30) takes a str" in str(exc), exc
        else:
            raise AssertionError("float accepted")
        found.network_set_option(found.FDB_NET_OPTION_TRACE_ENABLE, sys.argv[1] + "-trace")
        assert found.library() is None  # queued: nothing loaded yet
        async def main():
            db = await found.open(sys.argv[1])
            await found.transactional(db, found.set, b"a", b"b")
        asyncio.run(main())
    """,
        str(tmp_path / "db"),
    )


def test_million_operations_do_not_leak(directory):
    """1,000,000 reads (the fast path) and their futures: the counter returns to its start."""

    async def main():
        db = await found.open(directory)
        await found.transactional(db, found.set, b"k", b"v")
        baseline = futures_alive()

        async def reads(tx):
            get = found.get
            for _ in range(100_000):
                await get(tx, b"k")
                await get(tx, b"absent")

        for _ in range(5):
            await found.transactional(db, reads)
        return baseline, futures_alive()

    baseline, after = asyncio.run(main())
    assert after == baseline


async def test_cancel_mid_commit(db):
    """A write commit completes on the engine's commit thread: cancel the task waiting for it."""
    baseline = futures_alive()
    errors = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))

    async def write(tx, i):
        await found.set(tx, b"k%03d" % i, b"v")

    tasks = [asyncio.ensure_future(found.transactional(db, write, i)) for i in range(100)]
    await asyncio.sleep(0)  # each task runs up to its first suspension: waiting for its commit
    assert _futures.pending_count() > 0
    cancelled = [task for task in tasks[::2] if task.cancel()]
    assert cancelled  # tasks still waiting for their commit
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert [task.cancelled() for task in cancelled] == [True] * len(cancelled)
    assert [o for o in outcomes[1::2] if o is not None] == []
    for _ in range(100):
        if futures_alive() == baseline and _futures.pending_count() == 0:
            break
        await asyncio.sleep(0.01)
    assert futures_alive() == baseline and _futures.pending_count() == 0
    keys = {k for k, _ in await everything(db)}
    assert {b"k%03d" % i for i in range(1, 100, 2)} <= keys  # the others may or may not have committed
    assert errors == []


async def test_watch_outlives_its_transaction(db):
    """A watch returned out of transactional() keeps working once its transaction is gone."""

    async def register(tx):
        return found.watch(tx, b"watched")

    watch = await found.transactional(db, register)
    await found.transactional(db, found.get, b"unrelated")  # reuses the (reset) transaction
    assert not watch.done()
    await found.transactional(db, found.set, b"watched", b"changed")
    assert await asyncio.wait_for(watch, 30) is None


def test_one_database_many_threads_each_with_its_loop(directory):
    """Several event loops in several threads share one Database (and its spare transactions)."""
    import threading

    db = asyncio.run(found.open(directory))
    failures = []

    def worker(n):
        async def run():
            for i in range(200):
                await found.transactional(db, found.set, b"t%d-%03d" % (n, i), b"v")
                assert await found.transactional(db, found.get, b"t%d-%03d" % (n, i)) == b"v"

        try:
            asyncio.run(run())
        except BaseException as exc:  # reported below, with the thread's number
            failures.append((n, exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    async def count(tx):
        return len(await found.all(found.query(tx, b"t", b"u")))

    assert asyncio.run(found.transactional(db, count)) == 800
