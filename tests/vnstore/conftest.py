"""Fixtures for vnstore's tests: an embedded database directory, a fresh store
per test, and the ASGI app with its lifespan run."""
import asyncio
import uuid

import httpx
import pytest

import found
from found.ext import vnstore
from found.ext.vnstore import server as vnserver


@pytest.fixture(scope="session")
def database_dir(tmp_path_factory):
    """One embedded engine directory shared by the store tests (each test
    uses its own prefix)."""
    return str(tmp_path_factory.mktemp("vnstore-db"))


@pytest.fixture
async def db(database_dir):
    return await found.open(database_dir)


@pytest.fixture
def store():
    """A vnstore under a prefix no other test uses."""
    prefix = ("test-vnstore", uuid.uuid4().hex)
    return vnstore.make("test", prefix, ("uid", "key", "value"))


class Lifespan:
    """Runs an ASGI app's lifespan protocol around a block and passes the
    lifespan state to each request, as an ASGI server does."""

    def __init__(self, app):
        self.app = app
        self.state = {}
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        self._task = None

    async def startup(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.3"}, "state": self.state}
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        return await self._from_app.get()

    async def shutdown(self):
        await self._to_app.put({"type": "lifespan.shutdown"})
        message = await self._from_app.get()
        await self._task
        return message

    async def __call__(self, scope, receive, send):
        scope = dict(scope, state=dict(self.state))
        await self.app(scope, receive, send)


@pytest.fixture
async def app_database(tmp_path):
    return str(tmp_path / "server-db")


@pytest.fixture
async def lifespan(app_database):
    running = Lifespan(vnserver.create_app(app_database))
    message = await running.startup()
    assert message == {"type": "lifespan.startup.complete"}, message
    yield running
    assert await running.shutdown() == {"type": "lifespan.shutdown.complete"}


@pytest.fixture
async def client(lifespan):
    transport = httpx.ASGITransport(app=lifespan)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as out:
        yield out
