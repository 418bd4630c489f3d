"""bstore: concurrent get_or_create / put_large / get of a pool of contents in
one shared store. Checked: a content always gets the same uid; a read returns
either nothing or the whole, exact blob (never part of it); in the end every
stored content is readable and intact, and stored once: each blob record
points at one complete set of chunks and no chunks are left that no record
or pending upload owns."""
import found
from found.ext import bstore

from simulation import seeds
from simulation.workloads.base import Workload, read_range

SIZES = (0, 1, 7, 1000, 99_999, 100_000, 100_001, 250_000)


def content_pool(seed):
    """The contents every task draws from (the same in every process)."""
    rng = seeds.rng(seed, "bstore-pool")
    return [rng.randbytes(size) for size in SIZES]


class BStore(Workload):
    name = "bstore"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.store = bstore.make("simulation", self.space)
        self.pool = content_pool(ctx.seed)

    async def step(self):
        index = self.rng.randrange(len(self.pool))
        blob = self.pool[index]
        roll = self.rng.random()
        if roll < 0.4:
            uid = await self.transact(lambda tx: bstore.get_or_create(tx, self.store, blob))
            self._check_uid(index, uid)
            return {"op": "get_or_create", "blob": index}
        if roll < 0.5:
            uid = await bstore.put_large(self.ctx.db, self.store, blob)
            self._check_uid(index, uid)
            return {"op": "put_large", "blob": index}
        try:
            got = await self.transact(_read_or_none, self.store, bstore.uid_of(blob))
        except bstore.BStoreException as error:
            self.violation("blob %d (%d bytes) is unreadable: %s" % (index, len(blob), error))
            return {"op": "get", "blob": index, "present": "unreadable"}
        if got is not None and got != blob:
            self.violation("blob %d read back as %d bytes that differ from the %d stored"
                           % (index, len(got), len(blob)))
        return {"op": "get", "blob": index, "present": got is not None}

    def _check_uid(self, index, uid):
        if uid != bstore.uid_of(self.pool[index]):
            self.violation("blob %d stored under uid %s, expected %s" % (index, uid, bstore.uid_of(self.pool[index])))

    @classmethod
    async def check(cls, db, space, config, runs):
        store = bstore.make("simulation", space)
        problems = []
        for index, blob in enumerate(content_pool(config.seed)):
            try:
                got = await found.transactional(db, _read_or_none, store, bstore.uid_of(blob))
            except bstore.BStoreException as error:
                problems.append("blob %d (%d bytes) is unreadable: %s" % (index, len(blob), error))
                continue
            if got is not None and got != blob:
                problems.append("blob %d is damaged" % index)
        problems += await found.transactional(db, _layout_problems, store)
        return problems


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
