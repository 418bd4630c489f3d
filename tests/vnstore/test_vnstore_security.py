"""vnstore's web UI under hostile conditions (issue 12 item 6) and the
launcher's messages (issue 18): the application itself refuses foreign Host
headers and cross-origin writes however it is served, asks for an access
token when given one, a non-loopback address needs --allow-remote and warns,
slow request heads are cut off, and bad database paths, busy ports and
--version get one clear line."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from found.ext.vnstore import launcher
from found.ext.vnstore import server as vnserver
from vnstore_helpers import ROOT, Lifespan, free_port

UVICORN = ("uvicorn", "found.ext.vnstore.server:server", "--lifespan", "on")


def run_cli(*args, env=None, timeout=120):
    """found-vnstore with ``args`` that must exit by itself: (code, stdout, stderr)."""
    environment = dict(os.environ, PYTHONPATH=ROOT)
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "found.ext.vnstore.server", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr


# --- the application guards itself ----------------------------------------------------------


@pytest.mark.parametrize(
    "host, status",
    [
        ("127.0.0.1:8000", 200),
        ("localhost", 200),
        ("[::1]:8000", 200),
        ("evil.example", 400),
        ("127.0.0.1.nip.io", 400),
        ("", 400),
    ],
)
async def test_by_default_the_app_answers_to_loopback_names_only(app_database, monkeypatch, host, status):
    monkeypatch.delenv(vnserver.HOSTS_ENV, raising=False)
    running = Lifespan(vnserver.create_app(app_database))
    await running.startup()
    transport = httpx.ASGITransport(app=running)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        response = await client.get("/", headers={"host": host})
        assert response.status_code == status
        response = await client.post("/history/change/", data={"message": "rebound"}, headers={"host": host})
        assert response.status_code == (303 if status == 200 else 400)
    await running.shutdown()


@pytest.mark.parametrize(
    "setting, host, status",
    [
        ("ui.example,other.example", "ui.example:8443", 200),
        ("ui.example,other.example", "127.0.0.1", 400),
        ("*", "anything.example", 200),
    ],
)
async def test_allowed_hosts_from_the_environment(app_database, monkeypatch, setting, host, status):
    monkeypatch.setenv(vnserver.HOSTS_ENV, setting)
    running = Lifespan(vnserver.create_app(app_database))
    await running.startup()
    transport = httpx.ASGITransport(app=running)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        assert (await client.get("/", headers={"host": host})).status_code == status
    await running.shutdown()


async def test_plain_uvicorn_refuses_foreign_hosts_and_cross_origin_writes(start_server, tmp_path):
    """Served as server.py's docstring says, without found-vnstore."""
    server = start_server(env={vnserver.DATABASE_ENV: str(tmp_path / "db"), vnserver.HOSTS_ENV: None}, module=UVICORN)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/", headers={"host": "evil.example"})).status_code == 400
        response = await client.post(
            "/history/change/",
            data={"message": "rebinding"},
            headers={"host": "evil.example", "origin": "http://evil.example"},
        )
        assert response.status_code == 400
        response = await client.post(
            "/history/change/", data={"message": "cross-site"}, headers={"origin": "http://evil.example"}
        )
        assert response.status_code == 403
        history = (await client.get("/history/")).text
        assert "rebinding" not in history and "cross-site" not in history


# --- access token ---------------------------------------------------------------------------


async def test_token_is_asked_of_every_request(app_database):
    running = Lifespan(vnserver.create_app(app_database, token="s3cret-token"))
    await running.startup()
    transport = httpx.ASGITransport(app=running)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        for path in ("/", "/history/", "/navigate/", "/static/style.css", "/nowhere"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert "Access token required" in response.text
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert (await client.get("/", params={"token": "wrong"})).status_code == 401
        assert (await client.get("/", headers={"authorization": "Bearer wrong"})).status_code == 401
        response = await client.post("/history/change/", data={"message": "no token"})
        assert response.status_code == 401
        # A bearer token works for scripts.
        response = await client.get("/history/", headers={"authorization": "Bearer s3cret-token"})
        assert response.status_code == 200 and "no token" not in response.text
        # The link with the token sets a cookie and drops the token from the address.
        response = await client.get("/history/", params={"token": "s3cret-token"})
        assert response.status_code == 303 and response.headers["location"] == "/history/"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert (await client.get("/navigate/")).status_code == 200  # the client keeps the cookie
        response = await client.post("/history/change/", data={"message": "with the cookie"})
        assert response.status_code == 303
        # The token does not lift the origin check.
        response = await client.post(
            "/history/change/", data={"message": "forged"}, headers={"origin": "http://evil.example"}
        )
        assert response.status_code == 403
    await running.shutdown()


async def test_token_from_the_environment(app_database, monkeypatch):
    monkeypatch.setenv(vnserver.TOKEN_ENV, "from-env")
    running = Lifespan(vnserver.create_app(app_database))
    await running.startup()
    transport = httpx.ASGITransport(app=running)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        assert (await client.get("/")).status_code == 401
        assert (await client.get("/", headers={"authorization": "Bearer from-env"})).status_code == 200
    await running.shutdown()


# --- launcher: remote binding -----------------------------------------------------------------


def test_non_loopback_host_needs_allow_remote(tmp_path):
    code, out, err = run_cli("--host", "0.0.0.0", "--port", str(free_port()), "--database", str(tmp_path / "db"))
    assert code == 2
    assert "--host 0.0.0.0 can be reached from other machines; add --allow-remote" in err
    assert "serving" not in out and "Traceback" not in err


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("myhost.example", False),
    ],
)
def test_what_counts_as_loopback(host, loopback):
    assert launcher.is_loopback(host) is loopback


async def test_the_app_warns_once_when_served_on_a_reachable_address(app_database, caplog):
    running = Lifespan(vnserver.create_app(app_database, allowed_hosts=["ui.example"]))
    await running.startup()
    transport = httpx.ASGITransport(app=running)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui.example") as client:
        with caplog.at_level("WARNING", logger="found.vnstore"):
            for _ in range(3):
                assert (await client.get("/")).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if "other machines can reach" in r.getMessage()]
    assert warnings == [
        "vnstore: served on ui.example, which other machines can reach; answering to Host names "
        "ui.example; no access token: whoever reaches it can read and edit the store"
    ]
    await running.shutdown()


async def test_no_warning_on_loopback(client, caplog):
    with caplog.at_level("WARNING", logger="found.vnstore"):
        assert (await client.get("/")).status_code == 200
    assert not [r for r in caplog.records if "other machines" in r.getMessage()]


async def test_allow_remote_warns_and_serves_with_the_token(start_server, tmp_path):
    server = start_server(
        "--host",
        "0.0.0.0",
        "--allow-remote",
        "--token",
        "tok-12345",
        "--allowed-host",
        "ui.example",
        "--database",
        str(tmp_path / "db"),
    )
    server.wait_log("Application startup complete.", 1)
    log = server.log()
    assert (
        "warning: serving on 0.0.0.0, which other machines can reach; every request must carry the access token" in log
    )
    assert "answering to Host names 127.0.0.1, ::1, localhost, ui.example" in log
    assert "serving http://0.0.0.0:{}/?token=tok-12345".format(server.port) in log
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/")).status_code == 401
        bearer = {"authorization": "Bearer tok-12345"}
        assert (await client.get("/", headers=bearer)).status_code == 200
        assert (await client.get("/", headers=dict(bearer, host="ui.example"))).status_code == 200
        assert (await client.get("/", headers=dict(bearer, host="evil.example"))).status_code == 400


async def test_allow_remote_without_a_token_warns_that_anyone_can_edit(start_server, tmp_path):
    server = start_server("--host", "0.0.0.0", "--allow-remote", "--database", str(tmp_path / "db"))
    server.wait_log("Application startup complete.", 1)
    assert "anyone who reaches it can read and edit the store (no --token)" in server.log()


# --- launcher: messages -------------------------------------------------------------------------


def test_version():
    code, out, err = run_cli("--version")
    assert code == 0 and out == "found-vnstore {}\n".format(launcher.version())
    assert out.split()[1][0].isdigit()


@pytest.mark.parametrize("database", ["/etc/passwd", "/etc/passwd/inside", "/proc/version"])
def test_bad_database_path_is_one_clear_line(database):
    code, out, err = run_cli("--port", str(free_port()), "--database", database)
    assert code == 1
    assert err.startswith("found-vnstore: error: cannot open database {}: ".format(database))
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "serving" not in out


def test_address_in_use_is_one_clear_line_and_nothing_claims_to_serve(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run_cli("--port", str(port), "--database", str(tmp_path / "db"))
    assert code == 1
    assert err == "found-vnstore: error: cannot listen on http://127.0.0.1:{}/: Address already in use\n".format(port)
    assert "serving" not in out and "Traceback" not in err


# --- slow request heads ----------------------------------------------------------------------------


def _closed(sock):
    """True once the server closed ``sock`` (EOF or reset)."""
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except ConnectionError:
        return True


def trickle_until_closed(port, first, more=b"X-Slow: 1\r\n", deadline_seconds=90):
    """Send ``first`` then ``more`` (one header line) every 0.2 s, never
    ending the head; return (closed by the server, bytes received)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setblocking(False)
        if first:
            sock.sendall(first)
        end = time.monotonic() + deadline_seconds
        while time.monotonic() < end:
            time.sleep(0.2)
            try:
                chunk = sock.recv(4096)
                if chunk == b"":
                    return True, received
                received += chunk
            except BlockingIOError:
                pass
            except ConnectionError:
                return True, received
            if first and more:
                try:
                    sock.send(more)
                except (BlockingIOError, ConnectionError, BrokenPipeError):
                    return True, received
    return False, received


@pytest.mark.parametrize(
    "first, more",
    [
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: 1\r\n"),  # header lines, one at a time
        (b"G", b""),  # a request line begun (header lines after it would be a malformed request: 400)
        (b"", b""),  # nothing
    ],
)
async def test_slow_request_heads_are_closed(start_server, tmp_path, first, more):
    server = start_server("--database", str(tmp_path / "db"), "--header-timeout", "1")
    closed, received = trickle_until_closed(server.port, first, more)
    assert closed and b"HTTP/1.1 200" not in received
    # Complete requests are served, also after a slow one was cut off, and a
    # kept-alive connection serves a second request.
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/history/")).status_code == 200
    assert "closed a connection whose request head took over 1.0 s" in server.log()


@pytest.mark.parametrize(
    "protocol", [launcher.H11_PROTOCOL] + ([launcher.HTTPTOOLS_PROTOCOL] if launcher.HttpToolsProtocol else [])
)
async def test_slow_heads_are_closed_under_plain_uvicorn_with_the_protocol(start_server, tmp_path, protocol):
    server = start_server(
        "--http",
        protocol,
        module=UVICORN,
        env={vnserver.DATABASE_ENV: str(tmp_path / "db"), launcher.HEADER_TIMEOUT_ENV: "1"},
    )
    closed, received = trickle_until_closed(server.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert closed and received == b""
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/")).status_code == 200


@pytest.mark.parametrize("token", ["short", "has space in it", "semi;colon-token", "é-accented-token"])
async def test_tokens_that_a_url_or_cookie_would_mangle_are_refused(app_database, token):
    running = Lifespan(vnserver.create_app(app_database, token=token))
    message = await running.startup()
    assert message["type"] == "lifespan.startup.failed" and "access token" in message["message"]
    code, out, err = run_cli("--token", token, "--port", str(free_port()), "--database", app_database)
    assert code == 2 and "error: the access token must be" in err and "serving" not in out
