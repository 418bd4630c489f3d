"""How found-vnstore serves: a response written in one write (OneWrite),
the access log option, the protocol chosen."""

import asyncio

import httpx
import pytest

from found.ext.vnstore import launcher


class FakeTransport:
    def __init__(self):
        self.writes = []
        self.closed = False

    def write(self, data):
        assert not self.closed
        self.writes.append(data)

    def close(self):
        self.closed = True

    def get_extra_info(self, name, default=None):
        return "extra " + name


async def test_one_write_gathers_a_turn_of_the_loop():
    transport = FakeTransport()
    one = launcher.OneWrite(transport, asyncio.get_running_loop())
    one.write(b"HTTP/1.1 200 OK\r\n\r\n")
    one.write(b"body")
    assert transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    one.write(b"next")
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"]
    assert one.get_extra_info("peername") == "extra peername"  # the rest is the transport's


async def test_one_write_writes_before_closing():
    transport = FakeTransport()
    one = launcher.OneWrite(transport, asyncio.get_running_loop())
    one.write(b"last")
    one.close()
    assert (transport.writes, transport.closed) == ([b"last"], True)
    await asyncio.sleep(0)  # the scheduled flush finds nothing left
    assert transport.writes == [b"last"]


def test_access_log_option():
    assert launcher.parser().parse_args([]).access_log is True
    assert launcher.parser().parse_args(["--no-access-log"]).access_log is False


def test_the_protocol_is_httptools_when_installed():
    expected = launcher.H11_PROTOCOL if launcher.HttpToolsProtocol is None else launcher.HTTPTOOLS_PROTOCOL
    assert launcher.PROTOCOL == expected


@pytest.mark.parametrize("access_log", [True, False])
async def test_pipelined_and_kept_alive_requests_are_answered_in_order(start_server, tmp_path, access_log):
    args = ["--database", str(tmp_path / "db")] + ([] if access_log else ["--no-access-log"])
    server = start_server(*args)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    paths = ["/", "/history/", "/navigate/", "/static/style.css", "/nowhere"]
    writer.write(b"".join(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % p.encode() for p in paths))
    statuses = []
    for _ in paths:
        head = await reader.readuntil(b"\r\n\r\n")
        statuses.append(int(head.split(b" ", 2)[1]))
        length = [
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ]
        await reader.readexactly(length[0])
    writer.close()
    assert statuses == [200, 200, 200, 200, 404]
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/history/")).status_code == 200
    assert ('"GET /history/ HTTP/1.1" 200' in server.log()) is access_log


def test_without_httptools_the_h11_protocol_serves():
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['httptools'] = None\n"
        "from found.ext.vnstore import launcher\n"
        "print(launcher.PROTOCOL, launcher.HttpToolsProtocol)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [launcher.H11_PROTOCOL, "None"]
