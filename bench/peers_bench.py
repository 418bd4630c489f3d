"""found next to the embedded stores Python users pick, in one run on one machine.

    python3 bench/peers_bench.py [--pairs 1000000] [--rounds 5] [--cases stream,range,point,commits]

Peers (bench-only dependencies: bench/requirements.txt; a peer whose module
does not import is left out and said so): sqlite3 (stdlib, WAL, with
synchronous=FULL and =NORMAL), py-lmdb (PyPI ``lmdb``), rocksdict.

Every store gets the same --pairs pairs (16-byte keys, 32-byte values); rates
are pairs/s (stream), reads/s (range, point) and commits/s. Each
round runs every case on every side, one after the other, so all see the same
machine load; the report gives, per case, each side's median rate over the
rounds with min-max, and the ratios found/peer computed round by round
(median, min-max).

Cases:
- stream: every pair of the store in key order. found twice: ``found.query``
  (one pair at a time) and ``found.query_batches`` (a list per batch);
- range: 100-key range reads starting at random keys, one read transaction
  each (found: found.transactional around found.query, limit=100);
- point: random point gets, all in one read transaction;
- commits: durable one-key commits. found: 64 asyncio tasks, each commit a
  found.transactional; the peers commit from one thread (sqlite3 and LMDB
  take one writer at a time), each commit synced to disk (rocksdict:
  WriteOptions.sync).
"""

import argparse
import asyncio
import itertools
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import found  # noqa: E402

RANGE_LENGTH = 100
#: found.query_batches exists (not in found before 0.14's speed work: the bench also runs older trees)
BATCHES = hasattr(found, "query_batches")
TASKS = 64


def key(i: int) -> bytes:
    return b"k%015d" % i


def value(i: int) -> bytes:
    return b"v%031d" % i


def optional(module):
    try:
        return __import__(module)
    except ImportError:
        return None


lmdb = optional("lmdb")
rocksdict = optional("rocksdict")


class Found:
    name = "found"

    def __init__(self, directory, pairs):
        self.loop = asyncio.new_event_loop()
        self.db = self.run(found.open(os.path.join(directory, "found")))

        async def write(tx, start, stop):
            for i in range(start, stop):
                await found.set(tx, key(i), value(i))

        for start in range(0, pairs, 10_000):
            self.run(found.transactional(self.db, write, start, min(pairs, start + 10_000)))
        self.next_key = pairs

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def stream(self):
        async def scan(tx):
            n = 0
            async for _ in found.query(tx, b"k", b"l"):
                n += 1
            return n

        return self.run(found.transactional(self.db, scan))

    def stream_batches(self):
        async def scan(tx):
            n = 0
            async for batch in found.query_batches(tx, b"k", b"l"):
                n += len(batch)
            return n

        return self.run(found.transactional(self.db, scan))

    def ranges(self, starts):
        async def read(tx, begin):
            return [pair async for pair in found.query(tx, begin, b"l", limit=RANGE_LENGTH)]

        async def reads():
            for begin in starts:
                await found.transactional(self.db, read, begin)
            return len(starts)

        return self.run(reads())

    def points(self, keys):
        async def gets(tx):
            get = found.get
            for k in keys:
                await get(tx, k)
            return len(keys)

        return self.run(found.transactional(self.db, gets))

    def commits(self, count):
        first = self.next_key
        self.next_key += count

        async def write(tx, i):
            await found.set(tx, key(i), value(i))

        async def worker(w):
            for i in range(first + w, first + count, TASKS):
                await found.transactional(self.db, write, i)

        async def all_workers():
            await asyncio.gather(*(worker(w) for w in range(TASKS)))

        self.run(all_workers())
        return count

    def close(self):
        self.loop.close()


class Sqlite:
    def __init__(self, directory, pairs, synchronous):
        self.name = "sqlite3 " + synchronous
        self.con = sqlite3.connect(os.path.join(directory, "sqlite-%s.db" % synchronous), isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=" + synchronous)
        self.con.execute("CREATE TABLE t (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")
        self.con.execute("BEGIN")
        self.con.executemany("INSERT INTO t VALUES (?, ?)", ((key(i), value(i)) for i in range(pairs)))
        self.con.execute("COMMIT")
        self.next_key = pairs

    def stream(self):
        n = 0
        for _ in self.con.execute("SELECT k, v FROM t ORDER BY k"):
            n += 1
        return n

    def ranges(self, starts):
        query = "SELECT k, v FROM t WHERE k >= ? ORDER BY k LIMIT %d" % RANGE_LENGTH
        for begin in starts:
            self.con.execute(query, (begin,)).fetchall()
        return len(starts)

    def points(self, keys):
        self.con.execute("BEGIN")
        execute = self.con.execute
        for k in keys:
            execute("SELECT v FROM t WHERE k = ?", (k,)).fetchone()
        self.con.execute("COMMIT")
        return len(keys)

    def commits(self, count):
        for i in range(self.next_key, self.next_key + count):
            self.con.execute("INSERT INTO t VALUES (?, ?)", (key(i), value(i)))  # autocommit: one commit each
        self.next_key += count
        return count

    def close(self):
        self.con.close()


class Lmdb:
    name = "py-lmdb"

    def __init__(self, directory, pairs):
        self.env = lmdb.open(os.path.join(directory, "lmdb"), map_size=4 << 30, sync=True)
        with self.env.begin(write=True) as txn:
            txn.cursor().putmulti(((key(i), value(i)) for i in range(pairs)), append=True)
        self.next_key = pairs

    def stream(self):
        n = 0
        with self.env.begin() as txn:
            for _ in txn.cursor():
                n += 1
        return n

    def ranges(self, starts):
        for begin in starts:
            with self.env.begin() as txn:
                cursor = txn.cursor()
                cursor.set_range(begin)
                list(itertools.islice(cursor, RANGE_LENGTH))
        return len(starts)

    def points(self, keys):
        with self.env.begin() as txn:
            get = txn.get
            for k in keys:
                get(k)
        return len(keys)

    def commits(self, count):
        for i in range(self.next_key, self.next_key + count):
            with self.env.begin(write=True) as txn:
                txn.put(key(i), value(i))
        self.next_key += count
        return count

    def close(self):
        self.env.close()


class Rocks:
    name = "rocksdict"

    def __init__(self, directory, pairs):
        options = rocksdict.Options(raw_mode=True)
        self.db = rocksdict.Rdict(os.path.join(directory, "rocks"), options)
        batch = rocksdict.WriteBatch(raw_mode=True)
        for i in range(pairs):
            batch.put(key(i), value(i))
        self.db.write(batch)
        self.db.flush()
        self.sync = rocksdict.WriteOptions()
        self.sync.sync = True
        self.next_key = pairs

    def stream(self):
        n = 0
        for _ in self.db.items():
            n += 1
        return n

    def ranges(self, starts):
        for begin in starts:
            list(itertools.islice(self.db.items(from_key=begin), RANGE_LENGTH))
        return len(starts)

    def points(self, keys):
        get = self.db.get
        for k in keys:
            get(k)
        return len(keys)

    def commits(self, count):
        for i in range(self.next_key, self.next_key + count):
            self.db.put(key(i), value(i), self.sync)
        self.next_key += count
        return count

    def close(self):
        self.db.close()


def timed(function, *args):
    start = time.perf_counter()
    n = function(*args)
    return n / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ranges", type=int, default=3_000, help="100-key range reads per side and round")
    ap.add_argument("--points", type=int, default=100_000, help="point gets per side and round")
    ap.add_argument("--commits", type=int, default=64 * 200, help="found's durable commits per round")
    ap.add_argument("--peer-commits", type=int, default=1_000, help="each peer's durable commits per round")
    ap.add_argument("--cases", default="stream,range,point,commits")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=None, help="where the stores go (default: a temp dir)")
    args = ap.parse_args()
    cases = args.cases.split(",")
    rng = random.Random(args.seed)
    directory = tempfile.mkdtemp(prefix="found-peers-", dir=args.dir)
    try:
        sides = [Found(directory, args.pairs)]
        sides += [Sqlite(directory, args.pairs, "FULL"), Sqlite(directory, args.pairs, "NORMAL")]
        for module, kind in ((lmdb, Lmdb), (rocksdict, Rocks)):
            if module is None:
                print("%s: not installed, left out" % kind.name)
            else:
                sides.append(kind(directory, args.pairs))
        rates = {}  # (case, side) -> [per round]
        for _ in range(args.rounds):
            starts = [key(rng.randrange(args.pairs)) for _ in range(args.ranges)]
            keys = [key(rng.randrange(args.pairs)) for _ in range(args.points)]
            for side in sides:
                jobs = {
                    "stream": [("", side.stream)]
                    + ([(" batches", side.stream_batches)] if isinstance(side, Found) and BATCHES else []),
                    "range": [("", lambda: side.ranges(starts))],
                    "point": [("", lambda: side.points(keys))],
                    "commits": [
                        ("", lambda: side.commits(args.commits if isinstance(side, Found) else args.peer_commits))
                    ],
                }
                for case in cases:
                    for suffix, job in jobs[case]:
                        rates.setdefault((case, side.name + suffix), []).append(timed(job))
        report(rates, cases, args)
        for side in sides:
            side.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def spread(values, fmt):
    return "%s (%s-%s)" % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))


def report(rates, cases, args):
    print(
        "%d pairs, %d rounds; median (min-max) over the rounds; ratios found/peer round by round"
        % (args.pairs, args.rounds)
    )
    for case in cases:
        print("\n%s" % case)
        mine = [(name, r) for (c, name), r in rates.items() if c == case and name.startswith("found")]
        peers = [(name, r) for (c, name), r in rates.items() if c == case and not name.startswith("found")]
        for name, values in mine + peers:
            print("  %-18s %s /s" % (name, spread(values, "%.0f")))
        for name, values in mine:
            for peer, theirs in peers:
                ratios = [a / b for a, b in zip(values, theirs)]
                print("  %-18s / %-16s %s" % (name, peer, spread(ratios, "%.2fx")))


if __name__ == "__main__":
    main()
