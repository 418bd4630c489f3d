"""One database (and one transaction) used from several threads, each with its own event loop.

found.tester_pthread runs every START_THREAD so, and the bindingtester's
threads share transactions by name (the directory_hca family: five threads
allocate directory prefixes in the same transactions).
"""

import asyncio
import threading

import found

THREADS = 5
PER_THREAD = 20
JOIN_TIMEOUT = 120  # seconds: a hang fails the test instead of hanging the suite


def _in_threads(work):
    """Run ``work(i)`` (a coroutine function) in THREADS threads, each on its own loop; return the errors."""
    errors = []

    def run(i):
        try:
            asyncio.run(work(i))
        except BaseException as exc:  # noqa: B902 — reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return errors


async def test_directories_created_in_one_transaction_from_several_loops(db):
    tx = found.make_transaction(db)
    made = []

    async def create(i):
        for k in range(PER_THREAD):
            made.append(await found.directory.create(tx, ("t%d" % i, "d%d" % k)))

    assert await asyncio.get_running_loop().run_in_executor(None, _in_threads, create) == []
    await found.commit(tx)
    prefixes = [d.key() for d in made]
    assert len(set(prefixes)) == len(prefixes) == THREADS * PER_THREAD
    assert not any(a != b and b.startswith(a) for a in prefixes for b in prefixes)
    names = await found.transactional(db, found.directory.list, ("t0",))
    assert sorted(names) == sorted("d%d" % k for k in range(PER_THREAD))


async def test_one_database_from_several_loops(db):
    async def write(i):
        for k in range(PER_THREAD):
            await found.transactional(db, found.set, b"k/%d/%d" % (i, k), b"%d" % k)
            assert await found.transactional(db, found.get, b"k/%d/%d" % (i, k)) == b"%d" % k

    assert await asyncio.get_running_loop().run_in_executor(None, _in_threads, write) == []
    rows = await found.transactional(db, lambda tx: found.all(found.query(tx, b"k/", b"k0")))
    assert len(rows) == THREADS * PER_THREAD
