"""HTTP plumbing of vnstore's web UI: requests, responses, routing, and the
guards every request passes (Host allow-list, access token, same-origin writes).

Nothing here knows about vnstore: the pages live in ``_pages``, the ASGI
application that ties both together in ``server``.
"""

import hmac
import ipaddress
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 64 * 1024
MAX_FIELDS = 64
#: The Host names a server answers to unless told otherwise.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
#: The cookie that carries the access token once a browser presented it.
TOKEN_COOKIE = "vnstore_token"
#: The query parameter that presents the access token (a link to share).
TOKEN_PARAMETER = "token"

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
]


class HTTPError(Exception):
    """An error page: ``status``, a short ``title`` and a ``message`` for the user;
    ``headers`` (byte pairs) go with the response."""

    def __init__(self, status, title, message, headers=()):
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.headers = list(headers)


class Response:
    """What a handler returns: status, headers (list of byte pairs), body (bytes)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status, body=b"", headers=()):
        self.status = status
        self.body = body
        self.headers = list(headers)


def redirect(location, headers=()):
    """A 303 See Other to ``location`` (a path)."""
    return Response(303, b"", [(b"location", location.encode("utf-8"))] + list(headers))


def _pairs(text, what):
    try:
        pairs = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise HTTPError(400, "Bad " + what, "The {} has too many fields.".format(what))
    return {name: values[0] for name, values in pairs.items()}


class Request:
    """The parts of an ASGI HTTP scope the handlers use; ``context`` is
    what the application keeps in the lifespan state."""

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
        try:
            text = self.scope.get("query_string", b"").decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPError(400, "Bad query string", "The query string is not valid UTF-8 form data.")
        return _pairs(text, "query string")

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
        except UnicodeDecodeError:
            raise HTTPError(400, "Bad form", "The form data is not valid UTF-8 url-encoded data.")
        return _pairs(text, "form")

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

    def presented_token(self):
        """The access token this request carries: ``Authorization: Bearer``,
        the token cookie, or the ``token`` query parameter; None if none."""
        authorization = self.headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            return authorization[7:].strip()
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is no token, not an error
            cookie = {}
        if TOKEN_COOKIE in cookie:
            return cookie[TOKEN_COOKIE].value
        return self.query().get(TOKEN_PARAMETER)


# --- guards ------------------------------------------------------------------------


def is_loopback(host):
    """True if ``host`` (a name or address) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Guard:
    """What every request must pass before its page runs.

    ``allowed_hosts``: Host names (without port) served, or None for any;
    ``token``: the access token required of every request, or None."""

    def __init__(self, allowed_hosts, token):
        self.allowed_hosts = None if allowed_hosts is None else frozenset(h.strip().lower() for h in allowed_hosts)
        if token is not None and not re.fullmatch(r"[A-Za-z0-9._~-]{8,}", token):
            # It travels in a URL and a cookie: keep it to characters neither escapes.
            raise ValueError("the access token must be at least 8 characters among A-Z a-z 0-9 . _ ~ -")
        self.token = token or None

    def check(self, request):
        """Raise the HTTPError that refuses ``request``; a Response (a
        redirect setting the token cookie) when the request presented the
        token in its URL; None when the request may proceed."""
        allowed = self.allowed_hosts
        if allowed is not None and request.host_name() not in allowed:
            # A page of another site resolving its name to this server (DNS
            # rebinding) would otherwise pass as same-origin.
            raise HTTPError(400, "Unknown host", "This server answers to {} only.".format(", ".join(sorted(allowed))))
        if request.method == "POST" and request.cross_origin():
            raise HTTPError(
                403,
                "Cross-origin request refused",
                "This form was posted from another site; vnstore accepts forms from its own pages only.",
            )
        if self.token is None:
            return None
        presented = request.presented_token()
        if presented is None or not _same_token(presented, self.token):
            raise HTTPError(
                401,
                "Access token required",
                "This server asks for its access token: open the link found-vnstore printed, "
                "or send Authorization: Bearer <token>.",
                [(b"www-authenticate", b'Bearer realm="vnstore"')],
            )
        if request.method in ("GET", "HEAD") and TOKEN_PARAMETER in request.query():
            # Keep the token in a cookie and out of the address bar and history.
            cookie = "{}={}; Path=/; HttpOnly; SameSite=Strict".format(TOKEN_COOKIE, self.token)
            return redirect(request.path, [(b"set-cookie", cookie.encode("utf-8"))])
        return None


def _same_token(presented, expected):
    # Constant time: the comparison must not tell how much of a guess was right.
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


# --- routing ---------------------------------------------------------------------------


class Router:
    """Routes ``(path pattern, {method: handler})``; ``{name}`` in a pattern
    matches one path segment and is passed to the handler by name."""

    def __init__(self, routes):
        self._routes = [(self._compile(path), methods) for path, methods in routes]

    @staticmethod
    def _compile(path):
        return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + r"\Z")

    def route(self, method, path):
        """(handler, parameters), raising 404 or 405 errors."""
        for pattern, methods in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            handler = methods.get("GET" if method == "HEAD" else method)
            if handler is None:
                allowed = ", ".join(sorted(methods))
                raise HTTPError(
                    405, "Method not allowed", "{} accepts {}.".format(path, allowed), [(b"allow", allowed.encode())]
                )
            return handler, match.groupdict()
        raise HTTPError(404, "Not found", "There is no page at {}.".format(path[:200]))


# --- sending -------------------------------------------------------------------------------


async def send_response(send, response, head=False):
    """Send ``response`` with the security headers (no body for HEAD)."""
    headers = response.headers + SECURITY_HEADERS
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})


async def send_plain(send, status, text):
    """Send a plain-text response."""
    await send_response(send, Response(status, text.encode("utf-8"), [(b"content-type", b"text/plain; charset=utf-8")]))
