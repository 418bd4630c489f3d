"""transactional(), transaction() and the lifecycle hooks."""

import asyncio
import sys

import pytest

import found
from driver_support import everything, run_python


async def test_conflict_forces_retry_hooks_in_order(db, directory):
    other = await found.open(directory)
    events = []
    attempts = []

    async def on_begin(tx):
        assert tx.vars == {}  # cleared before each retry
        events.append("begin")

    async def on_commit(tx):
        events.append("commit")
        await found.set(tx, b"audit", b"%d" % len(attempts))  # atomic with the transaction

    async def on_post_commit(tx, stats):
        events.append(("post", stats))

    db.hooks.on_begin.append(on_begin)
    db.hooks.on_commit.append(on_commit)
    db.hooks.on_post_commit.append(on_post_commit)

    async def increment(tx):
        tx.vars["seen"] = True
        value = await found.get(tx, b"counter")
        attempts.append(value)
        if len(attempts) == 1:  # a concurrent writer invalidates our read
            await found.transactional(other, found.set, b"counter", b"10")
        await found.set(tx, b"counter", b"%d" % (int(value or b"0") + 1))
        return "done"

    assert await found.transactional(db, increment) == "done"
    assert attempts == [None, b"10"]
    assert events[:4] == ["begin", "commit", "begin", "commit"]
    assert len(events) == 5
    _, stats = events[4]
    assert isinstance(stats, found.TransactionStats)
    assert stats[:3] == (stats.retries, stats.elapsed, stats.commit_bytes)
    assert stats.retries == 1 and stats.elapsed > 0 and stats.commit_bytes > 0
    assert stats.maybe_committed == 0
    assert dict(await everything(db)) == {b"counter": b"11", b"audit": b"2"}


async def test_hooks_on_a_clean_first_attempt(db):
    calls = []

    async def post(tx, stats):
        calls.append(stats.retries)

    db.hooks.on_post_commit.append(post)
    await found.transactional(db, found.set, b"a", b"b")
    await found.transactional(db, found.set, b"a", b"c")
    assert calls == [0, 0]


def test_make_hooks_is_fresh():
    first, second = found.make_hooks(), found.make_hooks()
    assert first == found.Hooks([], [], []) and first.on_begin is not second.on_begin
    assert first._fields == ("on_begin", "on_commit", "on_post_commit")


async def test_on_post_commit_not_fired_when_func_fails(db):
    calls = []

    async def post(tx, stats):
        calls.append(stats)

    db.hooks.on_post_commit.append(post)

    async def boom(tx):
        await found.set(tx, b"a", b"b")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await found.transactional(db, boom)
    assert calls == [] and await everything(db) == []


async def test_transactional_passes_args_and_kwargs(db):
    async def func(tx, a, b, *, c):
        return (a, b, c, isinstance(tx, found.Transaction), tx.snapshot)

    assert await found.transactional(db, func, 1, 2, c=3) == (1, 2, 3, True, False)
    assert await found.transactional(db, func, 1, 2, c=3, snapshot=True) == (1, 2, 3, True, True)


def always_raising(code):
    """A transaction function that raises FoundException(``code``) on every
    attempt, and the list it appends to at each attempt."""
    calls = []

    async def func(tx):
        calls.append(1)
        raise found.FoundException(code)

    return func, calls


async def test_retry_limit_raises_last_error(db):
    always_conflicts, calls = always_raising(1020)
    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, always_conflicts, found_retry_limit=3)
    assert info.value.code == 1020 and len(calls) == 4
    calls.clear()
    with pytest.raises(found.FoundException):
        await found.transactional(db, always_conflicts, found_retry_limit=0)
    assert len(calls) == 1


async def test_non_retryable_error_is_raised_at_once(db):
    bad, calls = always_raising(2004)
    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, bad)
    assert info.value.code == 2004 and calls == [1]


async def test_timeout_interrupts_a_slow_attempt(db):
    async def slow(tx):
        await found.set(tx, b"a", b"b")
        await asyncio.Event().wait()  # never set

    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, slow, found_timeout=0.05)
    assert info.value.code == 1031  # transaction_timed_out
    assert not info.value.maybe_committed  # it never reached commit
    assert await everything(db) == []


async def test_timeout_during_commit_says_maybe_committed(db, monkeypatch):
    from found import _transactional

    async def commit_never_answers(tx):
        await asyncio.Event().wait()

    monkeypatch.setattr(_transactional, "commit", commit_never_answers)
    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, found.set, b"a", b"b", found_timeout=0.05)
    assert info.value.code == 1031 and info.value.maybe_committed


async def test_timeout_stops_retrying(db):
    conflicts, calls = always_raising(1020)
    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, conflicts, found_timeout=0.3)
    assert info.value.code in (1020, 1031) and len(calls) >= 2


async def test_limits_are_checked(db):
    with pytest.raises(ValueError):
        await found.transactional(db, found.get, b"a", found_retry_limit=-1)
    with pytest.raises(ValueError):
        await found.transactional(db, found.get, b"a", found_timeout=0)


async def test_maybe_committed_is_visible(db):
    stats_seen = []

    async def post(tx, stats):
        stats_seen.append(stats)

    db.hooks.on_post_commit.append(post)
    calls = []

    async def unknown_once(tx):
        calls.append(1)
        await found.set(tx, b"k", b"v")
        if len(calls) == 1:
            raise found.FoundException(1021)

    await found.transactional(db, unknown_once)
    assert stats_seen[0].maybe_committed == 1 and stats_seen[0].retries == 1

    async def unknown_then_conflict(tx):
        calls.append(1)
        raise found.FoundException(1021 if len(calls) % 2 else 1020)

    calls.clear()
    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, unknown_then_conflict, found_retry_limit=1)
    assert info.value.code == 1020 and info.value.maybe_committed


def test_commit_unknown_result_from_the_engine(tmp_path):
    """With the engine's fault injection a commit reports 1021: the caller sees it."""
    run_python(
        """
        import asyncio, sys, found
        found.network_set_option(found.FDB_NET_OPTION_CLIENT_BUGGIFY_ENABLE)
        found.network_set_option(found.FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_ACTIVATED_PROBABILITY, 100)
        found.network_set_option(found.FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_FIRED_PROBABILITY, 10)
        async def main():
            db = await found.open(sys.argv[1])
            seen = []
            async def post(tx, stats):
                seen.append(stats)
            db.hooks.on_post_commit.append(post)
            failures = 0
            for i in range(60):
                try:
                    await found.transactional(db, found.set, b"k%d" % i, b"v", found_retry_limit=0)
                except found.FoundException as exc:
                    failures += 1
                    assert exc.maybe_committed == (exc.code == 1021), exc
            assert failures > 0
            for i in range(40):
                await found.transactional(db, found.set, b"j%d" % i, b"v")
            assert sum(s.maybe_committed for s in seen) > 0, seen
        asyncio.run(main())
    """,
        str(tmp_path / "db"),
    )


async def test_transaction_context_manager_commits(db):
    events = []

    async def begin(tx):
        events.append("begin")

    async def commit(tx):
        events.append("commit")

    async def post(tx, stats):
        events.append(("post", stats.retries))

    db.hooks.on_begin.append(begin)
    db.hooks.on_commit.append(commit)
    db.hooks.on_post_commit.append(post)
    async with found.transaction(db) as tx:
        await found.set(tx, b"a", b"b")
    assert events == ["begin", "commit", ("post", 0)]
    assert await everything(db) == [(b"a", b"b")]


async def test_transaction_context_manager_abandons_on_error(db):
    with pytest.raises(KeyError):
        async with found.transaction(db) as tx:
            await found.set(tx, b"a", b"b")
            raise KeyError("x")
    assert await everything(db) == []


async def test_transaction_context_manager_does_not_retry(db, directory):
    other = await found.open(directory)
    with pytest.raises(found.FoundException) as info:
        async with found.transaction(db) as tx:
            await found.get(tx, b"a")
            await found.transactional(other, found.set, b"a", b"other")
            await found.set(tx, b"a", b"mine")
    assert info.value.code == 1020
    assert await everything(db) == [(b"a", b"other")]


async def test_finished_transactions_are_reused_as_new(db):
    seen = []

    async def first(tx):
        seen.append(tx)
        tx.vars["x"] = 1
        await found.set(tx, b"a", b"1")

    await found.transactional(db, first)  # seen keeps tx: it must not be reused
    kept = seen.pop()
    assert kept.db is db and kept.vars == {"x": 1}
    identities = set()

    async def probe(tx):
        identities.add(id(tx))
        assert tx.vars == {} and tx.db is db
        assert await found.get(tx, b"a") == b"1"
        await found.set(tx, b"b", b"2")

    for _ in range(5):
        await found.transactional(db, probe)
    # CPython reuses the one transaction (reset each time); elsewhere each is new.
    assert len(identities) == (1 if hasattr(sys, "getrefcount") else 5) and id(kept) not in identities

    async def snap(tx):
        return tx.snapshot

    assert await found.transactional(db, snap, snapshot=True) is True
    assert await found.transactional(db, snap) is False

    async def leaks_nothing(tx):
        await found.set(tx, b"c", b"3")
        raise RuntimeError("abandon")

    with pytest.raises(RuntimeError):
        await found.transactional(db, leaks_nothing)
    assert dict(await everything(db)) == {b"a": b"1", b"b": b"2"}
