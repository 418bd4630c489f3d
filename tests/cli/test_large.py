"""Round trip engine → file → engine of ~100 MB: a million small pairs plus large values, byte-identical.

It takes 10-22 s here (measured; docs/cli.md), so it runs in the main suite.
``FOUND_LARGE_PAIRS`` scales it (the 1 GB run of docs/cli.md: 10_000_000).
"""

import os
import time

import found
from cli_support import digest, ok

PAIRS = int(os.environ.get("FOUND_LARGE_PAIRS", "1000000"))
BIG_VALUES = max(PAIRS // 5000, 1)


async def _fill(db):
    """PAIRS pairs of a 16-byte key and a 64-byte value, plus BIG_VALUES values of 100,000 bytes."""
    filler = bytes(range(256)) * 4
    step = 20_000
    for start in range(0, PAIRS, step):

        async def write(tx, start=start):
            for i in range(start, min(start + step, PAIRS)):
                await found.set(tx, b"key/%012d" % i, filler[i % 256 : i % 256 + 56] + b"%08d" % i)

        await found.transactional(db, write)
    for start in range(0, BIG_VALUES, 50):

        async def write_big(tx, start=start):
            for i in range(start, min(start + 50, BIG_VALUES)):
                await found.set(tx, b"big/%06d" % i, ((bytes([i % 256]) + filler) * 98)[:99_990] + b"%010d" % i)

        await found.transactional(db, write_big)


async def test_round_trip_of_100_mb(directories, src, tmp_path):
    clock = [time.monotonic()]

    def lap() -> float:
        clock.append(time.monotonic())
        return clock[-1] - clock[-2]

    await _fill(src)
    fill = lap()
    dump_file = str(tmp_path / "large.fdump")
    ok("dump", directories[0], "-o", dump_file)
    dumped = lap()
    ok("load", dump_file, directories[1])
    loaded = lap()
    dst = await found.open(directories[1])
    expected = await digest(src)
    assert expected[0] == PAIRS + BIG_VALUES and expected[1] >= 100_000_000 * PAIRS // 1_000_000
    assert await digest(dst) == expected
    print(
        "round trip of %d pairs, %d bytes, dump file %d bytes: fill %.1f s, dump %.1f s, load %.1f s, "
        "digests %.1f s" % (expected[0], expected[1], os.path.getsize(dump_file), fill, dumped, loaded, lap())
    )
