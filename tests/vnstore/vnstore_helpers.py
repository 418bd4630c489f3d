"""Helpers for vnstore's tests: the ASGI lifespan driver, a server subprocess,
and store shortcuts."""

import asyncio
import os
import socket
import subprocess
import sys
import time

import found
from found.ext import nstore, vnstore

T = found.transactional


async def create(db, store, message=None):
    async def run(tx):
        changeid = await vnstore.change_create(tx, store)
        if message is not None:
            await vnstore.change_message(tx, store, changeid, message)
        return changeid

    return await T(db, run)


async def edit(db, store, changeid, adds=(), removes=()):
    """Add then remove tuples in ``changeid``; the results of remove."""

    async def run(tx):
        vnstore.change_continue(tx, store, changeid)
        for items in adds:
            assert await vnstore.add(tx, store, *items) is True
        return [await vnstore.remove(tx, store, *items) for items in removes]

    return await T(db, run)


async def commit_change(db, store, adds=(), removes=(), message=None):
    changeid = await create(db, store, message)
    await edit(db, store, changeid, adds, removes)
    await T(db, vnstore.change_apply, store, changeid)
    return changeid


async def alive(db, store):
    """Every alive tuple, sorted."""

    async def run(tx):
        pattern = [nstore.var(c) for c in store.items]
        return [tuple(b[c] for c in store.items) async for b in vnstore.select(tx, store, *pattern)]

    return sorted(await T(db, run), key=repr)


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


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """found-vnstore (python -m found.ext.vnstore.server), or another
    ``module`` taking --port (e.g. uvicorn and its arguments), in a subprocess."""

    def __init__(self, args, log_path, env=None, module=("found.ext.vnstore.server",)):
        self.port = free_port()
        self.url = "http://127.0.0.1:{}".format(self.port)
        self.log_path = log_path
        environment = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        environment.pop("FOUND_VNSTORE_DATABASE", None)
        for name, value in (env or {}).items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", *module, "--port", str(self.port)] + list(args),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=ROOT,
        )

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, deadline_seconds=60):
        """Poll until the server answers (a startup wait, not a measurement)."""
        end = time.monotonic() + deadline_seconds
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError("server exited with {}:\n{}".format(self.process.returncode, self.log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log())

    def wait_log(self, text, count, deadline_seconds=60):
        """Poll the log until ``text`` appears ``count`` times (e.g. one
        startup line per worker)."""
        end = time.monotonic() + deadline_seconds
        while time.monotonic() < end:
            if self.log().count(text) >= count:
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("expected {} x {!r} in the log:\n{}".format(count, text, self.log()))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
