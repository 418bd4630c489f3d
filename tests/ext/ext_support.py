"""Helpers shared by the store tests: whole-database snapshots, and running
hypothesis state machines on one persistent event loop."""

import asyncio

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

import found

PREFIX = ("s", "t")
#: Keys written around every store under test; they must survive untouched.
#: ("s", "t\x00") shares the bytes of PREFIX's encoding but lies outside it.
SENTINELS = {
    found.pack(("a",)): b"before",
    found.pack(("s",)): b"prefix of the prefix",
    found.pack(PREFIX): b"the prefix itself",
    found.pack(("s", "t\x00")): b"escaped sibling",
    found.pack(("s", "t\x00", 1)): b"escaped sibling child",
    found.pack(("s", "u", 1)): b"sibling",
    found.pack(("z",)): b"after",
}


async def _scan(tx):
    return await found.all(found.query(tx, b"", b"\xff"))


async def snapshot(db):
    """Every key-value pair of the database, in key order."""
    return await found.transactional(db, _scan)


async def _reset(tx):
    await found.clear(tx, b"", b"\xff")
    for key, value in SENTINELS.items():
        await found.set(tx, key, value)


async def reset(db):
    """Empty the database, then write the SENTINELS."""
    await found.transactional(db, _reset)


def store_keys(pairs, prefix=PREFIX):
    """Check that every pair but SENTINELS lies strictly under the tuple
    ``prefix`` and that SENTINELS are intact; return the store's pairs."""
    mine = []
    rest = {}
    for key, value in pairs:
        if key in SENTINELS:
            rest[key] = value
        else:
            items = found.unpack(key)
            assert items[: len(prefix)] == prefix and len(items) > len(prefix), items
            mine.append((key, value))
    assert rest == SENTINELS
    return mine


async def attempt(db, func, *args, exception):
    """Run ``func`` in a transaction that swallows ``exception`` and commits:
    whatever ``func`` wrote before raising would then be kept."""

    async def body(tx):
        try:
            await func(tx, *args)
        except exception as exc:
            return exc
        return None

    return await found.transactional(db, body)


class AsyncMachine(RuleBasedStateMachine):
    """A state machine whose steps run coroutines on one event loop, shared
    with the database opened by ``run_machine``."""

    loop = None
    db = None

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def tx(self, func, *args, **kwargs):
        return self.run(found.transactional(self.db, func, *args, **kwargs))


def run_machine(machine, tmp_path, *, examples, steps):
    """Run ``machine`` (an AsyncMachine subclass) on a database opened in
    ``tmp_path``, on a fresh event loop."""
    loop = asyncio.new_event_loop()
    try:
        db = loop.run_until_complete(found.open(str(tmp_path)))
        bound = type(machine.__name__, (machine,), {"loop": loop, "db": db})
        run_state_machine_as_test(
            bound,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
    finally:
        loop.close()
