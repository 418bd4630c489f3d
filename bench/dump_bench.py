"""found.dump + found.load next to the raw loop that moves the same data.

    python3 bench/dump_bench.py [--pairs 1000000] [--rounds 2] [--codec zlib|zstd] [--compressible] [--json]

One engine directory holds ``--pairs`` pairs (16-byte keys, 100-byte values;
random bytes by default, the worst case for compression). Each round, on
emptied destinations:

- raw: one process reads the source with ``found.query`` and writes the
  pairs into a destination with ``found.set``, 9,000 pairs (~1 MB, the size
  of a dump block) per transaction — the least a copy has to do;
- dump+load: ``found.dump`` of the source to a file, then ``found.load`` of
  that file into another destination (compression, checksums, the resume
  record included).

Rounds alternate the two sides and keep each side's best time. Printed:
seconds and MB/s (keys + values) per side, and the ratio raw time / dump+load
time (target ≥ 0.5: dump+load at least half as fast as the raw loop).
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import found  # noqa: E402

PER_TRANSACTION = 9_000


async def fill(db, pairs: int, compressible: bool) -> int:
    """Write the source pairs; their total size in bytes."""
    rng = random.Random(7)
    for start in range(0, pairs, 50_000):
        count = min(50_000, pairs - start)
        if compressible:
            values = [(b"value-%010d-" % (start + i)) * 6 for i in range(count)]
            values = [v[:100] for v in values]
        else:
            blob = rng.randbytes(100 * count)
            values = [blob[i * 100 : (i + 1) * 100] for i in range(count)]

        async def write(tx, start=start, values=values):
            for i, value in enumerate(values):
                await found.set(tx, b"key-%012d" % (start + i), value)

        await found.transactional(db, write)
    return pairs * 116


async def clear(db) -> None:
    await found.transactional(db, found.clear, b"", b"\xff")


async def raw_copy(source, target) -> int:
    """Move every pair with found.query + found.set, PER_TRANSACTION pairs per transaction."""
    cursor = b""
    moved = 0
    while True:

        async def read(tx, cursor=cursor):
            return await found.all(found.query(tx, cursor, b"\xff", limit=PER_TRANSACTION))

        batch = await found.transactional(source, read, snapshot=True)
        if not batch:
            return moved

        async def write(tx, batch=batch):
            for key, value in batch:
                await found.set(tx, key, value)

        await found.transactional(target, write)
        moved += len(batch)
        cursor = batch[-1][0] + b"\x00"


async def dump_load(source, target, path: str, codec: str):
    with open(path, "wb") as out:
        dumped = await found.dump(source, out, codec=codec)
    with open(path, "rb") as stream:
        loaded = await found.load(target, stream, resume=path + ".resume")
    assert dumped.pairs == loaded.pairs
    return dumped.pairs, os.path.getsize(path)


async def main(args) -> dict:
    work = tempfile.mkdtemp(prefix="dump_bench_")
    try:
        source = await found.open(os.path.join(work, "source"))
        raw_target = await found.open(os.path.join(work, "raw"))
        dump_target = await found.open(os.path.join(work, "loaded"))
        size = await fill(source, args.pairs, args.compressible)
        best = {"raw": float("inf"), "dump+load": float("inf")}
        file_size = 0
        for _ in range(args.rounds):
            await clear(raw_target)
            started = time.perf_counter()
            assert await raw_copy(source, raw_target) == args.pairs
            best["raw"] = min(best["raw"], time.perf_counter() - started)
            await clear(dump_target)
            started = time.perf_counter()
            pairs, file_size = await dump_load(source, dump_target, os.path.join(work, "bench.fdump"), args.codec)
            assert pairs == args.pairs
            best["dump+load"] = min(best["dump+load"], time.perf_counter() - started)
        return {
            "pairs": args.pairs,
            "bytes": size,
            "codec": args.codec,
            "compressible": args.compressible,
            "file_bytes": file_size,
            "raw_s": best["raw"],
            "dump_load_s": best["dump+load"],
            "raw_mb_s": size / best["raw"] / 1e6,
            "dump_load_mb_s": size / best["dump+load"] / 1e6,
            "ratio": best["raw"] / best["dump+load"],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--codec", choices=["zlib", "zstd"], default="zlib")
    parser.add_argument("--compressible", action="store_true", help="repetitive values instead of random bytes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(main(args))
    if args.json:
        print(json.dumps(result))
        return
    print("%(pairs)d pairs, %(bytes)d bytes of keys+values (codec %(codec)s, dump file %(file_bytes)d bytes)" % result)
    print("raw query+set loop: %(raw_s).2f s  %(raw_mb_s).1f MB/s" % result)
    print("dump + load:        %(dump_load_s).2f s  %(dump_load_mb_s).1f MB/s" % result)
    print("ratio raw/dump+load time: %(ratio).2f (target >= 0.5)" % result)


if __name__ == "__main__":
    cli()
