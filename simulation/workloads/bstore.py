"""bstore: concurrent acquire (get_or_create), release (delete), put_large
and get of a pool of contents in one shared store.

bstore counts references, and neither get_or_create nor delete can tell,
when retried after an ambiguous commit, that it already applied: the
workload does what an application must, pairing each reference with a
holder marker written or cleared in the same transaction, and acting only
when the marker says so. Checked: a content always gets the same uid; a read
returns nothing or the whole, exact blob; in the end every stored content is
intact, each held blob has exactly as many references as holders (none
taken or released twice, none deleted while held), each blob record owns one complete set of chunks
and no chunk set is left that no record or pending upload owns (stored once,
nothing leaked)."""
import found
from found.ext import bstore

from simulation import seeds
from simulation.workloads.base import Workload, read_all, read_range

#: Contents acquired and released with holder markers (exact reference counts).
HELD_SIZES = (0, 1, 7, 1000, 99_999, 100_000, 100_001, 250_000)
#: Contents stored by put_large only (its transactions are its own).
LARGE_SIZES = (150_000, 300_000)
SIZES = HELD_SIZES + LARGE_SIZES
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
        self.tag = ctx.tag
        self.issued = 0
        self.holds = []

    async def step(self):
        roll = self.rng.random()
        if 0.5 <= roll < 0.6:
            index = self.rng.randrange(len(HELD_SIZES), len(SIZES))
            uid = await bstore.put_large(self.ctx.db, self.store, self.pool[index])
            self._check_uid(index, uid)
            return {"op": "put_large", "blob": index}
        index = self.rng.randrange(len(HELD_SIZES) if roll < 0.5 else len(SIZES))
        blob = self.pool[index]
        if roll < 0.15 and self.holds:
            index, seq = self.holds.pop(self.rng.randrange(len(self.holds)))
            released = await self.transact(self._release, index, seq)
            return {"op": "release", "blob": index, "released": released}
        if roll < 0.5:
            self.issued += 1
            uid = await self.transact(self._acquire, index, self.issued)
            self.holds.append((index, self.issued))
            self._check_uid(index, uid)
            return {"op": "acquire", "blob": index}
        try:
            got = await self.transact(_read_or_none, self.store, bstore.uid_of(blob))
        except bstore.BStoreException as error:
            self.violation("blob %d (%d bytes) is unreadable: %s" % (index, len(blob), error))
            return {"op": "get", "blob": index, "present": "unreadable"}
        if got is not None and got != blob:
            self.violation("blob %d read back as %d bytes that differ from the %d stored"
                           % (index, len(got), len(blob)))
        return {"op": "get", "blob": index, "present": got is not None}

    def _holder(self, index, seq):
        return self.key("holder", index, *self.tag, seq)

    async def _acquire(self, tx, index, seq):
        holder = self._holder(index, seq)
        if await found.get(tx, holder) is not None:
            return bstore.uid_of(self.pool[index])  # this very acquire already committed
        uid = await bstore.get_or_create(tx, self.store, self.pool[index])
        await found.set(tx, holder, b"")
        return uid

    async def _release(self, tx, index, seq):
        holder = self._holder(index, seq)
        guarded = not self.ctx.planted(PLANT_UNGUARDED_RELEASE)
        if guarded and await found.get(tx, holder) is None:
            return False  # this very release already committed
        await bstore.delete(tx, self.store, bstore.uid_of(self.pool[index]))
        await found.clear(tx, holder)
        return True

    def _check_uid(self, index, uid):
        if uid != bstore.uid_of(self.pool[index]):
            self.violation("blob %d stored under uid %s, expected %s" % (index, uid, bstore.uid_of(self.pool[index])))

    @classmethod
    async def check(cls, db, space, config, runs):
        store = make_store(space)
        problems = []
        for index, blob in enumerate(content_pool(config.seed)):
            try:
                got = await found.transactional(db, _read_or_none, store, bstore.uid_of(blob))
            except bstore.BStoreException as error:
                problems.append("blob %d (%d bytes) is unreadable: %s" % (index, len(blob), error))
                continue
            if got is not None and got != blob:
                problems.append("blob %d is damaged" % index)
            if index >= len(HELD_SIZES):
                continue
            holders = len(await read_all(db, found.pack(space + ("holder", index))))
            references = await found.transactional(db, bstore.references, store, bstore.uid_of(blob))
            if references != holders:
                problems.append("blob %d has %d reference(s) for %d holder(s)%s"
                                % (index, references, holders, ", deleted while held" if got is None and holders else ""))
        problems += await found.transactional(db, _layout_problems, store)
        return problems


def make_store(space):
    """The shared store (holder markers live beside it, under ``space``)."""
    return bstore.make("simulation", space + ("store",))


async def _read_or_none(tx, store, uid):
    try:
        return await bstore.get(tx, store, uid)
    except bstore.BStoreException as error:
        if "no blob" in str(error):
            return None
        raise


async def _layout_problems(tx, store):
    """Each record owns one complete chunk set; no chunk set is unowned."""
    records = await read_range(tx, store.key("blob"))
    chunks = await read_range(tx, store.key("chunk"))
    uploads = {found.unpack(k)[-1] for k, _ in await read_range(tx, store.key("upload"))}
    skip = len(found.pack(store.prefix))
    chunk_sets = {}
    for key, _ in chunks:
        _, sid, index = found.unpack(key[skip:])
        chunk_sets.setdefault(sid, []).append(index)
    problems, owned = [], set()
    for key, value in records:
        uid = found.unpack(key[skip:])[1]
        sid, _size, count, _digest, _refs = found.unpack(value)
        if sid in owned:
            problems.append("chunk set %s is owned by two records" % sid)
        owned.add(sid)
        if sorted(chunk_sets.get(sid, [])) != list(range(count)):
            problems.append("blob %s: chunks %s, expected 0..%d" % (uid, sorted(chunk_sets.get(sid, [])), count - 1))
    for sid in set(chunk_sets) - owned - uploads:
        problems.append("chunk set %s (%d chunks) belongs to no blob and no upload: stored twice or leaked"
                        % (sid, len(chunk_sets[sid])))
    return problems
