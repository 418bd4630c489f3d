"""ASGI web UI over a vnstore: browse history, stage changes, query tuples.

Run it with ``found-vnstore`` (see ``main``) or any ASGI server with the
lifespan protocol on: ``uvicorn found.ext.vnstore.server:server --lifespan on``.
Startup opens the database (``$FOUND_VNSTORE_DATABASE``: a cluster file or an
embedded engine directory; unset, found's default) and keeps it with the store
in the ASGI lifespan state, which the server hands to every request as
``scope["state"]``.

Pages are Jinja2 templates rendered with autoescaping on; form values use the
text encoding of ``found.ext.vnstore.text`` (``fromstring`` / ``tostring``).
POST requests from another origin are refused (403).
"""
import argparse
import logging
import mimetypes
import os
import re
import sys
import uuid
from importlib import resources
from collections import namedtuple
from collections.abc import Mapping
from urllib.parse import parse_qs, quote, urlsplit

import jinja2

import found
from found.ext import nstore
from found.ext import vnstore
from found.ext.vnstore.text import ValueEncodingError, fromstring, tostring

__all__ = ["server", "create_app", "main", "fromstring", "tostring", "ValueEncodingError"]

DATABASE_ENV = "FOUND_VNSTORE_DATABASE"
HOSTS_ENV = "FOUND_VNSTORE_ALLOWED_HOSTS"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
NAVIGATE_LIMIT = 42
MAX_BODY = 64 * 1024
MAX_MESSAGE = 4096
STORE_NAME = "found.vnstore:server"
COLUMNS = ("uid", "key", "value")

_log = logging.getLogger("found.vnstore")

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]


def make_store():
    """The vnstore the server shows: columns uid, key and value."""
    return vnstore.make(STORE_NAME, (STORE_NAME,), COLUMNS)


# --- responses ----------------------------------------------------------------


class HTTPError(Exception):
    """An error page: ``status``, a short ``title`` and a ``message`` for the user."""

    def __init__(self, status, title, message, context=None):
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.context = context or {}


class Response:
    """What a handler returns: status, headers (list of byte pairs), body (bytes)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status, body=b"", headers=()):
        self.status = status
        self.body = body
        self.headers = list(headers)


def _redirect(location):
    return Response(303, b"", [(b"location", location.encode("utf-8"))])


# --- request --------------------------------------------------------------------


class Request:
    """The parts of an ASGI HTTP scope the handlers use."""

    def __init__(self, scope, receive, context):
        self.scope = scope
        self.receive = receive
        self.context = context
        self.method = scope["method"]
        self.path = scope["path"]
        self.headers = {}
        for name, value in scope.get("headers", ()):
            self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def query(self):
        """The query string as a dict of first values."""
        raw = self.scope.get("query_string", b"")
        try:
            text = raw.decode("utf-8")
            pairs = parse_qs(text, keep_blank_values=True, max_num_fields=64)
        except (UnicodeDecodeError, ValueError):
            raise HTTPError(400, "Bad query string", "The query string is not valid UTF-8 form data.")
        return {name: values[0] for name, values in pairs.items()}

    async def form(self):
        """The url-encoded body as a dict of first values (bounded size)."""
        kind = self.headers.get("content-type", "application/x-www-form-urlencoded")
        if kind.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise HTTPError(415, "Unsupported form encoding", "Send the form as application/x-www-form-urlencoded.")
        body = bytearray()
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise HTTPError(400, "Disconnected", "The client went away before sending the form.")
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                raise HTTPError(413, "Form too large", "Forms are limited to {} bytes.".format(MAX_BODY))
            if not message.get("more_body", False):
                break
        try:
            text = bytes(body).decode("utf-8")
            pairs = parse_qs(text, keep_blank_values=True, max_num_fields=64, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise HTTPError(400, "Bad form", "The form data is not valid UTF-8 url-encoded data.")
        return {name: values[0] for name, values in pairs.items()}

    def host_name(self):
        """The Host header without its port, lower case ("" when absent)."""
        host = self.headers.get("host", "").strip().lower()
        if host.startswith("["):
            return host[1:].split("]", 1)[0]
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    def cross_origin(self):
        """True when a browser says this request comes from another site or
        origin: Sec-Fetch-Site, else Origin compared with Host."""
        site = self.headers.get("sec-fetch-site")
        if site is not None and site.strip().lower() not in ("same-origin", "none"):
            return True
        origin = self.headers.get("origin")
        if origin is None:
            return False
        if origin.strip().lower() == "null":
            return True
        host = self.headers.get("host")
        return host is None or urlsplit(origin.strip()).netloc.lower() != host.strip().lower()


# --- helpers for pages ----------------------------------------------------------


def parse_change(text):
    """The change id in a URL: 32 hex digits, else a 400 error."""
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise HTTPError(
            400,
            "Malformed change id",
            "{!r} is not a change id: a change id is 32 hexadecimal digits.".format(text[:80]),
        )
    return uuid.UUID(hex=text)


def stamp(value):
    """A versionstamp as shown in pages: commit version, then order within it."""
    if value is None:
        return ""
    if not value.is_complete():
        return "(this transaction)"
    version = int.from_bytes(value.tr_version[:8], "big")
    batch = int.from_bytes(value.tr_version[8:], "big")
    return "{}.{}.{}".format(version, batch, value.user_version)


def kind(value):
    """A CSS class naming the type of a tuple value."""
    if value is None or isinstance(value, bool):
        return "v-const"
    if isinstance(value, str):
        return "v-str"
    return "v-" + type(value).__name__.lower()


def _navigate_url(column, text):
    return "/navigate/?{}={}".format(column, quote(text, safe=""))


Cell = namedtuple("Cell", "column text kind href")


def cells(items):
    """What a page shows of one tuple (a sequence in column order, or a
    mapping with the columns): a Cell per column. Computed here rather than
    in a template macro, which costs far more per call."""
    if isinstance(items, Mapping):
        items = [items[column] for column in COLUMNS]
    out = []
    for column, value in zip(COLUMNS, items):
        text = tostring(value)
        out.append(Cell(column, text, kind(value), _navigate_url(column, text)))
    return out


def _environment():
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("found.ext.vnstore", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat per render
    )
    env.globals.update(
        stamp=stamp,
        cells=cells,
        columns=COLUMNS,
        limit=NAVIGATE_LIMIT,
    )
    return env


def _static_files():
    """name -> (content type, bytes) of every file in static/."""
    out = {}
    folder = resources.files("found.ext.vnstore") / "static"
    for entry in folder.iterdir():
        if entry.is_file():
            guessed = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            if guessed.startswith("text/"):
                guessed += "; charset=utf-8"
            out[entry.name] = (guessed, entry.read_bytes())
    return out


class Context:
    """What lives in the lifespan state: database, store, templates, statics."""

    def __init__(self, db, database, store):
        self.db = db
        self.database = database
        self.store = store
        self.allowed_hosts = None
        self.templates = _environment()
        self.statics = _static_files()

    def render(self, status, template, **values):
        """An HTML Response of ``template`` rendered with ``values`` (autoescaped)."""
        html = self.templates.get_template(template).render(**values)
        return Response(status, html.encode("utf-8"), [(b"content-type", b"text/html; charset=utf-8")])

    async def run(self, function, *args):
        """Run ``function(tx, *args)`` in a retried transaction; store
        errors become error pages."""
        try:
            return await found.transactional(self.db, function, *args)
        except vnstore.ChangeNotFound as exc:
            raise HTTPError(404, "No such change", str(exc))
        except vnstore.ChangeApplied as exc:
            raise HTTPError(409, "Change already applied", str(exc))
        except nstore.NStoreException as exc:
            raise HTTPError(400, "Value not accepted", str(exc))


async def _change_or_404(request, text):
    context = request.context
    changeid = parse_change(text)
    change = await context.run(vnstore.change_get, context.store, changeid)
    if change is None:
        raise HTTPError(404, "No such change", "There is no change {}.".format(changeid.hex))
    return change


async def _change_page(request, text, template, status=200, **values):
    context = request.context

    async def read(tx, changeid):
        change = await vnstore.change_get(tx, context.store, changeid)
        if change is None:
            return None, []
        return change, await vnstore.change_changes(tx, context.store, changeid)

    changeid = parse_change(text)
    change, changes = await context.run(read, changeid)
    if change is None:
        raise HTTPError(404, "No such change", "There is no change {}.".format(changeid.hex))
    return context.render(status, template, change=change, changes=changes, **values)


def _tuple_from_form(form):
    """Decode the uid, key and value fields; (items, None) or (None, error)."""
    items = []
    for column in COLUMNS:
        if column not in form:
            return None, "The field {!r} is missing.".format(column)
        try:
            items.append(fromstring(form[column]))
        except ValueEncodingError as exc:
            return None, "{}: {}".format(column, exc)
    return tuple(items), None


# --- handlers -------------------------------------------------------------------


async def index(request):
    """GET /"""
    return request.context.render(200, "index.html", database=request.context.database)


async def history(request):
    """GET /history/"""
    context = request.context
    changes = await context.run(vnstore.change_list, context.store)
    pending = [change for change in changes if change["significance"] is None]
    applied = [change for change in reversed(changes) if change["significance"] is not None]
    return context.render(200, "history-list.html", pending=pending, applied=applied)


async def change_form(request):
    """GET /history/change/"""
    return request.context.render(200, "history-change.html", message="", error=None)


async def change_new(request):
    """POST /history/change/: create a change with a message."""
    context = request.context
    form = await request.form()
    message = form.get("message", form.get("description"))
    error = None
    if message is None:
        error = "The field 'message' is missing."
    elif not message.strip():
        error = "Describe the change: the message cannot be empty."
    elif len(message) > MAX_MESSAGE:
        error = "The message is limited to {} characters.".format(MAX_MESSAGE)
    if error is not None:
        return context.render(400, "history-change.html", message=message or "", error=error)

    async def create(tx, text):
        changeid = await vnstore.change_create(tx, context.store)
        await vnstore.change_message(tx, context.store, changeid, text)
        return changeid

    changeid = await context.run(create, message.strip())
    return _redirect("/history/u/{}/".format(changeid.hex))


async def change_detail(request, change):
    """GET /history/u/{hex}/"""
    return await _change_page(request, change, "history-detail.html")


async def add_form(request, change):
    """GET /history/u/{hex}/add/"""
    return await _edit_page(request, change, "add", form={}, error=None)


async def remove_form(request, change):
    """GET /history/u/{hex}/remove/"""
    return await _edit_page(request, change, "remove", form={}, error=None)


async def _edit_page(request, change, edit, status=200, **values):
    return await _change_page(request, change, "history-detail-edit.html", status, edit=edit, **values)


async def _edit(request, change, edit, operation):
    context = request.context
    found_change = await _change_or_404(request, change)
    form = await request.form()
    items, error = _tuple_from_form(form)
    if error is not None:
        return await _edit_page(request, change, edit, 400, form=form, error=error)
    changeid = found_change["uid"]

    async def record(tx):
        vnstore.change_continue(tx, context.store, changeid)
        return await operation(tx, context.store, *items)

    if not await context.run(record):
        error = "({}) is not in the store as this change sees it: nothing to remove.".format(
            ", ".join(tostring(item) for item in items)
        )
        return await _edit_page(request, change, edit, 409, form=form, error=error)
    return _redirect("/history/u/{}/".format(changeid.hex))


async def add_post(request, change):
    """POST /history/u/{hex}/add/"""
    return await _edit(request, change, "add", vnstore.add)


async def remove_post(request, change):
    """POST /history/u/{hex}/remove/"""
    return await _edit(request, change, "remove", vnstore.remove)


async def apply_form(request, change):
    """GET /history/u/{hex}/apply/"""
    return await _change_page(request, change, "history-detail-apply.html", conflict=None)


async def apply_post(request, change):
    """POST /history/u/{hex}/apply/"""
    context = request.context
    found_change = await _change_or_404(request, change)
    changeid = found_change["uid"]
    try:
        await context.run(vnstore.change_apply, context.store, changeid)
    except vnstore.ChangeConflict as exc:
        return await _change_page(request, change, "history-detail-apply.html", 409, conflict=exc)
    return _redirect("/history/u/{}/".format(changeid.hex))


async def _take(iterator, count):
    out = []
    async for item in iterator:
        out.append(item)
        if len(out) == count:
            break
    return out


async def navigate(request):
    """GET /navigate/?uid=&key=&value=: up to 42 alive tuples matching; an
    empty field matches anything."""
    context = request.context
    query = request.query()
    fields = {column: query.get(column, "") for column in COLUMNS}
    pattern = []
    for column in COLUMNS:
        text = fields[column]
        if not text.strip():
            pattern.append(nstore.var(column))
            continue
        try:
            pattern.append(fromstring(text))
        except ValueEncodingError as exc:
            error = "{}: {}".format(column, exc)
            return context.render(400, "navigate.html", fields=fields, rows=[], more=False, error=error)

    async def read(tx):
        bindings = vnstore.query(tx, context.store, pattern)
        return await _take(bindings, NAVIGATE_LIMIT + 1)

    bindings = await context.run(read)
    rows = [nstore.substitute(pattern, binding) for binding in bindings[:NAVIGATE_LIMIT]]
    more = len(bindings) > NAVIGATE_LIMIT
    return context.render(200, "navigate.html", fields=fields, rows=rows, more=more, error=None)


async def static(request, name):
    """GET /static/{name}: the CSS shipped with the package."""
    entry = request.context.statics.get(name)
    if entry is None:
        raise HTTPError(404, "Not found", "No static file {!r}.".format(name[:80]))
    content_type, body = entry
    return Response(200, body, [(b"content-type", content_type.encode()), (b"cache-control", b"max-age=3600")])


# --- routing ------------------------------------------------------------------------

_ROUTES = [
    ("/", {"GET": index}),
    ("/history/", {"GET": history}),
    ("/history/change/", {"GET": change_form, "POST": change_new}),
    ("/history/u/{change}/", {"GET": change_detail}),
    ("/history/u/{change}/add/", {"GET": add_form, "POST": add_post}),
    ("/history/u/{change}/remove/", {"GET": remove_form, "POST": remove_post}),
    ("/history/u/{change}/apply/", {"GET": apply_form, "POST": apply_post}),
    ("/navigate/", {"GET": navigate}),
    ("/static/{name}", {"GET": static}),
]


def _compile(path):
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + r"\Z")


_COMPILED = [(_compile(path), methods) for path, methods in _ROUTES]


def _route(method, path):
    """(handler, parameters), raising 404 or 405 pages."""
    for pattern, methods in _COMPILED:
        match = pattern.match(path)
        if match is None:
            continue
        handler = methods.get("GET" if method == "HEAD" else method)
        if handler is None:
            allowed = ", ".join(sorted(methods))
            raise HTTPError(405, "Method not allowed", "{} accepts {}.".format(path, allowed),
                            {"allow": allowed})
        return handler, match.groupdict()
    raise HTTPError(404, "Not found", "There is no page at {}.".format(path[:200]))


# --- the ASGI application -------------------------------------------------------------


async def _open(database):
    """Open the database: a cluster file or an embedded directory (None: default)."""
    return await found.open(database)


def describe_database(database):
    """One line telling which database ``database`` (None: default) means."""
    try:
        from found import _library

        kind, _ = _library.resolve(database)
    except Exception:  # the driver may not tell; the path is still useful
        kind = "embedded"
    if kind == "system":
        return "FoundationDB cluster file {}".format(database or "(default)")
    return "embedded engine directory {}".format(_embedded_directory(database))


def _embedded_directory(database):
    if database:
        return os.path.abspath(database)
    try:
        from found import engine

        return engine.default_directory()
    except Exception:
        return "(the engine's default directory)"


def _is_loopback(host):
    return host in LOOPBACK_NAMES or host.startswith("127.")


class _App:
    """The ASGI callable; ``database`` None reads $FOUND_VNSTORE_DATABASE at
    startup, ``allowed_hosts`` None reads $FOUND_VNSTORE_ALLOWED_HOSTS."""

    def __init__(self, database=None, allowed_hosts=None):
        self._database = database
        self._allowed_hosts = allowed_hosts

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
            await send({"type": "lifespan.startup.failed",
                        "message": "the ASGI server gives no lifespan state; vnstore needs it"})
            return False
        database = self._database if self._database is not None else os.environ.get(DATABASE_ENV) or None
        hosts = self._allowed_hosts
        if hosts is None and os.environ.get(HOSTS_ENV):
            hosts = os.environ[HOSTS_ENV].split(",")
        try:
            db = await _open(database)
            context = Context(db, describe_database(database), make_store())
            context.allowed_hosts = None if hosts is None else frozenset(h.strip().lower() for h in hosts)
            state["vnstore"] = context
        except Exception as exc:
            _log.exception("vnstore: startup failed")
            await send({"type": "lifespan.startup.failed",
                        "message": "cannot open database {}: {}".format(database or "(default)", exc)})
            return False
        await send({"type": "lifespan.startup.complete"})
        return True

    async def _http(self, scope, receive, send):
        context = (scope.get("state") or {}).get("vnstore")
        if context is None:
            await _send_plain(send, 500, "vnstore is not started: run the server with the lifespan protocol on")
            return
        request = Request(scope, receive, context)
        try:
            response = await self._dispatch(request)
        except HTTPError as exc:
            response = _error_page(context, exc)
        except Exception:
            _log.exception("vnstore: %s %s failed", request.method, request.path)
            response = _error_page(context, HTTPError(500, "Server error", "The request failed; see the server log."))
        await _send(send, response, head=request.method == "HEAD")

    async def _dispatch(self, request):
        allowed = request.context.allowed_hosts
        if allowed is not None and request.host_name() not in allowed:
            # A page of another site resolving its name to this server (DNS
            # rebinding) would otherwise pass as same-origin.
            raise HTTPError(400, "Unknown host", "This server answers to {} only.".format(", ".join(sorted(allowed))))
        handler, parameters = _route(request.method, request.path)
        if request.method == "POST" and request.cross_origin():
            raise HTTPError(403, "Cross-origin request refused",
                            "This form was posted from another site; vnstore accepts forms from its own pages only.")
        return await handler(request, **parameters)


def _error_page(context, error):
    response = context.render(error.status, "error.html", error=error)
    if "allow" in error.context:
        response.headers.append((b"allow", error.context["allow"].encode()))
    return response


async def _send(send, response, head=False):
    headers = response.headers + _SECURITY_HEADERS
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})


async def _send_plain(send, status, text):
    await _send(send, Response(status, text.encode("utf-8"), [(b"content-type", b"text/plain; charset=utf-8")]))


def create_app(database=None, allowed_hosts=None):
    """A new ASGI application over ``database`` (a cluster file or embedded
    directory; None reads $FOUND_VNSTORE_DATABASE, else found's default).
    ``allowed_hosts`` (names without port) limits the Host headers served;
    None reads $FOUND_VNSTORE_ALLOWED_HOSTS (comma-separated), else any."""
    return _App(database, allowed_hosts)


server = create_app()


# --- command line -----------------------------------------------------------------------


def _parser():
    parser = argparse.ArgumentParser(
        prog="found-vnstore",
        description="Serve vnstore's web UI (history of changes, tuple navigation).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--database", default=None,
                        help="FoundationDB cluster file, or embedded engine directory (default: found's default)")
    parser.add_argument("--workers", type=_positive, default=1,
                        help="worker processes sharing the database (default 1)")
    return parser


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1, got {}".format(value))
    return value


def main(argv=None):
    """Entry point of the found-vnstore console script: serve the UI with uvicorn."""
    import uvicorn

    args = _parser().parse_args(argv)
    database = os.path.abspath(args.database) if args.database else None
    if database is not None:
        os.environ[DATABASE_ENV] = database
    if _is_loopback(args.host):
        # Served on loopback: only local names are legitimate Host headers.
        os.environ[HOSTS_ENV] = ",".join(sorted(set(LOOPBACK_NAMES) | {args.host}))
    print("found-vnstore: database: {}".format(describe_database(database)), flush=True)
    print("found-vnstore: serving http://{}:{}/".format(args.host, args.port), flush=True)
    uvicorn.run(
        "found.ext.vnstore.server:server",
        host=args.host,
        port=args.port,
        lifespan="on",
        workers=args.workers,
    )


if __name__ == "__main__":
    sys.exit(main())
