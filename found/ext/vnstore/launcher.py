"""found-vnstore: serve vnstore's web UI (``found.ext.vnstore.server``) with uvicorn.

Before serving it opens the database (a bad path is a one-line error) and
binds the address itself (an address in use is a one-line error), and only
then prints where it serves. Serving on an address other machines can reach
needs ``--allow-remote`` and prints a warning; ``--token`` (or
$FOUND_VNSTORE_TOKEN) then asks every request for an access token.
Connections whose request head does not arrive within ``--header-timeout``
seconds are closed (``HeaderTimeoutProtocol`` over uvicorn's h11 protocol,
``HttpToolsHeaderTimeoutProtocol`` over its httptools one, which parses and
writes at about half the CPU per request and is used when httptools is
installed, as found[server] does on CPython).
"""

import argparse
import asyncio
import inspect
import ipaddress
import os
import socket
import sys

import found
from found.ext._extras import missing_extra

try:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol
except ModuleNotFoundError as _missing:
    raise missing_extra(_missing, "server", "found-vnstore") from _missing
try:
    import httptools  # noqa: F401  (uvicorn's protocol needs it)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ModuleNotFoundError:  # h11 serves alone (PyPy: no httptools)
    HttpToolsProtocol = None

from found.ext.vnstore import _pages
from found.ext.vnstore import server as _server
from found.ext.vnstore._http import LOOPBACK_NAMES, TOKEN_PARAMETER, Guard, is_loopback

HEADER_TIMEOUT_ENV = "FOUND_VNSTORE_HEADER_TIMEOUT"
#: Seconds a client has to send a whole request head.
HEADER_TIMEOUT = 10.0
APP = "found.ext.vnstore.server:server"
H11_PROTOCOL = "found.ext.vnstore.launcher:HeaderTimeoutProtocol"
HTTPTOOLS_PROTOCOL = "found.ext.vnstore.launcher:HttpToolsHeaderTimeoutProtocol"
#: The protocol found-vnstore serves with: httptools' when installed.
PROTOCOL = H11_PROTOCOL if HttpToolsProtocol is None else HTTPTOOLS_PROTOCOL


def version():
    """found's version as text."""
    return getattr(found, "__version__", None) or ".".join(map(str, found.__VERSION__))


class _HeadTimer:
    """The timer of a header-timeout protocol: started when a connection
    opens or a request head begins, stopped once the head is complete; when
    it fires on a head still incomplete, the connection is closed.
    ``_head_pending()`` tells whether the head is incomplete."""

    def _setup_timer(self):
        self._head_timeout = float(os.environ.get(HEADER_TIMEOUT_ENV) or HEADER_TIMEOUT)
        self._head_timer = None

    def _watch_head(self):
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._head_timeout, self._head_too_slow)

    def _stop_watching(self):
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self):
        self._head_timer = None
        if self._head_pending() and not self.transport.is_closing():
            self.logger.info("vnstore: closed a connection whose request head took over %s s", self._head_timeout)
            self.transport.close()


class HeaderTimeoutProtocol(_HeadTimer, H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head
    (request line and headers) is not complete $FOUND_VNSTORE_HEADER_TIMEOUT
    seconds (default 10) after the connection opened or the head's first
    bytes arrived. uvicorn alone waits for ever, so a client sending headers
    a byte at a time holds a connection (and its memory) as long as it likes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_timer()

    def connection_made(self, transport):
        """A new connection: its first request head is now awaited."""
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data):
        """Bytes arrived: watch a head begun, stop once it is complete."""
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            self._watch_head()  # a head begun, not complete
        else:
            self._stop_watching()

    def connection_lost(self, exc):
        """The connection ended: nothing left to watch."""
        self._stop_watching()
        super().connection_lost(exc)

    def _head_pending(self):
        return self.conn.their_state is h11.IDLE


class OneWrite:
    """The transport a response is written through: what it writes in one
    turn of the event loop (uvicorn writes a response's head, then its body)
    reaches the connection's transport as one write at the end of that turn,
    one system call rather than two (on loopback, a send costs about as much
    as the rest of serving a cached page). Everything else is the
    connection's transport."""

    __slots__ = ("transport", "loop", "pending")

    def __init__(self, transport, loop):
        self.transport = transport
        self.loop = loop
        self.pending = []

    def write(self, data):
        """Gather ``data``; written at the end of this turn of the loop."""
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append(data)

    def flush(self):
        """Write what was gathered, now."""
        if self.pending:
            data = b"".join(self.pending)
            self.pending.clear()
            self.transport.write(data)

    def close(self):
        """Write what was gathered, then close the connection."""
        self.flush()
        self.transport.close()

    def __getattr__(self, name):
        return getattr(self.transport, name)


if HttpToolsProtocol is not None:

    class HttpToolsHeaderTimeoutProtocol(_HeadTimer, HttpToolsProtocol):
        """HeaderTimeoutProtocol's rule over uvicorn's httptools protocol:
        a connection whose request head is not complete
        $FOUND_VNSTORE_HEADER_TIMEOUT seconds after the connection opened or
        the head's first bytes arrived is closed."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._setup_timer()
            self._head_complete = False

        def connection_made(self, transport):
            """A new connection: its first request head is now awaited."""
            super().connection_made(transport)
            self._watch_head()

        def data_received(self, data):
            """Bytes arrived: watch a head begun, stop once it is complete."""
            super().data_received(data)
            if self._head_pending():
                self._watch_head()
            else:
                self._stop_watching()

        def on_message_begin(self):
            """The parser saw a request's first bytes: its head is incomplete."""
            self._head_complete = False
            super().on_message_begin()

        def on_headers_complete(self):
            """The request head is complete: its response is written in one
            write (OneWrite)."""
            self._head_complete = True
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and type(cycle.transport) is not OneWrite:
                cycle.transport = OneWrite(cycle.transport, self.loop)

        def connection_lost(self, exc):
            """The connection ended: nothing left to watch."""
            self._stop_watching()
            super().connection_lost(exc)

        def _head_pending(self):
            return not self._head_complete


# --- command line -----------------------------------------------------------------


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1, got {}".format(value))
    return value


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more, got {}".format(value))
    return value


def _seconds(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds, got {}".format(text))
    return value


def parser():
    """The argument parser of found-vnstore."""
    out = argparse.ArgumentParser(
        prog="found-vnstore",
        description="Serve vnstore's web UI (history of changes, tuple navigation).",
    )
    out.add_argument("--version", action="version", version="found-vnstore {}".format(version()))
    out.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    out.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    out.add_argument(
        "--database",
        default=None,
        help="FoundationDB cluster file, or embedded engine directory (default: found's default)",
    )
    out.add_argument("--workers", type=_positive, default=1, help="worker processes sharing the database (default 1)")
    out.add_argument(
        "--allow-remote", action="store_true", help="allow a --host that other machines can reach (prints a warning)"
    )
    out.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name to answer to besides the loopback names and --host (repeatable; * for any)",
    )
    out.add_argument(
        "--token",
        default=None,
        help="access token every request must present (default: $FOUND_VNSTORE_TOKEN, else none)",
    )
    out.add_argument(
        "--page-cache",
        type=_count,
        default=None,
        metavar="PAGES",
        help="rendered pages each worker keeps while the store is unchanged (default {}; 0: none)".format(
            _pages.PAGE_CACHE
        ),
    )
    out.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="do not log each request (uvicorn's access log costs about a fifth of serving a cached page)",
    )
    out.add_argument(
        "--header-timeout",
        type=_seconds,
        default=HEADER_TIMEOUT,
        help="seconds a client has to send a request head (default {:g})".format(HEADER_TIMEOUT),
    )
    return out


def _fail(message, code=1):
    print("found-vnstore: error: {}".format(message), file=sys.stderr, flush=True)
    sys.exit(code)


async def _open(database):
    await found.open(database)
    return (found.library() or ("embedded",))[0]


def _bind(host, port):
    """A listening-ready socket bound to (host, port), as uvicorn binds it."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(host, port):
    shown = "[{}]".format(host) if ":" in host else host
    return "http://{}:{}/".format(shown, port)


def _check(args):
    """(database, kind, token) once the address rule, the token and the
    database are checked; one line and an exit status otherwise."""
    if not is_loopback(args.host) and not args.allow_remote:
        _fail(
            "--host {} can be reached from other machines; add --allow-remote to serve there "
            "(and --token to ask for an access token)".format(args.host),
            2,
        )
    token = args.token or os.environ.get(_server.TOKEN_ENV) or None
    try:
        Guard(None, token)
    except ValueError as exc:
        _fail(str(exc), 2)
    database = os.path.abspath(args.database) if args.database else None
    try:
        kind = asyncio.run(_open(database))
    except (found.BaseFoundException, OSError, ValueError) as exc:
        _fail("cannot open database {}: {}".format(database or "(default)", exc))
    return database, kind, token


def _hosts(args):
    """The Host names to answer to: loopback names, --host, --allowed-host."""
    hosts = set(LOOPBACK_NAMES) | set(args.allowed_host)
    if not _is_unspecified(args.host):
        hosts.add(args.host.lower())
    return sorted(hosts)


def _announce(args, database, kind, token, hosts):
    """What is served where, once the address is bound."""
    print("found-vnstore: database: {}".format(_server.describe_database(database, kind)), flush=True)
    if not is_loopback(args.host):
        exposure = (
            "every request must carry the access token"
            if token
            else "anyone who reaches it can read and edit the store (no --token)"
        )
        print(
            "found-vnstore: warning: serving on {}, which other machines can reach; {}; answering to Host "
            "names {}".format(args.host, exposure, ", ".join(hosts)),
            file=sys.stderr,
            flush=True,
        )
    query = "?{}={}".format(TOKEN_PARAMETER, token) if token else ""
    print("found-vnstore: serving {}{}".format(_url(args.host, args.port), query), flush=True)


def main(argv=None):
    """Entry point of the found-vnstore console script: serve the UI with uvicorn."""
    import uvicorn

    args = parser().parse_args(argv)
    database, kind, token = _check(args)
    hosts = _hosts(args)
    # Settings reach the application (in every worker) through its environment.
    os.environ[_server.HOSTS_ENV] = ",".join(hosts)
    os.environ[HEADER_TIMEOUT_ENV] = repr(args.header_timeout)
    if database is not None:
        os.environ[_server.DATABASE_ENV] = database
    if token is not None:
        os.environ[_server.TOKEN_ENV] = token
    if args.page_cache is not None:
        os.environ[_server.PAGE_CACHE_ENV] = str(args.page_cache)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        _fail("cannot listen on {}: {}".format(_url(args.host, args.port), exc.strerror or exc))
    _announce(args, database, kind, token, hosts)
    config = uvicorn.Config(
        APP,
        host=args.host,
        port=args.port,
        lifespan="on",
        workers=args.workers,
        http=PROTOCOL,
        access_log=args.access_log,
    )
    if args.workers > 1:
        _serve_workers(config, sock)
        return 0
    served = uvicorn.Server(config)
    served.run(sockets=[sock])
    return 0 if served.started else 1


def _serve_workers(config, sock):
    """Serve on ``sock`` with config.workers processes under uvicorn's supervisor."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if "target" in inspect.signature(Multiprocess).parameters:
        # older uvicorn (the one PyPy 3.9 gets) is told what each worker
        # runs; newer ones make each worker's Server(config) themselves
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
    else:
        Multiprocess(config, sockets=[sock]).run()


def _is_unspecified(host):
    # 0.0.0.0 or ::, "every address": no Host header names it.
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False
