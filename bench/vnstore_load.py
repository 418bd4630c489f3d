"""Load test of vnstore's web UI against the same reads done directly.

Starts found-vnstore (uvicorn) on loopback over a fresh embedded directory
filled with a small history, then for ``--duration`` seconds keeps
``--clients`` concurrent HTTP clients requesting /navigate/ and the history
pages. Then, for the same duration and concurrency, runs the reads those pages
do directly with found in this process (no HTTP, no templates). That makes a
round; ``--rounds`` rounds alternate the two. Reports requests/s, p50/p99
latency and errors of both, their ratio, and the CPU (in cores) used by the
load generator (this process) and by the server while the HTTP side ran;
then the median and min–max over the rounds.

The HTTP clients are a minimal keep-alive HTTP/1.1 client on raw asyncio
streams (one connection each), so that the load generator, which shares the
machine's cores with the server, costs little: its CPU share is reported.

    python3 bench/vnstore_load.py                          # 5 rounds of 5 s, 1 worker
    python3 bench/vnstore_load.py --workers 1 2 4 --json out.json
    python3 bench/vnstore_load.py --page-cache 0           # every page rendered
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


def _start_server(database, workers, page_cache=None):
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if page_cache is not None:
        env[vnserver.PAGE_CACHE_ENV] = str(page_cache)
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


def _cpu_seconds(pid):
    """CPU seconds (user + system) used so far by ``pid`` and its descendants
    (uvicorn's workers), from /proc; None where /proc is not there."""
    total, pending, seen = 0, [pid], set()
    tick = os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open("/proc/{}/stat".format(current)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            for task in os.listdir("/proc/{}/task".format(current)):
                with open("/proc/{}/task/{}/children".format(current, task)) as f:
                    pending += [int(child) for child in f.read().split()]
        except OSError:
            if current == pid:
                return None
    return total / tick


async def _measured(run, server_pid=None):
    """``run()``'s summary fields plus the CPU share (in cores) of this
    process (the load generator) and of the server while it ran."""
    own, server = time.process_time(), server_pid and _cpu_seconds(server_pid)
    count, errors, latencies, elapsed, samples = await run()
    out = _summary("", count, errors, latencies, elapsed)
    out["error_samples"] = samples
    out["client_cpu"] = round((time.process_time() - own) / elapsed, 2)
    if server:
        out["server_cpu"] = round((_cpu_seconds(server_pid) - server) / elapsed, 2)
    return out


def _spread(values):
    """'median (min–max)' of ``values``."""
    return "{:.4g} ({:.4g}–{:.4g})".format(_median(values), min(values), max(values))


def _median(values):
    values = sorted(values)
    return (
        values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2
    )


async def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of http then direct (default 5)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="uvicorn worker counts to measure (default 1; e.g. 1 2 4)"
    )
    parser.add_argument("--page-cache", type=int, default=None, help="the server's page cache size (0: off)")
    parser.add_argument("--people", type=int, default=300, help="people in the store (3 tuples each)")
    parser.add_argument("--changes", type=int, default=30, help="applied changes holding them")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    report = {
        "clients": args.clients,
        "duration": args.duration,
        "rounds": args.rounds,
        "page_cache": args.page_cache,
        "client": "raw asyncio HTTP/1.1 keep-alive, one connection per client, in this process",
        "runs": [],
    }
    failed = False
    print(
        "vnstore load: {} clients, {} s per run, {} interleaved rounds, workers {}".format(
            args.clients, args.duration, args.rounds, " ".join(map(str, args.workers))
        )
    )
    print("round  run                 req/s   p50 ms   p99 ms  errors  client cpu  server cpu")
    with tempfile.TemporaryDirectory(prefix="vnstore-bench-") as directory:
        database = os.path.join(directory, "db")
        db = await found.open(database)
        changes = await populate(db, args.people, args.changes)
        paths = _paths(changes)
        report["pages"] = paths
        store = vnserver.make_store()
        for workers in args.workers:
            process, url = _start_server(database, workers, args.page_cache)
            rounds = []
            try:
                async with httpx.AsyncClient(base_url=url) as warm:
                    for _ in range(2 * workers):
                        for path in paths:
                            (await warm.get(path)).raise_for_status()
                for number in range(args.rounds):
                    http = await _measured(lambda: http_run(url, paths, args.clients, args.duration), process.pid)
                    direct = await _measured(lambda: direct_run(db, store, changes, args.clients, args.duration))
                    ratio = http["requests_per_second"] / direct["requests_per_second"]
                    rounds.append({"http": http, "direct": direct, "http_over_direct": round(ratio, 3)})
                    failed = failed or bool(http["errors"] or direct["errors"])
                    for name, row in (("http {}w".format(workers), http), ("direct", direct)):
                        print(
                            "{:>5}  {:<16} {:>8} {:>8} {:>8} {:>7} {:>11} {:>11}".format(
                                number + 1,
                                name,
                                row["requests_per_second"],
                                row["p50_ms"],
                                row["p99_ms"],
                                row["errors"],
                                row["client_cpu"],
                                row.get("server_cpu", "-"),
                            )
                        )
            finally:
                process.terminate()
                process.wait()
            summary = {
                "workers": workers,
                "http_rps": _spread([r["http"]["requests_per_second"] for r in rounds]),
                "direct_rps": _spread([r["direct"]["requests_per_second"] for r in rounds]),
                "ratio": _spread([r["http_over_direct"] for r in rounds]),
                "http_p99_ms": _spread([r["http"]["p99_ms"] for r in rounds]),
                "client_cpu": _spread([r["http"]["client_cpu"] for r in rounds]),
                "server_cpu": _spread([r["http"].get("server_cpu", 0) for r in rounds]),
                "ratio_median": _median([r["http_over_direct"] for r in rounds]),
            }
            report["runs"].append({"summary": summary, "rounds": rounds})
    print("median (min–max) over the rounds:")
    for run in report["runs"]:
        s = run["summary"]
        print(
            "  {} worker(s): http {} req/s, direct {} req/s, ratio {}, http p99 {} ms, "
            "client cpu {}, server cpu {} cores".format(
                s["workers"],
                s["http_rps"],
                s["direct_rps"],
                s["ratio"],
                s["http_p99_ms"],
                s["client_cpu"],
                s["server_cpu"],
            )
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
