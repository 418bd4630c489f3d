"""ASGI web UI over a vnstore: browse history, stage changes, query tuples.

Run it with ``found-vnstore`` (``found.ext.vnstore.launcher``) or any ASGI
server with the lifespan protocol on::

    uvicorn found.ext.vnstore.server:server --lifespan on \\
        --http found.ext.vnstore.launcher:HeaderTimeoutProtocol

Startup opens the database (``$FOUND_VNSTORE_DATABASE``: a cluster file or an
embedded engine directory; unset, found's default) and keeps it with the store
in the ASGI lifespan state, which the server hands to every request as
``scope["state"]``.

The application guards itself, however it is served: it answers only to the
Host names allowed (``$FOUND_VNSTORE_ALLOWED_HOSTS``, comma-separated, ``*``
for any; by default the loopback names), refuses POST requests from another
origin (403), and, when an access token is set (``$FOUND_VNSTORE_TOKEN``),
every request that does not carry it (401). The pages are in ``_pages``, the
HTTP plumbing in ``_http``.

Rendered pages are kept and served again while the store is unchanged
(``_pages.PageCache``; ``$FOUND_VNSTORE_PAGE_CACHE`` pages at most, default
256, 0 for none).
"""

import logging
import os
import sys

import found
from found import engine
from found.ext.vnstore import _pages
from found.ext.vnstore._http import LOOPBACK_NAMES, Guard, HTTPError, Request, is_loopback, send_plain, send_response
from found.ext.vnstore._pages import make_store
from found.ext.vnstore.text import ValueEncodingError, fromstring, tostring

__all__ = [
    "server",
    "create_app",
    "main",
    "make_store",
    "describe_database",
    "fromstring",
    "tostring",
    "ValueEncodingError",
]

DATABASE_ENV = "FOUND_VNSTORE_DATABASE"
HOSTS_ENV = "FOUND_VNSTORE_ALLOWED_HOSTS"
TOKEN_ENV = "FOUND_VNSTORE_TOKEN"
PAGE_CACHE_ENV = "FOUND_VNSTORE_PAGE_CACHE"
#: In an allowed-hosts list: any Host is served.
ANY_HOST = "*"

_log = logging.getLogger("found.vnstore")


def describe_database(database, kind):
    """One line telling which database ``database`` (None: default) is,
    ``kind`` being ``found.library()[0]`` once it is open."""
    if kind == "system":
        return "FoundationDB cluster file {}".format(database or "(default)")
    return "embedded engine directory {}".format(os.path.abspath(database) if database else engine.default_directory())


def allowed_hosts(names):
    """The Host names to serve from a list (None: $FOUND_VNSTORE_ALLOWED_HOSTS,
    else the loopback names); None when the list holds "*" (any host)."""
    if names is None:
        text = os.environ.get(HOSTS_ENV, "").strip()
        names = text.split(",") if text else LOOPBACK_NAMES
    names = [name.strip().lower() for name in names if name.strip()]
    return None if ANY_HOST in names else names


class _App:
    """The ASGI callable. None for an argument reads its environment
    variable at startup (see ``create_app``)."""

    def __init__(self, database=None, allowed_hosts=None, token=None, page_cache=None):
        self._database = database
        self._allowed_hosts = allowed_hosts
        self._token = token
        self._page_cache = page_cache
        self._warned = False
        self._loopback = set()  # server addresses found loopback (few: those bound)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        # Other protocols (websocket) are not served: returning closes them.

    async def _lifespan(self, scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if not await self._startup(scope, send):
                    return  # the server stops after a failed startup
            elif message["type"] == "lifespan.shutdown":
                # Drop the database handle: the engine closes it when unused.
                (scope.get("state") or {}).pop("vnstore", None)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _startup(self, scope, send):
        """Open the database into the lifespan state; False if that failed."""
        state = scope.get("state")
        if state is None:
            await send(
                {
                    "type": "lifespan.startup.failed",
                    "message": "the ASGI server gives no lifespan state; vnstore needs it",
                }
            )
            return False
        database = self._database if self._database is not None else os.environ.get(DATABASE_ENV) or None
        token = self._token if self._token is not None else os.environ.get(TOKEN_ENV) or None
        try:
            db = await found.open(database)
        except Exception as exc:
            message = "cannot open database {}: {}".format(database or "(default)", exc)
            _log.error("vnstore: %s", message)  # the reason is the message: no traceback
            await send({"type": "lifespan.startup.failed", "message": message})
            return False
        try:
            guard = Guard(allowed_hosts(self._allowed_hosts), token)
            pages = self._page_cache
            if pages is None:
                pages = int(os.environ.get(PAGE_CACHE_ENV) or _pages.PAGE_CACHE)
        except ValueError as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return False
        kind = (found.library() or ("embedded",))[0]
        state["vnstore"] = _pages.Context(
            db, describe_database(database, kind), make_store(), guard, kind == "embedded", pages
        )
        await send({"type": "lifespan.startup.complete"})
        return True

    async def _http(self, scope, receive, send):
        context = (scope.get("state") or {}).get("vnstore")
        if context is None:
            await send_plain(send, 500, "vnstore is not started: run the server with the lifespan protocol on")
            return
        request = Request(scope, receive, context)
        self._warn_if_remote(scope, context)
        try:
            response = context.guard.check(request)
            if response is None:
                handler, parameters = _pages.ROUTER.route(request.method, request.path)
                response = await handler(request, **parameters)
        except HTTPError as exc:
            response = _pages.error_page(context, exc)
        except Exception:
            _log.exception("vnstore: %s %s failed", request.method, request.path)
            response = _pages.error_page(
                context, HTTPError(500, "Server error", "The request failed; see the server log.")
            )
        await send_response(send, response, head=request.method == "HEAD")

    def _warn_if_remote(self, scope, context):
        """Log once when served on an address other machines can reach:
        however it is served, whoever runs it learns what is exposed."""
        address = (scope.get("server") or ("127.0.0.1", None))[0]
        if self._warned or address is None or address in self._loopback:
            return
        if is_loopback(address):
            self._loopback.add(address)
            return
        self._warned = True
        hosts = context.guard.allowed_hosts
        _log.warning(
            "vnstore: served on %s, which other machines can reach; answering to Host names %s; %s",
            address,
            "any" if hosts is None else ", ".join(sorted(hosts)),
            "access token required"
            if context.guard.token
            else "no access token: whoever reaches it can read and edit the store",
        )


def create_app(database=None, allowed_hosts=None, token=None, page_cache=None):
    """A new ASGI application over ``database`` (a cluster file or embedded
    directory; None reads $FOUND_VNSTORE_DATABASE, else found's default).
    ``allowed_hosts``: the Host names (without port) served, "*" for any;
    None reads $FOUND_VNSTORE_ALLOWED_HOSTS (comma-separated), else the
    loopback names. ``token``: an access token every request must present;
    None reads $FOUND_VNSTORE_TOKEN, else none is asked. ``page_cache``: the
    rendered pages kept while the store is unchanged (0: none); None reads
    $FOUND_VNSTORE_PAGE_CACHE, else 256."""
    return _App(database, allowed_hosts, token, page_cache)


server = create_app()


def main(argv=None):
    """Entry point of the found-vnstore console script (see ``launcher``)."""
    from found.ext.vnstore import launcher

    return launcher.main(argv)


if __name__ == "__main__":
    sys.exit(main())
