"""The stores of found.ext next to the raw driver loops they stand on.

Every case times a store operation and, in the same run on the same engine,
a plain found.set / found.query loop touching the same keys and bytes; the
ratio store/raw is printed (the raw loop is the limit, 1.0).

    python3 bench/stores_bench.py [--triples 100000] [--queries 2000]
                                  [--documents 10000] [--searches 300] [--rounds 2] [--json]

Cases:
- nstore add: triples added 1,000 per transaction (each writes 3 keys) vs
  found.set of the same packed keys in the same batches;
- nstore 1-variable / 2-variable select: (s, p, ?o) and (s, ?p, ?o) patterns
  vs found.query over the same ranges, collecting the same pairs;
- bstore write/read of 1 MB (get_or_create / get) and 50 MB (put_large /
  get_large) blobs vs found.set / found.query of the same bytes in the same
  chunks and batches;
- pstore search over --documents documents: mean latency, vs the raw range
  reads of the same posting lists.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import found  # noqa: E402
from found.ext import bstore, nstore, pstore  # noqa: E402

BATCH = 1_000
SUBJECTS = 10_000
#: Each case alternates raw and store this many times and keeps each side's
#: best time, so neither side profits from running second (warm cache) alone.
ROUNDS = 2


def timed(function):
    """Run the coroutine function, return (seconds, result)."""

    async def run(*args):
        start = time.perf_counter()
        out = await function(*args)
        return time.perf_counter() - start, out

    return run


# --- nstore -------------------------------------------------------------------


def triple(i):
    return ("s%05d" % (i % SUBJECTS), "p%02d" % (i // SUBJECTS), i)


async def nstore_cases(db, triples, queries):
    store = nstore.make("bench", ("bench", "nstore"), 3)
    raw_prefix = ("bench", "raw-nstore")

    async def add_batch(tx, start, stop):
        for i in range(start, stop):
            await nstore.add(tx, store, *triple(i))

    async def raw_batch(tx, keys):
        for key in keys:
            await found.set(tx, key, b"")

    @timed
    async def adds():
        for start in range(0, triples, BATCH):
            await found.transactional(db, add_batch, start, min(triples, start + BATCH))

    raw_keys = [
        [
            found.pack(raw_prefix + (number,) + tuple(triple(i)[c] for c in order))
            for i in range(start, min(triples, start + BATCH))
            for number, order in enumerate(store.indices)
        ]
        for start in range(0, triples, BATCH)
    ]

    @timed
    async def raw_adds():
        for keys in raw_keys:
            await found.transactional(db, raw_batch, keys)

    raw_seconds = add_seconds = float("inf")
    for _ in range(ROUNDS):  # the second round overwrites the same keys
        raw_seconds = min(raw_seconds, (await raw_adds())[0])
        add_seconds = min(add_seconds, (await adds())[0])
    keys_written = triples * len(store.indices)
    results = {
        "nstore add": {
            "store per s": triples / add_seconds,
            "raw keys per s": keys_written / raw_seconds,
            "ratio": raw_seconds / add_seconds,
        }
    }

    rng = random.Random(1)
    predicates = max(1, triples // SUBJECTS)
    picks = [(rng.randrange(min(SUBJECTS, triples)), rng.randrange(predicates)) for _ in range(queries)]
    v = nstore.var
    one = [("s%05d" % s, "p%02d" % p, v("o")) for s, p in picks]
    two = [("s%05d" % s, v("p"), v("o")) for s, _ in picks]

    raw_prefix_packed = found.pack(raw_prefix)

    async def selects(tx, patterns):
        count = 0
        for pattern in patterns:
            async for _ in nstore.select(tx, store, *pattern):
                count += 1
        return count

    async def raw_queries(tx, ranges):
        count = 0
        for begin, end in ranges:
            async for key, _ in found.query(tx, begin, end):
                found.unpack(key)
                count += 1
        return count

    def raw_equivalents(patterns):
        ranges = []
        for pattern in patterns:
            chosen = nstore.plan(store, pattern)
            tail = len(found.pack(("bench", "nstore")))
            ranges.append((raw_prefix_packed + chosen.begin[tail:], raw_prefix_packed + chosen.end[tail:]))
        return ranges

    for label, patterns in (("nstore select 1 variable", one), ("nstore select 2 variables", two)):
        ranges = raw_equivalents(patterns)
        seconds = raw_seconds = float("inf")
        for _ in range(ROUNDS):
            spent, raw_count = await timed(found.transactional)(db, raw_queries, ranges)
            raw_seconds = min(raw_seconds, spent)
            spent, found_count = await timed(found.transactional)(db, selects, patterns)
            seconds = min(seconds, spent)
        assert found_count == raw_count, (label, found_count, raw_count)
        results[label] = {
            "store queries per s": len(patterns) / seconds,
            "raw queries per s": len(patterns) / raw_seconds,
            "bindings": found_count,
            "ratio": raw_seconds / seconds,
        }
    return results


# --- bstore -------------------------------------------------------------------


async def bstore_cases(db):
    store = bstore.make("bench", ("bench", "bstore"))
    raw = found.pack(("bench", "raw-bstore"))
    results = {}
    for megabytes in (1, 50):
        blob = random.Random(megabytes).randbytes(megabytes * 1_000_000)
        chunks = [blob[i : i + bstore.CHUNK_SIZE] for i in range(0, len(blob), bstore.CHUNK_SIZE)]
        per_tx = bstore.BATCH_BYTES // bstore.CHUNK_SIZE

        async def raw_write(tx, first, batch):
            for offset, chunk in enumerate(batch):
                await found.set(tx, raw + found.pack((first + offset,)), chunk)

        async def raw_read(tx, first, count):
            out = []
            begin = raw + found.pack((first,))
            async for _, value in found.query(tx, begin, raw + b"\xff", limit=count):
                out.append(value)
            return out

        @timed
        async def raw_writes():
            for first in range(0, len(chunks), per_tx):
                await found.transactional(db, raw_write, first, chunks[first : first + per_tx])

        @timed
        async def raw_reads():
            out = []
            for first in range(0, len(chunks), per_tx):
                out.extend(await found.transactional(db, raw_read, first, per_tx))
            return b"".join(out)

        small = megabytes * 1_000_000 <= bstore.TRANSACTION_BLOB_LIMIT
        write, read = ("get_or_create", "get") if small else ("put_large", "get_large")
        best = {"write": float("inf"), "read": float("inf"), "raw write": float("inf"), "raw read": float("inf")}
        # A 1 MB case is one short transaction: more rounds tame the noise.
        for _ in range(ROUNDS if not small else max(ROUNDS, 6)):
            spent, _ = await raw_writes()
            best["raw write"] = min(best["raw write"], spent)
            if small:
                spent, uid = await timed(found.transactional)(db, bstore.get_or_create, store, blob)
            else:
                spent, uid = await timed(bstore.put_large)(db, store, blob)
            best["write"] = min(best["write"], spent)
            spent, raw_back = await raw_reads()
            best["raw read"] = min(best["raw read"], spent)
            if small:
                spent, back = await timed(found.transactional)(db, bstore.get, store, uid)
            else:
                spent, back = await timed(bstore.get_large)(db, store, uid)
            best["read"] = min(best["read"], spent)
            assert back == blob and raw_back == blob
            # Deleted, so that the next round writes the blob again.
            await found.transactional(db, bstore.delete, store, uid)
        write_seconds, read_seconds = best["write"], best["read"]
        raw_write_seconds, raw_read_seconds = best["raw write"], best["raw read"]
        results["bstore {} MB {}".format(megabytes, write)] = {
            "store MB per s": megabytes / write_seconds,
            "raw MB per s": megabytes / raw_write_seconds,
            "ratio": raw_write_seconds / write_seconds,
        }
        results["bstore {} MB {}".format(megabytes, read)] = {
            "store MB per s": megabytes / read_seconds,
            "raw MB per s": megabytes / raw_read_seconds,
            "ratio": raw_read_seconds / read_seconds,
        }
    return results


# --- pstore -------------------------------------------------------------------


async def pstore_cases(db, documents, searches):
    store = pstore.make("bench", ("bench", "pstore"))
    rng = random.Random(2)
    vocabulary = ["w%04d" % i for i in range(2_000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like

    async def index_batch(tx, start, stop):
        local = random.Random(start)
        for docuid in range(start, stop):
            words = local.choices(vocabulary, weights, k=60)
            counter = {}
            for word in words:
                counter[word] = counter.get(word, 0) + 1
            await pstore.index(tx, store, docuid, counter)

    for start in range(0, documents, 500):
        await found.transactional(db, index_batch, start, min(documents, start + 500))

    queries = [rng.choices(vocabulary[:200], weights[:200], k=rng.randint(1, 2)) for _ in range(searches)]

    async def search_all(tx):
        hits = 0
        for keywords in queries:
            hits += len(await pstore.search(tx, store, keywords, 13))
        return hits

    async def raw_all(tx):
        pairs = 0
        for keywords in queries:
            for keyword in set(keywords):
                head = store._term + found.pack((keyword,))
                async for _key, value in found.query(tx, head + b"\x00", head + b"\xff"):
                    found.unpack(value)
                    pairs += 1
        return pairs

    seconds = raw_seconds = float("inf")
    for _ in range(ROUNDS):
        spent, postings = await timed(found.transactional)(db, raw_all)
        raw_seconds = min(raw_seconds, spent)
        spent, hits = await timed(found.transactional)(db, search_all)
        seconds = min(seconds, spent)
    return {
        "pstore search ({} documents)".format(documents): {
            "mean latency ms": 1000 * seconds / len(queries),
            "raw posting reads ms": 1000 * raw_seconds / len(queries),
            "postings per search": postings / len(queries),
            "hits": hits,
            "ratio": raw_seconds / seconds,
        }
    }


async def main(args):
    global ROUNDS
    ROUNDS = max(1, args.rounds)
    with tempfile.TemporaryDirectory(prefix="stores-bench-") as directory:
        db = await found.open(directory)
        results = {}
        results.update(await nstore_cases(db, args.triples, args.queries))
        results.update(await bstore_cases(db))
        results.update(await pstore_cases(db, args.documents, args.searches))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for case, numbers in results.items():
        shown = ", ".join(
            "{} {:.3g}".format(name, value) if isinstance(value, float) else "{} {}".format(name, value)
            for name, value in numbers.items()
        )
        print("{:<36} {}".format(case, shown))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternations of raw and store per case")
    parser.add_argument("--json", action="store_true")
    asyncio.run(main(parser.parse_args()))
