"""A small application on found's public API, checked by `mypy --strict` and pyright (.ci/typecheck).

It runs too (`python tests/typing/app.py DIRECTORY`): the types describe code that works.
"""

import asyncio
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

import found
from found.ext import bstore, eavstore, nstore, pool, pstore, vnstore

TRIPLES = nstore.make("triples", ("app", "triples"), 3)
BLOBS = bstore.make("blobs", ("app", "blobs"))
PEOPLE = eavstore.make("people", ("app", "people"))
INDEX = pstore.make("index", ("app", "index"))
HISTORY = vnstore.make("history", ("app", "history"), ("uid", "key", "value"))


async def write(tx: found.Transaction, key: bytes, value: bytes) -> None:
    await found.set(tx, key, value)
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 60_000)
    await found.add(tx, b"counter", (1).to_bytes(8, "little"))


async def read(tx: found.Transaction, key: bytes) -> Optional[bytes]:
    return await found.get(tx, key)


async def scan(tx: found.Transaction) -> List[Tuple[bytes, bytes]]:
    pairs = found.query(tx, found.gte(b""), b"\xff", limit=10, mode=found.STREAMING_MODE_WANT_ALL)
    return await found.all(pairs)


async def graph(tx: found.Transaction) -> List[Dict[str, Any]]:
    await nstore.add(tx, TRIPLES, "ada", "knows", "alan")
    await nstore.add(tx, TRIPLES, "alan", "knows", "kurt")
    who, friend, other = nstore.var("who"), nstore.var("friend"), nstore.var("other")
    query = nstore.query(tx, TRIPLES, (who, "knows", friend), (friend, "knows", other))
    return [binding async for binding in query]


async def people(tx: found.Transaction) -> Dict[Any, Any]:
    uid = await eavstore.create(tx, PEOPLE, {"name": "Ada"})
    return await eavstore.get(tx, PEOPLE, uid)


async def search(tx: found.Transaction) -> List[Tuple[Any, int]]:
    await pstore.index(tx, INDEX, "doc", {"found": 2})
    return await pstore.search(tx, INDEX, ["found"], 5)


async def history(tx: found.Transaction) -> uuid.UUID:
    change = await vnstore.change_create(tx, HISTORY)
    await vnstore.change_rename(tx, HISTORY, change, "Add Ada")
    await vnstore.add(tx, HISTORY, "ada", "name", "Ada")
    return change


async def main(directory: str) -> None:
    async with await found.open(directory) as db:
        await found.transactional(db, write, b"k", b"v", found_retry_limit=5)
        value: Optional[bytes] = await found.transactional(db, read, b"k")
        assert value == b"v"
        assert len(await found.transactional(db, scan, snapshot=True)) == 2
        assert await found.transactional(db, graph) == [{"who": "ada", "friend": "alan", "other": "kurt"}]
        assert await found.transactional(db, people) == {"name": "Ada"}
        assert await found.transactional(db, search) == [("doc", 2)]
        change = await found.transactional(db, history)
        await found.transactional(db, vnstore.change_apply, HISTORY, change)
        uid: uuid.UUID = await found.transactional(db, bstore.get_or_create, BLOBS, b"blob")
        assert await found.transactional(db, bstore.get, BLOBS, uid) == b"blob"
        async with found.transaction(db) as tx:
            stamp = found.get_versionstamp(tx)
            await found.set_versionstamped_key(tx, found.pack_with_versionstamp((found.Versionstamp(),)), b"")
        version: int = found.get_committed_version(tx)
        assert int.from_bytes(await stamp, "big") >> 16 == version
        key: bytes = found.pack(("a", 1, 2.5, None, uuid.uuid4()))
        assert found.unpack(key)[0] == "a"
        lengths: List[int] = []
        with ThreadPoolExecutor(max_workers=2) as executor:
            done: int = await pool.pool_for_each_par_map(
                asyncio.get_running_loop(), executor, lengths.append, len, ["a", "bb"]
            )
        assert done == 2 and sorted(lengths) == [1, 2]
        try:
            await found.transactional(db, conflict, found_retry_limit=0)
        except found.FoundException as exc:
            code: int = exc.code
            assert code == 1020 and exc.name == "not_committed"
    print("found", found.__version__, "ok")


async def conflict(tx: found.Transaction) -> None:
    raise found.FoundException(1020)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
