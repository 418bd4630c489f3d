"""found-vnstore: the command line, a real uvicorn server, several workers
sharing one embedded directory."""

import asyncio
import os
import re

import httpx
import pytest

from found import engine
from found.ext.vnstore import launcher
from found.ext.vnstore import server as vnserver
from vnstore_helpers import free_port


def test_defaults_are_loopback_port_8000_one_worker():
    args = launcher.parser().parse_args([])
    assert (args.host, args.port, args.database, args.workers) == ("127.0.0.1", 8000, None, 1)
    assert (args.allow_remote, args.allowed_host, args.token, args.header_timeout) == (False, [], None, 10.0)


def test_workers_must_be_positive(capsys):
    try:
        launcher.parser().parse_args(["--workers", "0"])
    except SystemExit as exit:
        assert exit.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_default_database_is_described():
    text = vnserver.describe_database(None, "embedded")
    assert text == "embedded engine directory {}".format(engine.default_directory())
    assert vnserver.describe_database("/x/fdb.cluster", "system") == "FoundationDB cluster file /x/fdb.cluster"


async def test_serves_and_prints_the_database(start_server, tmp_path):
    directory = str(tmp_path / "db")
    server = start_server("--database", directory)
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get("/")
        assert response.status_code == 200
        assert directory in response.text
        response = await client.post("/history/change/", data={"message": "Through uvicorn"})
        assert response.status_code == 303
        # Served on loopback, it answers to local names only (DNS rebinding).
        response = await client.get("/", headers={"host": "rebound.example"})
        assert response.status_code == 400 and "Unknown host" in response.text
        response = await client.get("/", headers={"host": "localhost:{}".format(server.port)})
        assert response.status_code == 200
    log = server.log()
    assert "database: embedded engine directory {}".format(directory) in log
    assert "serving {}/".format(server.url) in log


async def test_workers_share_one_embedded_directory(start_server, tmp_path):
    directory = str(tmp_path / "shared")
    server = start_server("--database", directory, "--workers", "2")
    server.wait_log("Application startup complete.", 2)
    pids = set(re.findall(r"Started server process \[(\d+)\]", server.log()))
    assert len(pids) == 2, server.log()
    limits = httpx.Limits(max_keepalive_connections=0)  # new connection each time: spread over workers
    async with httpx.AsyncClient(base_url=server.url, limits=limits) as client:
        response = await client.post("/history/change/", data={"message": "Shared by workers"})
        change = response.headers["location"]

        async def add(number):
            response = await client.post(change + "add/", data={"uid": "w", "key": "n", "value": "#i{}".format(number)})
            assert response.status_code == 303, response.text

        await asyncio.gather(*(add(n) for n in range(20)))
        response = await client.post(change + "apply/")
        assert response.status_code == 303
        pages = await asyncio.gather(*(client.get("/navigate/", params={"uid": "w"}) for _ in range(10)))
    for page in pages:
        assert page.status_code == 200
        assert len(re.findall(r"#i\d+</a>", page.text)) == 20


async def test_two_servers_share_one_embedded_directory(start_server, tmp_path):
    """Two processes on one directory: each sees the other's commits."""
    directory = str(tmp_path / "shared")
    one = start_server("--database", directory)
    two = start_server("--database", directory)
    async with httpx.AsyncClient() as client:
        response = await client.post(one.url + "/history/change/", data={"message": "Made on server one"})
        change = response.headers["location"]
        response = await client.post(two.url + change + "add/", data={"uid": "x", "key": "made", "value": "on two"})
        assert response.status_code == 303
        response = await client.post(one.url + change + "apply/")
        assert response.status_code == 303
        page = await client.get(two.url + "/navigate/", params={"uid": "x"})
        assert "on two" in page.text
        page = await client.get(two.url + change)
        assert "Made on server one" in page.text and "applied" in page.text


def test_no_arguments_serve_loopback_on_the_default_directory(monkeypatch, capsys, tmp_path):
    import uvicorn

    calls = []

    def run(self, sockets):
        calls.append((self.config, [sock.getsockname() for sock in sockets]))
        self.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    for name in (vnserver.DATABASE_ENV, vnserver.HOSTS_ENV, vnserver.TOKEN_ENV, "FDB_CLUSTER_FILE"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    assert launcher.main(["--port", str(port)]) == 0
    ((config, addresses),) = calls
    assert (config.app, config.host, config.port, config.lifespan, config.workers, config.http) == (
        "found.ext.vnstore.server:server",
        "127.0.0.1",
        port,
        "on",
        1,
        launcher.PROTOCOL,
    )
    assert addresses == [("127.0.0.1", port)]  # bound before "serving" is printed
    out = capsys.readouterr().out
    directory = engine.default_directory()
    assert directory.startswith(str(tmp_path))
    assert (
        out
        == "found-vnstore: database: embedded engine directory {}\nfound-vnstore: serving http://127.0.0.1:{}/\n".format(
            directory, port
        )
    )


async def test_without_database_the_engine_default_directory_is_used(start_server, tmp_path):
    server = start_server(env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "FDB_CLUSTER_FILE": None})
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/history/change/", data={"message": "Into the default directory"})
        assert response.status_code == 303
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        directory = engine.default_directory()
    assert directory.startswith(str(tmp_path / "xdg"))
    assert "embedded engine directory {}\n".format(directory) in server.log()
    assert os.listdir(directory)


async def test_concurrent_increments_through_two_workers_lose_no_update(start_server, tmp_path):
    """Clients read a counter, then replace it through changes, via two
    worker processes: refused applies (409) are retried, and every increment
    lands exactly once."""
    server = start_server("--database", str(tmp_path / "db"), "--workers", "2")
    server.wait_log("Application startup complete.", 2)
    limits = httpx.Limits(max_keepalive_connections=0)
    clients, rounds = 4, 3

    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:

        async def post(path, **data):
            return await client.post(path, data=data)

        seed = (await post("/history/change/", message="Counter")).headers["location"]
        await post(seed + "add/", uid="c", key="count", value="#i0")
        assert (await post(seed + "apply/")).status_code == 303

        async def read():
            page = await client.get("/navigate/", params={"uid": "c", "key": "count"})
            (value,) = re.findall(r">#i(\d+)</a>", page.text)
            return int(value)

        arrived, go = [], asyncio.Event()

        async def increment(first):
            refused = 0
            while True:
                change = (await post("/history/change/", message="Increment")).headers["location"]
                current = await read()
                if first:
                    arrived.append(1)
                    if len(arrived) == clients:
                        go.set()
                    await go.wait()
                    first = False
                removed = await post(change + "remove/", uid="c", key="count", value="#i{}".format(current))
                if removed.status_code == 303:
                    await post(change + "add/", uid="c", key="count", value="#i{}".format(current + 1))
                    applied = await post(change + "apply/")
                    if applied.status_code == 303:
                        return refused
                    assert applied.status_code == 409 and "cannot be applied" in applied.text
                else:
                    assert removed.status_code == 409
                refused += 1

        async def worker():
            refused = await increment(True)
            for _ in range(rounds - 1):
                refused += await increment(False)
            return refused

        refused = await asyncio.gather(*(worker() for _ in range(clients)))
        assert await read() == clients * rounds
        assert sum(refused) >= clients - 1


class _OldMultiprocess:
    """uvicorn's worker supervisor as older releases (PyPy 3.9's) have it: told what each worker runs."""

    made = []

    def __init__(self, config, target, sockets):
        self.made.append((config, target, sockets))

    def run(self):
        pass


class _NewMultiprocess:
    """uvicorn's worker supervisor as newer releases have it: each worker makes its own Server(config)."""

    made = []

    def __init__(self, config, sockets):
        self.made.append((config, sockets))

    def run(self):
        pass


@pytest.mark.parametrize("supervisor", [_OldMultiprocess, _NewMultiprocess], ids=["target", "no target"])
def test_workers_start_under_either_uvicorn_supervisor(monkeypatch, supervisor):
    import uvicorn
    import uvicorn.supervisors

    supervisor.made.clear()
    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", supervisor)
    config = uvicorn.Config(launcher.APP, workers=2, http=launcher.PROTOCOL)
    sock = launcher._bind("127.0.0.1", 0)
    try:
        launcher._serve_workers(config, sock)
    finally:
        sock.close()
    ((given, *rest),) = supervisor.made
    assert given is config
    assert rest[-1] == [sock]
    if supervisor is _OldMultiprocess:
        target = rest[0]
        assert isinstance(target.__self__, uvicorn.Server) and target.__func__ is uvicorn.Server.run
        assert target.__self__.config is config
