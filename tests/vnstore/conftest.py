"""Fixtures for vnstore's tests: an embedded database directory, a fresh store
per test, and the ASGI app with its lifespan run."""

import os
import uuid

import httpx
import jinja2
import pytest

import found
from found.ext import vnstore
from found.ext.vnstore import _pages
from found.ext.vnstore import server as vnserver
from vnstore_helpers import Lifespan, ServerProcess


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


@pytest.fixture
def start_server(tmp_path):
    """Factory: start_server(*args) runs a server with those arguments and
    returns it once it accepts connections; all are stopped afterwards."""
    started = []

    def start(*args, env=None, **options):
        server = ServerProcess(args, str(tmp_path / "server-{}.log".format(len(started))), env, **options)
        started.append(server)
        return server.wait_ready()

    yield start
    for server in started:
        server.stop()


#: The templates as they were before the rendered pages' loops moved into
#: Python (tuple_rows, modifications, change_table, change_header): every page must
#: still be byte for byte what they render.
REFERENCE_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_templates")


@pytest.fixture(autouse=True)
def pages_render_as_the_reference_templates(monkeypatch):
    """Every page a vnstore test renders is also rendered by the reference
    templates, with the same values and globals, and must equal it."""
    render = _pages.Context.render
    environments = {}

    def checked(self, status, template, **values):
        response = render(self, status, template, **values)
        env = environments.get(id(self))
        if env is None:
            env = environments[id(self)] = (
                jinja2.Environment(
                    loader=jinja2.FileSystemLoader(REFERENCE_TEMPLATES),
                    autoescape=True,
                    undefined=jinja2.StrictUndefined,
                    trim_blocks=True,
                    lstrip_blocks=True,
                ),
                self,  # kept alive so that id(self) stays its own
            )
            env[0].globals.update(self.templates.globals)
        expected = env[0].get_template(template).render(**values).encode("utf-8")
        assert response.body == expected, template
        return response

    monkeypatch.setattr(_pages.Context, "render", checked)
