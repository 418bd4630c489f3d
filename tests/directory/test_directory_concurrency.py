"""Many creators at once: every committed directory gets its own prefix.

The allocator's guarantee is that two transactions that both commit never
hand out the same prefix. The tests make transactions overlap on purpose
(all read before any commits), force identical random choices so they
collide, and mix found's tasks with the official binding's threads.
"""

import asyncio
import random
import threading

import found
from directory_support import fdb


def assert_prefix_free(prefixes):
    """Distinct, and none starts another (sorted order puts a prefix right before its extensions)."""
    ordered = sorted(prefixes)
    assert len(set(ordered)) == len(ordered)
    for first, second in zip(ordered, ordered[1:]):
        assert not second.startswith(first), (first, second)


async def prefixes_of(db, names, parent=("c",)):
    return [(await found.directory.open(db, parent + (name,))).key() for name in names]


async def test_many_tasks_create_directories_at_once(db):
    names = ["d%03d" % i for i in range(300)]
    made = await asyncio.gather(*(found.directory.create_or_open(db, ("c", name)) for name in names))
    assert_prefix_free([d.key() for d in made])
    assert await found.directory.list(db, ("c",)) == names
    assert await prefixes_of(db, names) == [d.key() for d in made]


async def test_overlapping_transactions_with_identical_choices_commit_only_one(db):
    await found.directory.create_or_open(db, ("c",))  # format version and parent exist before
    transactions = [found.make_transaction(db) for _ in range(12)]
    made = []
    for i, tx in enumerate(transactions):
        random.seed(1234)  # every allocation draws the same candidate
        made.append(await found.directory.create(tx, ("c", "d%d" % i)))
    assert len({d.key() for d in made}) == 1
    outcomes = await asyncio.gather(*(found.commit(tx) for tx in transactions), return_exceptions=True)
    committed = [d for d, out in zip(made, outcomes) if out is None]
    assert len(committed) == 1
    for out in outcomes:
        assert out is None or (isinstance(out, found.FoundException) and out.code == 1020), out
    # The transactions that lost retry (found.transactional) and get fresh prefixes.
    retried = [await found.directory.create(db, d.get_path()) for d, out in zip(made, outcomes) if out is not None]
    assert_prefix_free([d.key() for d in committed + retried])
    assert len(await found.directory.list(db, ("c",))) == 12


async def test_overlapping_transactions_with_random_choices(db):
    await found.directory.create_or_open(db, ("c",))
    for round_ in range(5):
        transactions = [found.make_transaction(db) for _ in range(40)]
        for i, tx in enumerate(transactions):
            await found.directory.create(tx, ("c", "r%d-%d" % (round_, i)))
        outcomes = await asyncio.gather(*(found.commit(tx) for tx in transactions), return_exceptions=True)
        assert all(out is None or out.code == 1020 for out in outcomes), outcomes
    names = await found.directory.list(db, ("c",))
    assert_prefix_free(await prefixes_of(db, names))


async def test_one_transaction_many_concurrent_creates(db):
    names = ["d%03d" % i for i in range(100)]

    async def create_all(tx):
        return await asyncio.gather(*(found.directory.create(tx, ("c", name)) for name in names))

    made = await found.transactional(db, create_all)
    assert_prefix_free([d.key() for d in made])
    assert await prefixes_of(db, names) == [d.key() for d in made]


async def test_found_tasks_and_fdb_threads_together(db, fdb_db):
    def fdb_worker(k):
        for i in range(40):
            fdb.directory.create(fdb_db, ("c", "fdb-%d-%02d" % (k, i)))

    threads = [threading.Thread(target=fdb_worker, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    await asyncio.gather(*(found.directory.create(db, ("c", "found-%03d" % i)) for i in range(120)))
    for thread in threads:
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
    names = await found.directory.list(db, ("c",))
    assert len(names) == 240
    assert_prefix_free(await prefixes_of(db, names))
