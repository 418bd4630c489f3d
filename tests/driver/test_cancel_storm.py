"""Many tasks committing while others are cancelled at random (issue 12, item 1).

A cancelled task's C future is destroyed once it completes (it goes back to
the engine's future pool, where another transaction may pick it up); nothing
may touch it afterwards.  Before the fix the cancelled side also called
fdb_future_cancel on it, so another task's commit failed with 1101
operation_cancelled although it had been applied.

Bounded to a few seconds with a seeded schedule; bench/load_test.py is the
long form (several processes, reads and ranges too).
"""

import asyncio
import random

import found

TASKS = 64
CANCELLED = 48  # tasks whose attempts run under a random wait_for timeout
ROUNDS = 40  # attempts per task


async def _storm(db, seed):
    """Every attempt's outcome: (task, round, "ok" | "timeout" | code)."""
    rng = random.Random(seed)
    outcomes = []

    async def write(tx, key, token):
        await found.get(tx, key)
        await found.set(tx, key, token)

    async def worker(task):
        timeouts = [rng.uniform(0, 0.004) if task < CANCELLED else None for _ in range(ROUNDS)]
        for n, timeout in enumerate(timeouts):
            key = b"storm/%03d/%03d" % (task, n)
            attempt = found.transactional(db, write, key, b"token-%d-%d" % (task, n))
            try:
                if timeout is None:
                    await attempt
                else:
                    await asyncio.wait_for(attempt, timeout)
            except asyncio.TimeoutError:
                outcomes.append((task, n, "timeout"))
            except found.FoundException as exc:
                outcomes.append((task, n, exc.code))
            else:
                outcomes.append((task, n, "ok"))

    await asyncio.gather(*(worker(t) for t in range(TASKS)))
    return outcomes


async def _applied(db):
    async def read(tx):
        return dict(await found.all(found.query(tx, b"storm/", b"storm0")))

    return await found.transactional(db, read)


async def test_cancelling_some_tasks_never_fails_another_tasks_commit(db):
    for seed in (1, 2, 3):
        outcomes = await _storm(db, seed)
        applied = await _applied(db)
        errors = [o for o in outcomes if o[2] not in ("ok", "timeout")]
        # A commit reported as failed must not have been applied (and none may fail here at all).
        failed_but_applied = [o for o in errors if b"storm/%03d/%03d" % o[:2] in applied]
        assert (errors, failed_but_applied) == ([], []), "seed %d" % seed
        # Every commit reported as done is there.
        assert all(b"storm/%03d/%03d" % o[:2] in applied for o in outcomes if o[2] == "ok")
        assert sum(o[2] == "timeout" for o in outcomes) > 0  # the schedule did cancel
        await found.transactional(db, found.clear, b"storm/", b"storm0")
