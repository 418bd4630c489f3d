"""Memory check: resident set size over 100,000 transactions on the engine.

    python3 tests/engine/rss_flat.py [transactions]

Runs a mixed workload (point and range reads, sets, atomic adds, clears,
read-only commits, on_error, a cancelled watch now and then, a 60 s
transaction timeout on everything) through the
official binding, keeping up to 256 commits in flight so the store's group
commit batches them, and prints RSS after a warm-up and at the end. Exits 1
when RSS grew by more than 10% + 8 MiB after the warm-up (a leak of even a
few hundred bytes per transaction would show)."""

import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fdb  # noqa: E402

from engine_lib import ENGINE  # noqa: E402  (loads the engine first)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(total=100000):
    db = fdb.open(cluster_file=tempfile.mkdtemp())
    db.options.set_transaction_timeout(60000)  # timers must not pile up
    in_flight = []
    warm = total // 10
    rss_warm = None
    for i in range(total):
        if i == warm:
            rss_warm = rss_bytes()
        tr = db.create_transaction()
        key = b"k%06d" % (i % 5000)
        tr[key].wait()
        list(tr.get_range(key, key + b"\xff", limit=5))
        if i % 4 == 0:
            tr.commit().wait()  # read-only commit
            continue
        tr[key] = b"v" * (i % 200)
        tr.add(b"counter", struct.pack("<q", 1))
        if i % 10 == 0:
            tr.clear_range(key + b"\x00", key + b"\x01")
        if i % 100 == 0:
            tr.watch(key).cancel()
        if i % 50 == 0:
            tr.on_error(fdb.FDBError(1020)).wait()
            tr[key] = b"retried"
        in_flight.append(tr.commit())
        if len(in_flight) >= 256:
            for f in in_flight:
                f.wait()
            in_flight.clear()
    for f in in_flight:
        f.wait()
    rss_end = rss_bytes()
    mib = 1 << 20
    print(
        "engine %s\ntransactions %d\nRSS after %d: %.1f MiB\nRSS at end: %.1f MiB\ngrowth: %.1f MiB"
        % (ENGINE, total, warm, rss_warm / mib, rss_end / mib, (rss_end - rss_warm) / mib)
    )
    return 0 if rss_end <= rss_warm * 1.10 + 8 * mib else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100000))
