"""Load test of vnstore's web UI against the same reads done directly.

Starts found-vnstore (uvicorn) on loopback over a fresh embedded directory
filled with a small history, then for ``--duration`` seconds keeps
``--clients`` concurrent HTTP clients requesting /navigate/ and the history
pages. Then, for the same duration and concurrency, runs the reads those pages
do directly with found in this process (no HTTP, no templates). Reports
requests/s, p50/p99 latency and errors of both, and their ratio.

    python3 bench/vnstore_load.py                  # quick: 5 s per run
    python3 bench/vnstore_load.py --duration 30 --workers 2 --json out.json
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import httpx  # noqa: E402

import found  # noqa: E402
from found.ext import vnstore  # noqa: E402
from found.ext.vnstore import server as vnserver  # noqa: E402
from found.ext.vnstore._pages import NAVIGATE_LIMIT, Search  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def populate(db, people, changes):
    """``changes`` applied changes adding ``people`` people (name, age, city)."""
    store = vnserver.make_store()
    per_change = max(1, people // changes)
    uids = []
    for number in range(changes):

        async def one(tx):
            changeid = await vnstore.change_create(tx, store)
            await vnstore.change_message(tx, store, changeid, "import batch {}".format(number))
            for index in range(per_change):
                uid = uuid.uuid4()
                await vnstore.add(tx, store, uid, "name", "person {}-{}".format(number, index))
                await vnstore.add(tx, store, uid, "age", 20 + index % 50)
                await vnstore.add(tx, store, uid, "city", ["Paris", "Oslo", "Lima"][index % 3])
            await vnstore.change_apply(tx, store, changeid)
            return changeid

        uids.append(await found.transactional(db, one))
    return uids


def _start_server(database, workers):
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "found.ext.vnstore.server",
            "--port",
            str(port),
            "--database",
            database,
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("found-vnstore exited with {}".format(process.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, "http://127.0.0.1:{}".format(port)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("found-vnstore did not start")


async def _run(clients, duration, one_request):
    """Run ``clients`` loops of ``one_request(n)`` for ``duration`` seconds;
    (count, errors, latencies)."""
    latencies = []
    failures = []
    end = time.monotonic() + duration

    async def client(number):
        sequence = number
        while time.monotonic() < end:
            began = time.perf_counter()
            try:
                ok = await one_request(sequence)
            except Exception as exc:  # counted and sampled, not hidden
                ok = repr(exc)
            latencies.append(time.perf_counter() - began)
            if ok is not True:
                failures.append(ok or "bad status")
            sequence += clients

    began = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.monotonic() - began
    return len(latencies), len(failures), sorted(latencies), elapsed, failures[:3]


def _summary(name, count, errors, latencies, elapsed):
    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "name": name,
        "requests": count,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(count / elapsed, 1),
        "p50_ms": round(pct(0.50), 2),
        "p99_ms": round(pct(0.99), 2),
    }


def _paths(changes):
    out = ["/navigate/", "/navigate/?key=name", "/navigate/?key=city&value=Oslo", "/history/"]
    out += ["/history/u/{}/".format(c.hex) for c in changes[:4]]
    return out


class _Connection:
    """A minimal HTTP/1.1 keep-alive client: far less CPU per request than a
    full client library, so the load measures the server, not the client."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.reader = self.writer = None

    async def get(self, path):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = "GET {} HTTP/1.1\r\nHost: {}:{}\r\n\r\n".format(path, self.host, self.port)
        self.writer.write(request.encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self):
        if self.writer is not None:
            self.writer.close()


async def http_run(url, paths, clients, duration):
    host, port = url.split("//", 1)[1].split(":")
    connections = [_Connection(host, int(port)) for _ in range(clients)]

    async def one(sequence):
        status = await connections[sequence % clients].get(paths[sequence % len(paths)])
        return status == 200

    try:
        return await _run(clients, duration, one)
    finally:
        for connection in connections:
            connection.close()


def _direct_reads(store, changes):
    """For each path of _paths, the reads its page does, as a transaction."""

    def navigate(query):
        # The reads of the page itself: one cursor page of the search.
        search = Search.from_query(query)

        async def read(tx):
            return await search.page(tx, store.alive, NAVIGATE_LIMIT)

        return read

    def detail(changeid):
        async def read(tx):
            await vnstore.change_get(tx, store, changeid)
            return await vnstore.change_changes(tx, store, changeid)

        return read

    async def history(tx):
        return await vnstore.change_list(tx, store)

    out = [
        navigate({}),
        navigate({"key": "name"}),
        navigate({"key": "city", "value": "Oslo"}),
        history,
    ]
    out += [detail(c) for c in changes[:4]]
    return out


async def direct_run(db, store, changes, clients, duration):
    reads = _direct_reads(store, changes)

    async def one(sequence):
        await found.transactional(db, reads[sequence % len(reads)])
        return True

    return await _run(clients, duration, one)


async def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (default 5; 30 for a report)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--people", type=int, default=300, help="people in the store (3 tuples each)")
    parser.add_argument("--changes", type=int, default=30, help="applied changes holding them")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vnstore-bench-") as directory:
        database = os.path.join(directory, "db")
        db = await found.open(database)
        changes = await populate(db, args.people, args.changes)
        process, url = _start_server(database, args.workers)
        try:
            paths = _paths(changes)
            async with httpx.AsyncClient(base_url=url) as warm:
                for path in paths:
                    (await warm.get(path)).raise_for_status()
            count, errors, latencies, elapsed, samples = await http_run(url, paths, args.clients, args.duration)
            http = _summary("http (found-vnstore)", count, errors, latencies, elapsed)
            http["error_samples"] = samples
        finally:
            process.terminate()
            process.wait()
        count, errors, latencies, elapsed, samples = await direct_run(
            db, vnserver.make_store(), changes, args.clients, args.duration
        )
        direct = _summary("direct (found, same reads)", count, errors, latencies, elapsed)
        direct["error_samples"] = samples

    ratio = http["requests_per_second"] / direct["requests_per_second"] if direct["requests_per_second"] else 0
    report = {
        "clients": args.clients,
        "duration": args.duration,
        "workers": args.workers,
        "pages": paths,
        "http": http,
        "direct": direct,
        "http_over_direct": round(ratio, 3),
    }
    print(
        "vnstore load: {} clients, {} s per run, {} worker(s), pages: {}".format(
            args.clients, args.duration, args.workers, ", ".join(paths[:5]) + ", …"
        )
    )
    print("{:<28} {:>9} {:>7} {:>10} {:>9} {:>9}".format("run", "requests", "errors", "req/s", "p50 ms", "p99 ms"))
    for row in (http, direct):
        print("{name:<28} {requests:>9} {errors:>7} {requests_per_second:>10} {p50_ms:>9} {p99_ms:>9}".format(**row))
    print("ratio http / direct (requests/s): {:.3f}".format(ratio))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 1 if http["errors"] or direct["errors"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
