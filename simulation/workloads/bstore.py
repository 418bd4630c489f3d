"""bstore: concurrent acquire (get_or_create or put_large with a holder),
release, put_large and get of a pool of contents in one shared store.

Every acquire names its own holder (the task's tag and a sequence number)
and goes through bstore's holder API alone, with no marker of the
workload's: the retries after ambiguous commits (commit_unknown_result)
that the engine injects thus test bstore's own idempotency. Checked: a
content always gets the same uid; a read returns nothing or the whole,
exact blob; at the end of each task, every acquire it saw succeed and did
not release is still held and every release it saw succeed is gone; in the
end every stored content is intact, a pooled content acquired with holders
is stored exactly while it has holders (never deleted while held, never
left behind by its last release), no holder outlives its blob, each blob
record owns one complete set of chunks and no chunk set is left that no
record or pending upload owns (stored once, nothing leaked)."""

import found
from found.ext import bstore
from simulation import seeds
from simulation.workloads.base import Workload, read_range

#: Contents acquired and released by holders.
HELD_SIZES = (0, 1, 7, 1000, 99_999, 100_000, 100_001, 250_000)
#: Contents stored by put_large without a holder (kept for good).
LARGE_SIZES = (150_000, 300_000)
SIZES = HELD_SIZES + LARGE_SIZES
#: Planted: releases with bstore.delete, which takes the blob from every holder.
PLANT_UNGUARDED_RELEASE = "bstore-unguarded-release"


def content_pool(seed):
    """The contents every task draws from (the same in every process)."""
    rng = seeds.rng(seed, "bstore-pool")
    return [rng.randbytes(size) for size in SIZES]


class BStore(Workload):
    name = "bstore"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.store = make_store(self.space)
        self.pool = content_pool(ctx.seed)
        self.issued = 0
        #: (index, holder) of acquires not released yet, acknowledged or not.
        self.holds = []
        #: holders whose acquire raised: held or not, nobody can tell.
        self.uncertain = set()
        #: (index, holder) of acknowledged releases.
        self.released = []

    async def step(self):
        roll = self.rng.random()
        if 0.5 <= roll < 0.6:
            index = self.rng.randrange(len(HELD_SIZES), len(SIZES))
            uid = await bstore.put_large(self.ctx.db, self.store, self.pool[index])
            self._check_uid(index, uid)
            return {"op": "put_large", "blob": index}
        if roll < 0.15 and self.holds:
            return await self._release(*self.holds.pop(self.rng.randrange(len(self.holds))))
        if roll < 0.5:
            return await self._acquire(self.rng.randrange(len(HELD_SIZES)), large=self.rng.random() < 0.25)
        index = self.rng.randrange(len(SIZES))
        blob = self.pool[index]
        try:
            got = await self.transact(_read_or_none, self.store, bstore.uid_of(blob))
        except bstore.BStoreException as error:
            self.violation("blob %d (%d bytes) is unreadable: %s" % (index, len(blob), error))
            return {"op": "get", "blob": index, "present": "unreadable"}
        if got is not None and got != blob:
            self.violation(
                "blob %d read back as %d bytes that differ from the %d stored" % (index, len(got), len(blob))
            )
        return {"op": "get", "blob": index, "present": got is not None}

    async def _acquire(self, index, large):
        self.issued += 1
        holder = self.tag + (self.issued,)
        # Recorded first: if the acquire raises, a later release still
        # clears whatever it left (releasing what is not held is a no-op).
        self.holds.append((index, holder))
        self.uncertain.add(holder)
        if large:
            uid = await bstore.put_large(self.ctx.db, self.store, self.pool[index], holder=holder)
        else:
            uid = await self.transact(_get_or_create, self.store, self.pool[index], holder)
        self.uncertain.discard(holder)
        self._check_uid(index, uid)
        return {"op": "acquire", "blob": index, "large": large}

    async def _release(self, index, holder):
        self.uncertain.discard(holder)
        uid = bstore.uid_of(self.pool[index])
        if self.ctx.planted(PLANT_UNGUARDED_RELEASE):
            await self.transact(bstore.delete, self.store, uid)
            stored = False
        else:
            stored = await self.transact(bstore.release, self.store, uid, holder)
        self.released.append((index, holder))
        return {"op": "release", "blob": index, "stored": stored}

    def _check_uid(self, index, uid):
        if uid != bstore.uid_of(self.pool[index]):
            self.violation("blob %d stored under uid %s, expected %s" % (index, uid, bstore.uid_of(self.pool[index])))

    async def finish(self):
        for index, holder in self.holds:
            if holder in self.uncertain:
                continue
            uid = bstore.uid_of(self.pool[index])
            if holder not in await self.transact(bstore.holders, self.store, uid):
                self.violation(
                    "blob %d: acquire by %s succeeded, never released, yet it holds nothing" % (index, holder)
                )
        for index, holder in self.released:
            uid = bstore.uid_of(self.pool[index])
            if holder in await self.transact(bstore.holders, self.store, uid):
                self.violation("blob %d: release by %s succeeded, yet it still holds it" % (index, holder))

    @classmethod
    async def check(cls, db, space, config, runs):
        store = make_store(space)
        problems = []
        for index, blob in enumerate(content_pool(config.seed)):
            uid = bstore.uid_of(blob)
            try:
                got = await found.transactional(db, _read_or_none, store, uid)
            except bstore.BStoreException as error:
                problems.append("blob %d (%d bytes) is unreadable: %s" % (index, len(blob), error))
                continue
            if got is not None and got != blob:
                problems.append("blob %d is damaged" % index)
            if index >= len(HELD_SIZES):
                continue
            holders = await found.transactional(db, bstore.holders, store, uid)
            if holders and got is None:
                problems.append("blob %d was deleted while %d holder(s) held it" % (index, len(holders)))
            if got is not None and not holders:
                problems.append("blob %d is stored but held by no one (its last release left it)" % index)
        problems += await found.transactional(db, _layout_problems, store)
        return problems


def make_store(space):
    """The shared store."""
    return bstore.make("simulation", space + ("store",))


async def _get_or_create(tx, store, blob, holder):
    return await bstore.get_or_create(tx, store, blob, holder=holder)


async def _read_or_none(tx, store, uid):
    try:
        return await bstore.get(tx, store, uid)
    except bstore.BStoreException as error:
        if "no blob" in str(error):
            return None
        raise


async def _layout_problems(tx, store):
    """Each record owns one complete chunk set; no chunk set is unowned; no
    holder is left for a blob that is gone."""
    records = await read_range(tx, store.key("blob"))
    chunks = await read_range(tx, store.key("chunk"))
    holders = await read_range(tx, store.key("holder"))
    uploads = {found.unpack(k)[-1] for k, _ in await read_range(tx, store.key("upload"))}
    skip = len(found.pack(store.prefix))
    chunk_sets = {}
    for key, _ in chunks:
        _, sid, index = found.unpack(key[skip:])
        chunk_sets.setdefault(sid, []).append(index)
    problems, owned, uids = [], set(), set()
    for key, value in records:
        uid = found.unpack(key[skip:])[1]
        uids.add(uid)
        sid, _size, count, _digest = found.unpack(value)
        if sid in owned:
            problems.append("chunk set %s is owned by two records" % sid)
        owned.add(sid)
        if sorted(chunk_sets.get(sid, [])) != list(range(count)):
            problems.append("blob %s: chunks %s, expected 0..%d" % (uid, sorted(chunk_sets.get(sid, [])), count - 1))
    for sid in set(chunk_sets) - owned - uploads:
        problems.append(
            "chunk set %s (%d chunks) belongs to no blob and no upload: stored twice or leaked"
            % (sid, len(chunk_sets[sid]))
        )
    orphans = {found.unpack(key[skip:])[1] for key, _ in holders} - uids
    for uid in sorted(orphans):
        problems.append("holders of blob %s outlive it" % uid)
    return problems
