"""bstore against an in-memory model: content addressing, holders, blobs
beyond the value and transaction limits, staging and gc, verification on
read, bad input, and retry safety: every operation run twice (in one
transaction, or again after a commit that applied but reported
commit_unknown_result) leaves what running it once leaves."""

import asyncio
import random
import uuid
from hashlib import blake2b

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

import found
from ext_support import PREFIX, AsyncMachine, attempt, reset, run_machine, snapshot, store_keys
from found.ext import bstore
from found.ext.bstore import CHUNK_SIZE, BStoreException


def noise(size, seed=0):
    return random.Random(seed).randbytes(size)


BLOBS = [
    b"",
    b"x",
    b"hello world",
    bytes(CHUNK_SIZE),
    noise(CHUNK_SIZE + 1, 1),
    noise(2 * CHUNK_SIZE + 17, 2),
    noise(5 * CHUNK_SIZE, 3),
]
HOLDERS = [None, "alice", ("doc", 7), 42, b"\x00raw"]
#: How an operation's transaction function runs: as usual, twice in one
#: transaction, or committed once, reported as commit_unknown_result (1021)
#: and so run again by found.transactional.
MODES = ["once", "twice", "unknown"]


def expected_uid(blob):
    return uuid.UUID(bytes=blake2b(blob, digest_size=32).digest()[:16])


def classify(pairs):
    """Count the store's keys by kind: blob records, chunks, holders, uploads."""
    kinds = {"blob": 0, "chunk": 0, "holder": 0, "upload": 0}
    for key, _ in pairs:
        kinds[found.unpack(key)[len(PREFIX)]] += 1
    return kinds


def chunks_of(blob):
    return -(-len(blob) // CHUNK_SIZE)


# --- running a function twice -----------------------------------------------------


def applied_but_unknown(db, func):
    """``func`` as found.transactional runs it when its first commit applied
    but reported commit_unknown_result: committed once in a transaction of
    its own, then raised 1021 so that transactional runs it again."""
    pending = [True]

    async def body(tx, *args, **kwargs):
        if pending:
            pending.clear()
            await found.transactional(db, func, *args, **kwargs)
            raise found.FoundException(1021)
        return await func(tx, *args, **kwargs)

    return body


def run_twice(func):
    """``func`` run twice in one transaction; the second result is kept."""

    async def body(tx, *args, **kwargs):
        await func(tx, *args, **kwargs)
        return await func(tx, *args, **kwargs)

    return body


async def run(db, mode, func, *args, **kwargs):
    """found.transactional(db, func, ...) with ``func`` run as ``mode`` says."""
    if mode == "twice":
        func = run_twice(func)
    elif mode == "unknown":
        func = applied_but_unknown(db, func)
    return await found.transactional(db, func, *args, **kwargs)


class ReplayingFound:
    """The ``found`` module as bstore sees it when every transaction it runs
    itself (put_large's staging and publishing, gc, get_large) commits,
    reports 1021 and runs again."""

    def __init__(self, db):
        self.db = db

    def __getattr__(self, name):
        return getattr(found, name)

    async def transactional(self, db, func, *args, **kwargs):
        return await found.transactional(db, applied_but_unknown(db, func), *args, **kwargs)


async def put_large(db, store, blob, mode, monkeypatch, holder=None):
    """bstore.put_large, every internal transaction replayed when ``mode``
    is not "once"."""
    if mode == "once":
        return await bstore.put_large(db, store, blob, holder=holder)
    with monkeypatch.context() as patch:
        patch.setattr(bstore, "found", ReplayingFound(db))
        return await bstore.put_large(db, store, blob, holder=holder)


async def view(db, store):
    """What the store holds, sid-independent: {uid: (bytes, holders)} and
    the count of keys of each kind."""
    pairs = store_keys(await snapshot(db))
    uids = {found.unpack(key)[-1] for key, _ in pairs if found.unpack(key)[len(PREFIX)] == "blob"}
    contents = {}
    for uid in uids:
        blob = await found.transactional(db, bstore.get, store, uid)
        held = await found.transactional(db, bstore.holders, store, uid)
        contents[uid] = (blob, sorted(map(repr, held)))
    return contents, classify(pairs)


# --- the state machine ----------------------------------------------------------


class BStoreMachine(AsyncMachine):
    """Random stores (in one transaction or staged, with or without a
    holder), releases, deletes and reads, each possibly run twice, compared
    with a dict uid -> (blob, set of holders)."""

    @initialize()
    def start(self):
        self.run(reset(self.db))
        self.store = bstore.make("machine", PREFIX)
        self.model = {}

    def known(self):
        return st.sampled_from(sorted(self.model))

    def replaying(self, mode, call):
        if mode == "once":
            return self.run(call)
        original = bstore.found
        bstore.found = ReplayingFound(self.db)
        try:
            return self.run(call)
        finally:
            bstore.found = original

    @rule(
        blob=st.sampled_from(BLOBS),
        how=st.sampled_from(["transaction", "large", "stream"]),
        holder=st.sampled_from(HOLDERS),
        mode=st.sampled_from(MODES),
        data=st.data(),
    )
    def put(self, blob, how, holder, mode, data):
        if how == "large":
            uid = self.replaying(mode, bstore.put_large(self.db, self.store, blob, holder=holder))
        elif how == "stream":
            cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=4)))
            bounds = [0] + cuts + [len(blob)]
            pieces = [blob[a:b] for a, b in zip(bounds, bounds[1:])]
            uid = self.replaying(mode, bstore.put_large(self.db, self.store, pieces, holder=holder))
        else:
            uid = self.run(run(self.db, mode, bstore.get_or_create, self.store, blob, holder=holder))
        assert uid == expected_uid(blob)
        held = self.model.setdefault(uid, (blob, set()))[1]
        if holder is not None:
            held.add(holder)

    @rule(data=st.data(), holder=st.sampled_from(HOLDERS[1:]), mode=st.sampled_from(MODES))
    def release(self, data, holder, mode):
        if not self.model:
            return
        uid = data.draw(self.known())
        held = self.model[uid][1]
        if holder in held:
            held.discard(holder)
            if not held:
                del self.model[uid]
        stored = self.run(run(self.db, mode, bstore.release, self.store, uid, holder))
        assert stored == (uid in self.model)

    @rule(data=st.data(), mode=st.sampled_from(MODES))
    def delete(self, data, mode):
        if not self.model:
            return
        uid = data.draw(self.known())
        del self.model[uid]
        assert self.run(run(self.db, mode, bstore.delete, self.store, uid)) is None

    @rule(blob=st.sampled_from(BLOBS))
    def unknown_uid(self, blob):
        uid = expected_uid(blob)
        if uid in self.model:
            return
        before = self.run(snapshot(self.db))
        error = self.run(attempt(self.db, bstore.get, self.store, uid, exception=BStoreException))
        assert isinstance(error, BStoreException) and "no blob" in str(error)
        assert self.tx(bstore.release, self.store, uid, "alice") is False
        assert self.tx(bstore.delete, self.store, uid) is None
        assert self.run(snapshot(self.db)) == before
        assert self.tx(bstore.references, self.store, uid) == 0

    @rule(data=st.data(), large=st.booleans())
    def read(self, data, large):
        if not self.model:
            return
        uid = data.draw(self.known())
        if large:
            got = self.run(bstore.get_large(self.db, self.store, uid))
        else:
            got = self.tx(bstore.get, self.store, uid)
        assert got == self.model[uid][0]

    @invariant()
    def contents(self):
        for uid, (_, held) in self.model.items():
            got = self.tx(bstore.holders, self.store, uid)
            assert sorted(map(repr, got)) == sorted(map(repr, held))
            assert self.tx(bstore.references, self.store, uid) == len(held)
        kinds = classify(store_keys(self.run(snapshot(self.db))))
        assert kinds == {
            "blob": len(self.model),
            "chunk": sum(chunks_of(blob) for blob, _ in self.model.values()),
            "holder": sum(len(held) for _, held in self.model.values()),
            "upload": 0,
        }


def test_bstore_machine(tmp_path, monkeypatch):
    # Two chunks per staging transaction, so put_large spans several.
    monkeypatch.setattr(bstore, "BATCH_BYTES", 2 * CHUNK_SIZE)
    run_machine(BStoreMachine, tmp_path, examples=40, steps=25)


# --- content addressing ---------------------------------------------------------


async def test_same_bytes_twice_same_uid_and_nothing_written(db):
    store = bstore.make("dedup", PREFIX)
    await reset(db)
    blob = noise(3 * CHUNK_SIZE + 5)
    first = await found.transactional(db, bstore.get_or_create, store, blob)
    assert first == expected_uid(blob)
    before = await snapshot(db)
    second = await found.transactional(db, bstore.get_or_create, store, bytearray(blob))
    assert second == first
    assert await snapshot(db) == before
    assert await found.transactional(db, bstore.references, store, first) == 0
    assert bstore.uid_of(blob) == first


async def test_a_holder_adds_one_key_and_no_blob_data(db):
    store = bstore.make("hold", PREFIX)
    await reset(db)
    blob = noise(2 * CHUNK_SIZE, 21)
    uid = await found.transactional(db, bstore.get_or_create, store, blob)
    before = store_keys(await snapshot(db))
    assert await found.transactional(db, bstore.get_or_create, store, blob, holder=("user", 1)) == uid
    after = store_keys(await snapshot(db))
    assert set(after) - set(before) == {(found.pack(PREFIX + ("holder", uid, ("user", 1))), b"")}
    assert set(before) <= set(after)
    assert await found.transactional(db, bstore.holders, store, uid) == [("user", 1)]


async def test_release_keeps_the_content_for_other_holders(db):
    store = bstore.make("holders", PREFIX)
    await reset(db)
    blob = noise(CHUNK_SIZE * 2)
    uid = await found.transactional(db, bstore.get_or_create, store, blob, holder="a")
    assert await bstore.put_large(db, store, blob, holder="b") == uid
    other = await found.transactional(db, bstore.get_or_create, store, b"other", holder="a")
    assert await found.transactional(db, bstore.holders, store, uid) == ["a", "b"]
    assert await found.transactional(db, bstore.release, store, uid, "a") is True
    assert await found.transactional(db, bstore.release, store, uid, "a") is True  # no longer held by a
    assert await found.transactional(db, bstore.release, store, uid, "nobody") is True
    assert await found.transactional(db, bstore.get, store, uid) == blob
    assert await found.transactional(db, bstore.release, store, uid, "b") is False
    error = await attempt(db, bstore.get, store, uid, exception=BStoreException)
    assert isinstance(error, BStoreException)
    assert await found.transactional(db, bstore.get, store, other) == b"other"
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 1, "holder": 1, "upload": 0}


async def test_releasing_what_is_not_held_changes_nothing(db):
    store = bstore.make("unheld", PREFIX)
    await reset(db)
    plain = await found.transactional(db, bstore.get_or_create, store, b"plain")
    held = await found.transactional(db, bstore.get_or_create, store, b"held", holder="a")
    before = await snapshot(db)
    assert await found.transactional(db, bstore.release, store, plain, "a") is True
    assert await found.transactional(db, bstore.release, store, held, "b") is True
    assert await found.transactional(db, bstore.release, store, bstore.uid_of(b"absent"), "a") is False
    assert await snapshot(db) == before


async def test_delete_removes_the_blob_and_all_its_holders(db):
    store = bstore.make("force", PREFIX)
    await reset(db)
    uid = await found.transactional(db, bstore.get_or_create, store, b"shared", holder="a")
    await found.transactional(db, bstore.get_or_create, store, b"shared", holder="b")
    kept = await found.transactional(db, bstore.get_or_create, store, b"kept", holder="a")
    await found.transactional(db, bstore.delete, store, uid)
    assert await found.transactional(db, bstore.holders, store, uid) == []
    assert await found.transactional(db, bstore.holders, store, kept) == ["a"]
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 1, "holder": 1, "upload": 0}


# --- retry safety ---------------------------------------------------------------


async def prepare(db, store):
    """The state every retry test starts from: two blobs, one held by two
    holders, one stored without holders."""
    await reset(db)
    shared = await found.transactional(db, bstore.get_or_create, store, noise(CHUNK_SIZE + 9, 30), holder="a")
    await found.transactional(db, bstore.get_or_create, store, noise(CHUNK_SIZE + 9, 30), holder="b")
    await found.transactional(db, bstore.get_or_create, store, b"plain")
    return shared


OPERATIONS = {
    "create new, no holder": lambda shared: (bstore.get_or_create, noise(3 * CHUNK_SIZE, 31)),
    "create new, holder": lambda shared: (bstore.get_or_create, noise(3 * CHUNK_SIZE, 31), "c"),
    "create existing, holder": lambda shared: (bstore.get_or_create, noise(CHUNK_SIZE + 9, 30), "c"),
    "create existing, no holder": lambda shared: (bstore.get_or_create, b"plain"),
    "release one of two": lambda shared: (bstore.release, shared, "a"),
    "release not held": lambda shared: (bstore.release, shared, "z"),
    "release a blob stored without holders": lambda shared: (bstore.release, bstore.uid_of(b"plain"), "z"),
    "delete": lambda shared: (bstore.delete, shared),
}


async def apply(db, store, mode, operation):
    shared = await prepare(db, store)
    func, *args = OPERATIONS[operation](shared)
    if func is bstore.get_or_create and len(args) == 2:
        return await run(db, mode, func, store, args[0], holder=args[1])
    return await run(db, mode, func, store, *args)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("mode", ["twice", "unknown"])
async def test_an_operation_run_twice_leaves_what_running_it_once_leaves(db, mode, operation):
    store = bstore.make("retry", PREFIX)
    once = await apply(db, store, "once", operation)
    expected = await view(db, store)
    again = await apply(db, store, mode, operation)
    assert again == once
    assert await view(db, store) == expected


@pytest.mark.parametrize("mode", ["twice", "unknown"])
async def test_releasing_the_last_holder_twice_deletes_once(db, mode):
    store = bstore.make("last", PREFIX)
    shared = await prepare(db, store)
    assert await found.transactional(db, bstore.release, store, shared, "b") is True
    assert await run(db, mode, bstore.release, store, shared, "a") is False
    contents, kinds = await view(db, store)
    assert list(contents.values()) == [(b"plain", [])]
    assert kinds == {"blob": 1, "chunk": 1, "holder": 0, "upload": 0}


@pytest.mark.parametrize("holder", [None, "p"])
@pytest.mark.parametrize("stream", [False, True])
async def test_put_large_with_every_transaction_replayed(db, monkeypatch, holder, stream):
    store = bstore.make("replayed", PREFIX)
    monkeypatch.setattr(bstore, "BATCH_BYTES", 2 * CHUNK_SIZE)
    await reset(db)
    blob = noise(5 * CHUNK_SIZE + 3, 32)
    data = [blob[:7], blob[7:]] if stream else blob
    uid = await put_large(db, store, data, "unknown", monkeypatch, holder=holder)
    assert uid == expected_uid(blob)
    assert await bstore.get_large(db, store, uid) == blob
    kinds = classify(store_keys(await snapshot(db)))
    assert kinds == {"blob": 1, "chunk": 6, "holder": 0 if holder is None else 1, "upload": 0}
    # Again, now a duplicate: held, the staged copy (for a stream) dropped.
    assert await put_large(db, store, data, "unknown", monkeypatch, holder="q") == uid
    assert await found.transactional(db, bstore.get, store, uid) == blob
    kinds = classify(store_keys(await snapshot(db)))
    assert kinds == {"blob": 1, "chunk": 6, "holder": 1 if holder is None else 2, "upload": 0}


async def test_a_published_upload_keeps_its_chunks_when_publishing_then_fails(db, monkeypatch):
    # The publishing commit applied, then the retry failed for good: the
    # rollback must not take the chunks of the published blob.
    store = bstore.make("publish-fails", PREFIX)
    await reset(db)
    blob = noise(3 * CHUNK_SIZE, 33)
    publish = bstore._publish
    calls = []

    async def publish_then_fail(tx, *args):
        calls.append(1)
        if len(calls) == 1:
            await found.transactional(db, publish, *args)
            raise found.FoundException(1021)
        raise found.FoundException(1007)  # transaction_too_old, then give up

    monkeypatch.setattr(bstore, "_publish", publish_then_fail)
    with pytest.raises(found.FoundException):
        await found_retry_limited(bstore.put_large(db, store, blob, holder="h"), monkeypatch)
    monkeypatch.undo()
    uid = expected_uid(blob)
    assert await found.transactional(db, bstore.get, store, uid) == blob
    assert await found.transactional(db, bstore.holders, store, uid) == ["h"]
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 3, "holder": 1, "upload": 0}


async def found_retry_limited(call, monkeypatch):
    """Run ``call`` with bstore's transactions giving up after one retry."""
    real = found.transactional

    class Limited(ReplayingFound):
        async def transactional(self, db, func, *args, **kwargs):
            return await real(db, func, *args, found_retry_limit=1, **kwargs)

    monkeypatch.setattr(bstore, "found", Limited(None))
    return await call


# --- beyond the limits ----------------------------------------------------------


async def test_blob_far_beyond_the_transaction_limit(db, monkeypatch):
    store = bstore.make("large", PREFIX)
    await reset(db)
    blob = noise(25_000_000, 4)
    with pytest.raises(BStoreException, match="put_large"):
        await found.transactional(db, bstore.get_or_create, store, blob)

    sizes = []
    stage = bstore._stage

    async def measured_stage(tx, *args):
        await stage(tx, *args)
        sizes.append(await found.get_approximate_size(tx))

    monkeypatch.setattr(bstore, "_stage", measured_stage)
    uid = await bstore.put_large(db, store, blob)
    assert uid == expected_uid(blob)
    assert len(sizes) >= 7 and max(sizes) < 10_000_000
    assert await bstore.get_large(db, store, uid) == blob
    kinds = classify(store_keys(await snapshot(db)))
    assert kinds == {"blob": 1, "chunk": chunks_of(blob), "holder": 0, "upload": 0}
    await found.transactional(db, bstore.delete, store, uid)
    assert store_keys(await snapshot(db)) == []


async def test_staged_chunks_are_invisible_until_published(db, monkeypatch):
    store = bstore.make("staging", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    blob = noise(3 * CHUNK_SIZE, 5)
    uid = expected_uid(blob)
    seen = []
    stage = bstore._stage

    async def observed_stage(tx, *args):
        await stage(tx, *args)
        seen.append(await attempt(db, bstore.get, store, uid, exception=BStoreException))

    monkeypatch.setattr(bstore, "_stage", observed_stage)
    assert await bstore.put_large(db, store, blob) == uid
    assert len(seen) == 3 and all(isinstance(e, BStoreException) for e in seen)
    assert await found.transactional(db, bstore.get, store, uid) == blob


async def test_publish_finds_the_same_content_stored_meanwhile(db, monkeypatch):
    store = bstore.make("race", PREFIX)
    await reset(db)
    blob = noise(2 * CHUNK_SIZE, 6)
    publish = bstore._publish

    async def late_publish(tx, *args):
        await found.transactional(db, bstore.get_or_create, store, blob, holder="other")
        await publish(tx, *args)

    monkeypatch.setattr(bstore, "_publish", late_publish)
    uid = await bstore.put_large(db, store, blob, holder="mine")
    assert await found.transactional(db, bstore.holders, store, uid) == ["mine", "other"]
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 2, "holder": 2, "upload": 0}


class Boom(Exception):
    pass


def failing_on(calls):
    """A replacement for bstore._stage failing on the ``calls``-th call."""
    stage = bstore._stage
    count = []

    async def flaky(tx, *args):
        count.append(1)
        if len(count) == calls:
            raise Boom("injected failure")
        await stage(tx, *args)

    return flaky


async def test_failed_upload_rolls_back(db, monkeypatch):
    store = bstore.make("rollback", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    monkeypatch.setattr(bstore, "_stage", failing_on(3))
    with pytest.raises(Boom):
        await bstore.put_large(db, store, noise(5 * CHUNK_SIZE, 7))
    assert store_keys(await snapshot(db)) == []


async def test_gc_removes_what_a_failed_rollback_left(db, monkeypatch):
    store = bstore.make("gc", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    monkeypatch.setattr(bstore, "_stage", failing_on(3))

    async def no_discard(tx, *args):
        raise Boom("rollback failed too")

    monkeypatch.setattr(bstore, "_discard_upload", no_discard)
    blob = noise(5 * CHUNK_SIZE, 8)
    with pytest.raises(Boom):
        await bstore.put_large(db, store, blob)
    monkeypatch.undo()
    assert classify(store_keys(await snapshot(db))) == {"blob": 0, "chunk": 2, "holder": 0, "upload": 1}
    error = await attempt(db, bstore.get, store, expected_uid(blob), exception=BStoreException)
    assert isinstance(error, BStoreException)
    assert await bstore.gc(db, store) == 0  # younger than the default grace period
    assert await bstore.gc(db, store, older_than=0) == 1
    assert store_keys(await snapshot(db)) == []


async def test_upload_collected_midway_fails(db, monkeypatch):
    store = bstore.make("collected", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    stage = bstore._stage
    calls = []

    async def collected_after_first(tx, *args):
        calls.append(1)
        if len(calls) == 2:
            await bstore.gc(db, store, older_than=0)
        await stage(tx, *args)

    monkeypatch.setattr(bstore, "_stage", collected_after_first)
    with pytest.raises(BStoreException, match="collected by gc"):
        await bstore.put_large(db, store, noise(3 * CHUNK_SIZE, 9))
    assert store_keys(await snapshot(db)) == []


async def pieces_of(blob, sizes):
    offset = 0
    for size in sizes:
        yield memoryview(blob)[offset : offset + size]
        offset += size
    yield blob[offset:]


async def test_put_large_from_a_stream_of_uneven_pieces(db, monkeypatch):
    store = bstore.make("stream", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", 3 * CHUNK_SIZE)
    blob = noise(7 * CHUNK_SIZE + 3, 13)
    sizes = [1, CHUNK_SIZE - 1, CHUNK_SIZE + 5, 0, 3 * CHUNK_SIZE, 17]
    uid = await bstore.put_large(db, store, pieces_of(blob, sizes))
    assert uid == expected_uid(blob)
    assert await found.transactional(db, bstore.get, store, uid) == blob
    chunks = [chunk async for chunk in bstore.stream(db, store, uid)]
    assert b"".join(chunks) == blob and {len(c) for c in chunks[:-1]} == {CHUNK_SIZE}
    # The same content again, streamed: one more holder, no second copy.
    assert await bstore.put_large(db, store, [blob[:10], blob[10:]], holder="again") == uid
    assert await found.transactional(db, bstore.holders, store, uid) == ["again"]
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 8, "holder": 1, "upload": 0}
    assert await bstore.put_large(db, store, iter([])) == expected_uid(b"")
    assert await found.transactional(db, bstore.get, store, expected_uid(b"")) == b""


async def test_a_bad_piece_abandons_the_upload(db):
    store = bstore.make("bad-piece", PREFIX)
    await reset(db)

    async def pieces():
        yield noise(2 * CHUNK_SIZE, 14)
        yield noise(5 * CHUNK_SIZE, 15)
        yield "not bytes"

    with pytest.raises(BStoreException, match="pieces of a blob must be bytes, got str"):
        await bstore.put_large(db, store, pieces())
    assert store_keys(await snapshot(db)) == []


# --- verification on read -------------------------------------------------------


async def _record(tx, store, uid):
    return found.unpack(await found.get(tx, found.pack(PREFIX + ("blob", uid))))


@pytest.mark.parametrize("damage", ["flip", "drop", "extra", "size", "record"])
async def test_damaged_content_is_refused(db, damage):
    store = bstore.make("damage", PREFIX)
    await reset(db)
    blob = noise(3 * CHUNK_SIZE, 10)
    uid = await found.transactional(db, bstore.get_or_create, store, blob)
    sid, size, chunks, digest = await found.transactional(db, _record, store, uid)

    async def spoil(tx):
        if damage == "flip":
            await found.set(tx, found.pack(PREFIX + ("chunk", sid, 1)), noise(CHUNK_SIZE, 11))
        elif damage == "drop":
            await found.clear(tx, found.pack(PREFIX + ("chunk", sid, 2)))
        elif damage == "extra":
            await found.set(tx, found.pack(PREFIX + ("chunk", sid, 3)), b"tail")
        elif damage == "size":
            record = found.pack((sid, size - 1, chunks, digest))
            await found.set(tx, found.pack(PREFIX + ("blob", uid)), record)
        else:
            await found.set(tx, found.pack(PREFIX + ("blob", uid)), b"\x02garbage")

    await found.transactional(db, spoil)
    error = await attempt(db, bstore.get, store, uid, exception=BStoreException)
    assert isinstance(error, BStoreException) and str(uid) in str(error)
    with pytest.raises(BStoreException):
        await bstore.get_large(db, store, uid)
    with pytest.raises(BStoreException):
        async for _ in bstore.stream(db, store, uid):
            pass


# --- bad input ------------------------------------------------------------------


async def test_bad_input_raises_and_writes_nothing(db):
    store = bstore.make("bad", PREFIX)
    await reset(db)
    await found.transactional(db, bstore.get_or_create, store, b"kept")
    before = await snapshot(db)
    unknown = uuid.UUID(int=1)
    calls = [
        ("blob is str", lambda tx: bstore.get_or_create(tx, store, "text")),
        ("blob is None", lambda tx: bstore.get_or_create(tx, store, None)),
        ("uid is str", lambda tx: bstore.get(tx, store, str(unknown))),
        ("uid is bytes", lambda tx: bstore.get(tx, store, unknown.bytes)),
        ("unknown uid", lambda tx: bstore.get(tx, store, unknown)),
        ("delete bad uid", lambda tx: bstore.delete(tx, store, 42)),
        ("release bad uid", lambda tx: bstore.release(tx, store, b"x", "h")),
        ("release no holder", lambda tx: bstore.release(tx, store, unknown, None)),
        ("release bad holder", lambda tx: bstore.release(tx, store, unknown, object())),
        ("holder not packable", lambda tx: bstore.get_or_create(tx, store, b"new", holder={1})),
        ("references bad uid", lambda tx: bstore.references(tx, store, "x")),
        ("holders bad uid", lambda tx: bstore.holders(tx, store, None)),
    ]
    for description, call in calls:
        error = await attempt(db, call, exception=BStoreException)
        assert isinstance(error, BStoreException), description
        assert await snapshot(db) == before, description
    for bad in (-1, "1", None, True):
        with pytest.raises(BStoreException, match="older_than"):
            await bstore.gc(db, store, older_than=bad)
    with pytest.raises(BStoreException, match="pieces of a blob must be bytes"):
        await bstore.put_large(db, store, ["not", "bytes"])
    with pytest.raises(BStoreException, match="holder must be packable in a tuple, got set"):
        await bstore.put_large(db, store, b"new", holder={1})
    for bad in ("text", 42, None):
        with pytest.raises(BStoreException, match="blob must be bytes or an iterable"):
            await bstore.put_large(db, store, bad)
    with pytest.raises(BStoreException, match="no blob"):
        await bstore.get_large(db, store, unknown)
    assert await snapshot(db) == before


@pytest.mark.parametrize("name, prefix", [(1, PREFIX), ("n", "s"), ("n", (object(),))])
def test_bad_handle(name, prefix):
    with pytest.raises(BStoreException):
        bstore.make(name, prefix)


async def test_concurrent_stores_of_the_same_content_keep_one_copy(db):
    store = bstore.make("concurrent", PREFIX)
    await reset(db)
    blob = noise(3 * CHUNK_SIZE, 12)
    uids = await asyncio.gather(
        *(found.transactional(db, bstore.get_or_create, store, blob, holder=n) for n in range(4))
    )
    assert set(uids) == {expected_uid(blob)}
    assert await found.transactional(db, bstore.holders, store, uids[0]) == [0, 1, 2, 3]
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 3, "holder": 4, "upload": 0}


async def test_contents_sharing_a_uid_are_refused(db, monkeypatch):
    store = bstore.make("collision", PREFIX)
    await reset(db)
    real = bstore._digest
    # A digest whose first 16 bytes (the uid) ignore the content.
    monkeypatch.setattr(bstore, "_digest", lambda blob: bytes(16) + real(blob)[16:])
    await found.transactional(db, bstore.get_or_create, store, b"one")
    before = await snapshot(db)
    error = await attempt(db, bstore.get_or_create, store, b"two", exception=BStoreException)
    assert isinstance(error, BStoreException) and "collision" in str(error)
    with pytest.raises(BStoreException, match="collision"):
        await bstore.put_large(db, store, b"two")
    assert await snapshot(db) == before
