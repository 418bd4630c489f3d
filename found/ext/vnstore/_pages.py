"""The pages of vnstore's web UI: what each route shows and does.

Pages are Jinja2 templates rendered with autoescaping on; form values use
the text encoding of ``found.ext.vnstore.text``. The HTTP plumbing is in
``_http``; the application that serves these pages in ``server``.
"""

import contextvars
import datetime
import functools
import json
import mimetypes
import re
import time
import uuid
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from importlib import resources
from urllib.parse import quote, urlencode

import found
from found.ext import nstore, vnstore
from found.ext._extras import missing_extra

try:
    import jinja2
    import markupsafe
except ModuleNotFoundError as _missing:
    raise missing_extra(_missing, "server", "found-vnstore (found.ext.vnstore.server)") from _missing
from found.ext.vnstore._http import HTTPError, Response, Router, redirect
from found.ext.vnstore.text import ValueEncodingError, fromstring, tostring

STORE_NAME = "found.vnstore:server"
COLUMNS = ("uid", "key", "value")
#: Tuples per page of /navigate/.
NAVIGATE_LIMIT = 42
#: Keys one page reads at most: a page that filters (prefix search) may end
#: short of NAVIGATE_LIMIT rows and still offer a next page.
SCAN_LIMIT = 1000
#: Tuples one JSON export holds at most (it says whether it is complete).
EXPORT_LIMIT = 100_000
MAX_MESSAGE = 4096
PREFIX_SUFFIX = "-prefix"
#: Rendered pages kept by default (see PageCache).
PAGE_CACHE = 256


def make_store():
    """The vnstore the server shows: columns uid, key and value."""
    return vnstore.make(STORE_NAME, (STORE_NAME,), COLUMNS)


# --- what pages show of values -----------------------------------------------------


def stamp(value):
    """A versionstamp as text: commit version, order within it, user version."""
    if value is None:
        return ""
    if not value.is_complete():
        return "(this transaction)"
    version = int.from_bytes(value.tr_version[:8], "big")
    batch = int.from_bytes(value.tr_version[8:], "big")
    return "{}.{}.{}".format(version, batch, value.user_version)


Moment = namedtuple("Moment", "text iso stamp")


def moment(value, wall_clock_versions):
    """How a page shows a versionstamp: local date and time of its commit,
    with the versionstamp itself kept for a tooltip. Only the embedded
    engine's commit versions are wall-clock microseconds (docs/engine.md);
    a FoundationDB cluster's are not, and then the versionstamp is shown."""
    text = stamp(value)
    if value is None or not value.is_complete() or not wall_clock_versions:
        return Moment(text, None, text)
    micros = int.from_bytes(value.tr_version[:8], "big")
    when = datetime.datetime.fromtimestamp(micros / 1e6, datetime.timezone.utc).astimezone()
    return Moment(when.strftime("%Y-%m-%d %H:%M:%S %Z").strip(), when.isoformat(timespec="seconds"), text)


def kind(value):
    """A CSS class naming the type of a tuple value."""
    if value is None or isinstance(value, bool):
        return "v-const"
    if isinstance(value, str):
        return "v-str"
    return "v-" + type(value).__name__.lower()


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
        out.append(Cell(column, text, kind(value), "/navigate/?{}={}".format(column, quote(text, safe=""))))
    return out


def _escape(text):
    # markupsafe.escape's replacements, on a str: the same text at a fraction
    # of the cost of a Markup object per value.
    if "&" in text:
        text = text.replace("&", "&amp;")
    return text.replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;").replace('"', "&#34;")


#: urllib.parse.quote(text, safe="") of each ASCII character.
_QUOTED_ASCII = {code: quote(chr(code), safe="") for code in range(128)}


def _quote(text):
    # quote(text, safe=""), by one str.translate when the text is ASCII
    # (the common case) rather than a Python call per byte.
    return text.translate(_QUOTED_ASCII) if text.isascii() else quote(text, safe="")


#: Per column: the cell's head up to its class, then the link's start.
_CELL_HEADS = {
    column: ('<td data-label="{0}"><a class="value '.format(column), "/navigate/?{}=".format(column))
    for column in COLUMNS
}


#: Exact types whose cells are kept by value: equal values of these types
#: always show alike (unlike floats, where 0.0 == -0.0, or tuples holding them).
_KEPT_CELL_TYPES = frozenset((str, int, bytes, uuid.UUID))
#: Row key (each value's type and value; a UUID by its int, which hashes
#: and compares in C) -> the row's cells' HTML; cleared when it grows past
#: _KEPT_ROWS_MAX. The same rows are shown again and again (a page
#: requested anew, a change's tuples on each of its pages).
_kept_rows = {}
_KEPT_ROWS_MAX = 4096


def _cell_html(column, value):
    # One tuple value's <td>, escaped as the template's autoescaping does.
    text = tostring(value)
    shown = _escape(text)
    head, link = _CELL_HEADS[column]
    return '{}{}" href="{}{}" title="find tuples with {} = {}">{}</a></td>'.format(
        head, _escape(kind(value)), link, _escape(_quote(text)), column, shown, shown
    )


def _row_key(value):
    # A value's part of a row key, None if its cells are not kept.
    kind_ = type(value)
    if kind_ is uuid.UUID:
        return value.int
    return value if kind_ in _KEPT_CELL_TYPES else None


def _cells(items):
    # The <td>s of one tuple (in column order: uid, key, value) as one str.
    uid, key, value = items
    key = (type(uid), _row_key(uid), type(key), _row_key(key), type(value), _row_key(value))
    cells = _kept_rows.get(key)
    if cells is None:
        cells = "".join([_cell_html(column, value) for column, value in zip(COLUMNS, items)])
        if key[1] is not None and key[3] is not None and key[5] is not None:
            if len(_kept_rows) >= _KEPT_ROWS_MAX:
                _kept_rows.clear()
            _kept_rows[key] = cells
    return cells


def cells_html(items):
    """The table cells (``<td>``) of one tuple (as ``cells`` takes it),
    escaped as the template's autoescaping does: one call per row instead of
    a template macro per cell, which cost about a third of rendering /navigate/."""
    if isinstance(items, Mapping):
        items = [items[column] for column in COLUMNS]
    return markupsafe.Markup(_cells(items))


def tuple_rows(rows):
    """The ``<tr>`` lines of navigate's results table, one per tuple (in
    column order): the template's loop, made in Python at a fraction of its cost."""
    return markupsafe.Markup("".join(["    <tr>{}</tr>\n".format(_cells(row)) for row in rows]))


#: A modification's row head, by whether it adds (True) or removes (False).
_MODIFICATION_HEADS = {
    alive: '    <tr class="{0}">\n      <td class="op" data-label="{0}" title="{0}">{1}</td>\n'.format(
        "added" if alive else "removed", "+" if alive else "\N{MINUS SIGN}"
    )
    for alive in (True, False)
}


def _modification_rows(changes):
    # The <tr> lines of a change's tuples table (change_changes rows).
    out = []
    for row in changes:
        out.append(_MODIFICATION_HEADS[bool(row[vnstore.ALIVE])])
        out.append(_cells([row[column] for column in COLUMNS]))
        out.append("    </tr>\n")
    return "".join(out)


def change_rows(changes, pending, wall_clock_versions):
    """The ``<tr>`` blocks of the history list's table of ``changes``: the
    pending table (``pending`` true) shows when each started, the other when
    each was applied."""
    label = "started" if pending else "applied"
    out = []
    for change in changes:
        uid = change["uid"].hex
        out.append(
            '    <tr>\n      <td data-label="change"><a class="mono" href="/history/u/{}/">{}</a></td>\n'
            '      <td data-label="message">{}</td>\n'
            '      <td data-label="status">{}</td>\n'
            '      <td data-label="{}">{}</td>\n    </tr>\n'.format(
                uid,
                uid[:8],
                _text(change["message"] or "(no message)"),
                status(change),
                label,
                when(change["started"] if pending else change["significance"], wall_clock_versions),
            )
        )
    return markupsafe.Markup("".join(out))


def change_link(change):
    """A link to ``change``'s page, named by its uid's first 8 digits."""
    uid = change["uid"].hex
    return markupsafe.Markup('<a class="mono" href="/history/u/{}/">{}</a>'.format(uid, uid[:8]))


def status(change):
    """``change``'s badge: pending or applied."""
    if change["significance"] is None:
        return markupsafe.Markup('<span class="badge pending">pending</span>')
    return markupsafe.Markup('<span class="badge applied">applied</span>')


def _when(value, wall_clock_versions):
    m = moment(value, wall_clock_versions)
    if m.iso:
        return '<time datetime="{}" title="versionstamp {}">{}</time>'.format(
            _escape(m.iso), _escape(m.stamp), _escape(m.text)
        )
    return '<span class="mono" title="versionstamp">{}</span>'.format(_escape(m.stamp))


#: (commit version, user version, clock versions?, (UTC offset, zone name)
#: of the local time then) -> what ``when`` shows; cleared past _KEPT_TIMES_MAX.
_kept_times = {}
_KEPT_TIMES_MAX = 4096


def when(value, wall_clock_versions):
    """A commit's local date and time with its versionstamp on hover, or the
    versionstamp alone when versions are not clock times (see ``moment``)."""
    key = None
    if value is not None and value.is_complete():
        wall_clock_versions = bool(wall_clock_versions)
        zone = None
        if wall_clock_versions:
            # What the local time shows of an instant is its offset and zone
            # name (as datetime.astimezone finds them): with them in the key,
            # a change of the local zone shows afresh.
            local = time.localtime(int.from_bytes(value.tr_version[:8], "big") // 1_000_000)
            zone = (local.tm_gmtoff, local.tm_zone)
        key = (value.tr_version, value.user_version, wall_clock_versions, zone)
        shown = _kept_times.get(key)
        if shown is not None:
            return markupsafe.Markup(shown)
    shown = _when(value, wall_clock_versions)
    if key is not None:
        if len(_kept_times) >= _KEPT_TIMES_MAX:
            _kept_times.clear()
        _kept_times[key] = shown
    return markupsafe.Markup(shown)


def _text(value):
    # What {{ value }} shows with autoescaping.
    return _escape(value) if type(value) is str else str(markupsafe.escape(value))


def change_table(id, changes, wall_clock_versions):
    """The history list's table ``id`` ("pending": when each started, else
    when each was applied) of ``changes``."""
    return markupsafe.Markup(
        '<table class="grid" id="{}">\n  <thead><tr><th>change</th><th>message</th><th>status</th><th>{}</th>'
        "</tr></thead>\n  <tbody>\n{}  </tbody>\n</table>".format(
            _text(id),
            "started" if id == "pending" else "applied",
            change_rows(changes, id == "pending", wall_clock_versions),
        )
    )


#: The head of a change's tuples table.
_MODIFICATIONS_HEAD = (
    '<table class="grid" id="tuples">\n  <thead><tr><th></th>'
    + "".join("<th>{}</th>".format(column) for column in COLUMNS)
    + "</tr></thead>\n  <tbody>\n"
)


def modifications(changes):
    """A change's tuples table (``change_changes`` rows), or the line saying
    it has none."""
    if not changes:
        return markupsafe.Markup('<p class="muted">This change adds or removes no tuple yet.</p>\n')
    return markupsafe.Markup("".join((_MODIFICATIONS_HEAD, _modification_rows(changes), "  </tbody>\n</table>\n")))


def change_header(change, wall_clock_versions):
    """The head of a change's pages: its message, uid, status and times."""
    applied = ""
    if change["significance"] is not None:
        applied = "<dt>applied</dt><dd>{}</dd>".format(when(change["significance"], wall_clock_versions))
    return markupsafe.Markup(
        '<div class="change-head">\n  <h1>{}</h1>\n  <dl class="facts">\n'
        '    <dt>change</dt><dd class="mono">{}</dd>\n'
        "    <dt>status</dt><dd>{}</dd>\n"
        "    <dt>started</dt><dd>{}</dd>\n"
        "{}  </dl>\n</div>".format(
            _text(change["message"] or "(no message)"),
            change["uid"].hex,
            status(change),
            when(change["started"], wall_clock_versions),
            applied,
        )
    )


def _environment():
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("found.ext.vnstore", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat per render
    )
    # What every row shows is made by Python functions rather than template
    # macros: a macro call costs several times more.
    env.globals.update(change_link=change_link, status=status)
    env.globals.update(
        cells=cells,
        cells_html=cells_html,
        tuple_rows=tuple_rows,
        modifications=modifications,
        columns=COLUMNS,
        limit=NAVIGATE_LIMIT,
        prefix_suffix=PREFIX_SUFFIX,
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


class PageCache:
    """Rendered pages by (path, query string), each kept with the store's
    version counter (``vnstore.version``) read in the transaction that read
    what the page shows. A page is served again only to a request whose own
    transaction reads the same counter: no write of the store in between, by
    this process or any other, so the page is what rendering it again would
    give. At most ``size`` pages, the least recently used dropped first."""

    def __init__(self, size):
        self.size = size
        self._pages = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key, version):
        """The Response kept for ``key`` at ``version``, else None."""
        entry = self._pages.get(key)
        if entry is None or entry[0] != version:
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        _, status, body, headers = entry
        return Response(status, body, headers)

    def put(self, key, version, response):
        """Keep ``response`` for ``key`` at ``version``."""
        self._pages[key] = (version, response.status, response.body, tuple(response.headers))
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)


#: The transaction of the cached page being served (see ``cached``): the
#: page's own reads run in it, after its read of the version counter.
_page_transaction = contextvars.ContextVar("vnstore_page_transaction", default=None)


class Context:
    """What lives in the lifespan state: database, store, templates, statics,
    the guard of every request and the cache of rendered pages
    (``page_cache`` pages at most, 0 for none)."""

    def __init__(self, db, database, store, guard, wall_clock_versions, page_cache=PAGE_CACHE):
        self.db = db
        self.database = database
        self.store = store
        self.guard = guard
        self.templates = _environment()
        self.templates.globals["moment"] = lambda value: moment(value, wall_clock_versions)
        self.templates.globals["when"] = lambda value: when(value, wall_clock_versions)
        self.templates.globals["change_table"] = lambda id, changes: change_table(id, changes, wall_clock_versions)
        self.templates.globals["change_header"] = lambda change: change_header(change, wall_clock_versions)
        self._globals = dict(self.templates.globals)
        self._templates = {}
        self.statics = _static_files()
        self.pages = PageCache(page_cache) if page_cache > 0 else None

    def render(self, status, template, **values):
        """An HTML Response of ``template`` rendered with ``values`` (autoescaped)."""
        found_template = self._templates.get(template)
        if found_template is None:
            found_template = self._templates[template] = self.templates.get_template(template)
        # What Template.render does, but with a context over one plain dict of
        # the globals and values (shared=True) rather than one jinja2 copies
        # key by key from its ChainMap of globals on every render.
        context = found_template.new_context({**self._globals, **values}, shared=True)
        try:
            html = self.templates.concat(found_template.root_render_func(context))
        except Exception:
            self.templates.handle_exception()
        return Response(status, html.encode("utf-8"), [(b"content-type", b"text/html; charset=utf-8")])

    async def run(self, function, *args):
        """Run ``function(tx, *args)`` in a retried transaction (that of the
        cached page being served, if any); store errors become error pages."""
        try:
            tx = _page_transaction.get()
            if tx is not None:
                return await function(tx, *args)
            return await found.transactional(self.db, function, *args)
        except vnstore.ChangeNotFound as exc:
            raise HTTPError(404, "No such change", str(exc))
        except vnstore.ChangeApplied as exc:
            raise HTTPError(409, "Change already applied", str(exc))
        except nstore.NStoreException as exc:
            raise HTTPError(400, "Value not accepted", str(exc))


def cached(handler):
    """Serve the page of ``handler`` (a GET handler doing its reads in one
    ``context.run``) from the context's PageCache while the store's version
    counter is unchanged. The counter is read first, in the transaction that
    then does the page's reads, so a page is kept with the counter of the
    state it shows. Only 200 pages are kept; a handler can refuse keeping its
    page with ``request.uncacheable = True``."""

    @functools.wraps(handler)
    async def page(request, **parameters):
        context = request.context
        cache = context.pages
        if cache is None:
            return await handler(request, **parameters)
        key = (request.path, request.scope.get("query_string", b""))

        async def serve(tx):
            version = await vnstore.version(tx, context.store)
            response = cache.get(key, version)
            if response is not None:
                return response
            token = _page_transaction.set(tx)
            try:
                response = await handler(request, **parameters)
            finally:
                _page_transaction.reset(token)
            if response.status == 200 and not getattr(request, "uncacheable", False):
                cache.put(key, version, response)
            return response

        return await found.transactional(context.db, serve)

    return page


def error_page(context, error):
    """The Response showing ``error`` (an HTTPError)."""
    response = context.render(error.status, "error.html", error=error)
    response.headers.extend(error.headers)
    return response


# --- helpers of the change pages -----------------------------------------------------


def parse_change(text):
    """The change id in a URL: 32 hex digits, else a 400 error."""
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise HTTPError(
            400,
            "Malformed change id",
            "{!r} is not a change id: a change id is 32 hexadecimal digits.".format(text[:80]),
        )
    return uuid.UUID(hex=text)


def _detail_url(changeid):
    return "/history/u/{}/".format(changeid.hex)


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


def _message_error(message):
    """Why ``message`` (None when missing) cannot name a change, or None."""
    if message is None:
        return "The field 'message' is missing."
    if not message.strip():
        return "Describe the change: the message cannot be empty."
    if len(message) > MAX_MESSAGE:
        return "The message is limited to {} characters.".format(MAX_MESSAGE)
    return None


# --- change pages -------------------------------------------------------------------------


async def index(request):
    """GET /"""
    return request.context.render(200, "index.html", database=request.context.database)


@cached
async def history(request):
    """GET /history/"""
    context = request.context
    changes = await context.run(vnstore.change_list, context.store)
    pending = [change for change in changes if change["significance"] is None]
    applied = [change for change in reversed(changes) if change["significance"] is not None]
    discarded = request.query().get("discarded", "")
    discarded = discarded if re.fullmatch(r"[0-9a-f]{32}", discarded) else None
    return context.render(200, "history-list.html", pending=pending, applied=applied, discarded=discarded)


async def change_form(request):
    """GET /history/change/"""
    return request.context.render(200, "history-change.html", message="", error=None)


async def change_new(request):
    """POST /history/change/: create a change with a message."""
    context = request.context
    form = await request.form()
    message = form.get("message", form.get("description"))
    error = _message_error(message)
    if error is not None:
        return context.render(400, "history-change.html", message=message or "", error=error)

    async def create(tx, text):
        changeid = await vnstore.change_create(tx, context.store)
        await vnstore.change_message(tx, context.store, changeid, text)
        return changeid

    return redirect(_detail_url(await context.run(create, message.strip())))


@cached
async def change_detail(request, change):
    """GET /history/u/{hex}/"""
    return await _change_page(request, change, "history-detail.html")


async def _edit_page(request, change, edit, status=200, **values):
    return await _change_page(request, change, "history-detail-edit.html", status, edit=edit, **values)


@cached
async def add_form(request, change):
    """GET /history/u/{hex}/add/"""
    return await _edit_page(request, change, "add", form={}, error=None)


@cached
async def remove_form(request, change):
    """GET /history/u/{hex}/remove/"""
    return await _edit_page(request, change, "remove", form={}, error=None)


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
    return redirect(_detail_url(changeid))


async def add_post(request, change):
    """POST /history/u/{hex}/add/"""
    return await _edit(request, change, "add", vnstore.add)


async def remove_post(request, change):
    """POST /history/u/{hex}/remove/"""
    return await _edit(request, change, "remove", vnstore.remove)


@cached
async def apply_form(request, change):
    """GET /history/u/{hex}/apply/"""
    return await _change_page(request, change, "history-detail-apply.html", conflict=None)


async def apply_post(request, change):
    """POST /history/u/{hex}/apply/"""
    context = request.context
    changeid = (await _change_or_404(request, change))["uid"]
    try:
        await context.run(vnstore.change_apply, context.store, changeid)
    except vnstore.ChangeConflict as exc:
        return await _change_page(request, change, "history-detail-apply.html", 409, conflict=exc)
    return redirect(_detail_url(changeid))


@cached
async def rename_form(request, change):
    """GET /history/u/{hex}/rename/"""
    return await _change_page(request, change, "history-detail-rename.html", message=None, error=None)


async def rename_post(request, change):
    """POST /history/u/{hex}/rename/: a new message for a pending change."""
    context = request.context
    changeid = (await _change_or_404(request, change))["uid"]
    message = (await request.form()).get("message")
    error = _message_error(message)
    if error is not None:
        return await _change_page(request, change, "history-detail-rename.html", 400, message=message, error=error)
    await context.run(vnstore.change_rename, context.store, changeid, message.strip())
    return redirect(_detail_url(changeid))


@cached
async def discard_form(request, change):
    """GET /history/u/{hex}/discard/"""
    return await _change_page(request, change, "history-detail-discard.html")


async def discard_post(request, change):
    """POST /history/u/{hex}/discard/: throw a pending change away."""
    context = request.context
    changeid = (await _change_or_404(request, change))["uid"]
    await context.run(vnstore.change_discard, context.store, changeid)
    return redirect("/history/?discarded={}".format(changeid.hex))


# --- navigate: paged pattern and prefix search ------------------------------------------


class Search:
    """A navigate query: for each column a value, a prefix (str or bytes)
    or nothing; ``after`` is the cursor, the index key of the last tuple of
    the previous page (None: from the start)."""

    def __init__(self, fields, prefixes, after):
        self.fields = fields  # column -> text as typed
        self.prefixes = prefixes  # columns whose text is a prefix
        self.values = {}  # column -> decoded value (filled columns)
        self.after = after

    @classmethod
    def from_query(cls, query):
        """Parse the query string; HTTPError 400 with the reason if malformed."""
        fields = {column: query.get(column, "") for column in COLUMNS}
        prefixes = {column for column in COLUMNS if query.get(column + PREFIX_SUFFIX) and fields[column].strip()}
        after = query.get("after") or None
        if after is not None:
            try:
                after = bytes.fromhex(after)
            except ValueError:
                raise HTTPError(400, "Malformed cursor", "The page cursor is not hexadecimal.")
        search = cls(fields, prefixes, after)
        for column in COLUMNS:
            if fields[column].strip():
                search.values[column] = search._decode(column)
        return search

    def _decode(self, column):
        try:
            value = fromstring(self.fields[column])
        except ValueEncodingError as exc:
            raise ValueError("{}: {}".format(column, exc))
        if column in self.prefixes and not isinstance(value, (str, bytes)):
            raise ValueError(
                "{}: only text and bytes can be searched by prefix, not {}".format(column, tostring(value))
            )
        return value

    def query_string(self, **extra):
        """This search as a query string (with ``extra`` parameters)."""
        params = [(column, self.fields[column]) for column in COLUMNS if self.fields[column]]
        params += [(column + PREFIX_SUFFIX, "on") for column in COLUMNS if column in self.prefixes]
        params += [(name, value) for name, value in extra.items() if value is not None]
        return urlencode(params)

    def plan(self, store):
        """(index order, count of exact columns, begin, end, length of the
        keys' common head) of the index range to scan: an index whose order
        starts with the exact columns and, when one does, continues with a
        prefix column, whose prefix then narrows the range."""
        exact = {c for c, column in enumerate(COLUMNS) if column in self.values and column not in self.prefixes}
        bound = len(exact)
        candidates = [(n, order) for n, order in enumerate(store.indices) if set(order[:bound]) == exact]
        narrowing = [
            (n, order) for n, order in candidates if bound < len(order) and COLUMNS[order[bound]] in self.prefixes
        ]
        number, order = (narrowing or candidates)[0]
        head = store.index_prefix(number) + found.pack(tuple(self.values[COLUMNS[c]] for c in order[:bound]))
        if bound == len(order):
            return order, bound, head, head + b"\x00", len(head)
        if narrowing:
            # A packed str or bytes without its terminator is a prefix of the
            # packing of every value that starts with it.
            narrowed = head + found.pack((self.values[COLUMNS[order[bound]]],))[:-1]
            return order, bound, narrowed, found.next_prefix(narrowed), len(head)
        return order, bound, head + b"\x00", head + b"\xff", len(head)

    def matches(self, items):
        """True if ``items`` (in column order) passes every prefix."""
        for column in self.prefixes:
            value = items[COLUMNS.index(column)]
            wanted = self.values[column]
            if type(value) is not type(wanted) or not value.startswith(wanted):
                return False
        return True

    async def page(self, tx, store, limit, scan=SCAN_LIMIT):
        """(rows, next cursor or None): up to ``limit`` matching tuples after
        the cursor, reading at most ``scan`` keys. The cursor is None only
        when nothing matches after the last row."""
        order, bound, begin, end, skip = self.plan(store)
        if self.after is not None:
            if not begin <= self.after < end:
                raise HTTPError(400, "Malformed cursor", "The page cursor does not belong to this search.")
            begin = self.after + b"\x00"
        fixed = [(column, self.values[COLUMNS[column]]) for column in order[:bound]]
        rest = order[bound:]
        prefixed = bool(self.prefixes)
        unpack = found.unpack
        rows, cursor, read, key = [], None, 0, None
        # By batches: the same reads as found.query, without its step per pair.
        async for batch in found.query_batches(tx, begin, end, limit=scan):
            for key, _ in batch:
                read += 1
                items = [None] * len(COLUMNS)
                for column, value in fixed:
                    items[column] = value
                for column, value in zip(rest, unpack(key[skip:])):
                    items[column] = value
                if prefixed and not self.matches(items):
                    continue
                if len(rows) == limit:
                    return rows, cursor  # one more match: there is a next page
                rows.append(tuple(items))
                cursor = key
        if read < scan:
            return rows, None
        return rows, key  # stopped by the scan limit: the next page goes on from here


@cached
async def navigate(request):
    """GET /navigate/: a page of alive tuples matching the fields (empty
    fields match anything), with a cursor to the next page."""
    context = request.context
    query = request.query()
    if any(query.get(column, "").strip() == "_" for column in COLUMNS):
        request.uncacheable = True  # "_" is a fresh random UUID each time
    try:
        search = Search.from_query(query)
    except ValueError as exc:
        fields = {column: query.get(column, "") for column in COLUMNS}
        prefixes = {column for column in COLUMNS if query.get(column + PREFIX_SUFFIX)}
        return context.render(
            400,
            "navigate.html",
            fields=fields,
            prefixes=prefixes,
            rows=[],
            next_url=None,
            first_url=None,
            export_url=None,
            error=str(exc),
        )
    rows, cursor = await context.run(search.page, context.store.alive, NAVIGATE_LIMIT)
    return context.render(
        200,
        "navigate.html",
        fields=search.fields,
        prefixes=search.prefixes,
        rows=rows,
        error=None,
        next_url=None if cursor is None else "/navigate/?" + search.query_string(after=cursor.hex()),
        first_url=None if search.after is None else "/navigate/?" + search.query_string(),
        export_url="/navigate/export.json?" + search.query_string(),
    )


async def export(request):
    """GET /navigate/export.json: every tuple matching the search as JSON,
    values in the text encoding (lossless); read page by page, each page in
    its own transaction."""
    context = request.context
    try:
        search = Search.from_query(dict(request.query(), after=""))
    except ValueError as exc:
        raise HTTPError(400, "Malformed search", str(exc))
    tuples = []
    while len(tuples) < EXPORT_LIMIT:
        rows, cursor = await context.run(search.page, context.store.alive, EXPORT_LIMIT - len(tuples))
        tuples += [dict(zip(COLUMNS, map(tostring, row))) for row in rows]
        if cursor is None:
            break
        search.after = cursor
    document = {
        "columns": list(COLUMNS),
        "search": {column: search.fields[column] for column in COLUMNS if search.fields[column]},
        "prefix": sorted(search.prefixes),
        "tuples": tuples,
        "complete": len(tuples) < EXPORT_LIMIT or cursor is None,
    }
    body = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
    return Response(
        200,
        body,
        [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-disposition", b'attachment; filename="vnstore-export.json"'),
        ],
    )


async def static(request, name):
    """GET /static/{name}: the CSS shipped with the package."""
    entry = request.context.statics.get(name)
    if entry is None:
        raise HTTPError(404, "Not found", "No static file {!r}.".format(name[:80]))
    content_type, body = entry
    return Response(200, body, [(b"content-type", content_type.encode()), (b"cache-control", b"max-age=3600")])


ROUTER = Router(
    [
        ("/", {"GET": index}),
        ("/history/", {"GET": history}),
        ("/history/change/", {"GET": change_form, "POST": change_new}),
        ("/history/u/{change}/", {"GET": change_detail}),
        ("/history/u/{change}/add/", {"GET": add_form, "POST": add_post}),
        ("/history/u/{change}/remove/", {"GET": remove_form, "POST": remove_post}),
        ("/history/u/{change}/apply/", {"GET": apply_form, "POST": apply_post}),
        ("/history/u/{change}/rename/", {"GET": rename_form, "POST": rename_post}),
        ("/history/u/{change}/discard/", {"GET": discard_form, "POST": discard_post}),
        ("/navigate/", {"GET": navigate}),
        ("/navigate/export.json", {"GET": export}),
        ("/static/{name}", {"GET": static}),
    ]
)
