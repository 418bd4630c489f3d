"""The store's version counter and the web UI's page cache: a page is served
again only while nothing wrote the store, whoever wrote it (this app,
another worker, another program through the store API)."""

import contextlib
import re
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import found
from found.ext import vnstore
from found.ext.vnstore import _pages
from found.ext.vnstore import server as vnserver
from test_vnstore_server import add, apply, new_change, rows
from vnstore_helpers import Lifespan, T, commit_change, create, edit


def edits_shown(html):
    """The (uid, key, value) of the edits a change page lists."""
    if 'id="tuples"' not in html:
        return []
    body = html.split('id="tuples"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [tuple(re.findall(r'<a class="value[^"]*"[^>]*>([^<]*)</a>', row)) for row in body.split("</tr>")[:-1]]


# --- the version counter ----------------------------------------------------------


async def test_a_store_never_written_is_at_version_0(db, store):
    assert await T(db, vnstore.version, store) == 0


async def test_every_write_moves_the_version_on(db, store):
    versions = [await T(db, vnstore.version, store)]

    async def moved():
        versions.append(await T(db, vnstore.version, store))
        return versions[-1] > versions[-2]

    changeid = await create(db, store)
    assert await moved(), "change_create"
    await T(db, vnstore.change_message, store, changeid, "a message")
    assert await moved(), "change_message"
    await edit(db, store, changeid, adds=[("a", "b", "c")])
    assert await moved(), "add"
    await edit(db, store, changeid, removes=[("a", "b", "c")])
    assert await moved(), "remove"
    await T(db, vnstore.change_rename, store, changeid, "renamed")
    assert await moved(), "change_rename"
    await edit(db, store, changeid, adds=[("x", "y", "z")])
    assert await moved()
    await T(db, vnstore.change_apply, store, changeid)
    assert await moved(), "change_apply"
    other = await create(db, store)
    assert await moved()
    await T(db, vnstore.change_discard, store, other)
    assert await moved(), "change_discard"


async def test_reads_and_refused_writes_leave_the_version(db, store):
    changeid = await commit_change(db, store, adds=[("a", "b", "c")])
    before = await T(db, vnstore.version, store)
    await T(db, vnstore.change_list, store)
    await T(db, vnstore.change_get, store, changeid)
    await T(db, vnstore.change_changes, store, changeid)
    await T(db, vnstore.change_apply, store, changeid)  # already applied: nothing written
    pending = await create(db, store)
    after_create = await T(db, vnstore.version, store)
    assert after_create > before
    assert await edit(db, store, pending, removes=[("no", "such", "tuple")]) == [False]
    assert await T(db, vnstore.version, store) == after_create


async def test_writers_of_the_counter_do_not_conflict(db, store):
    # An atomic add, no read: two transactions creating a change each, open
    # at once, both commit.
    transactions = [found.make_transaction(db) for _ in range(2)]
    for tx in transactions:
        await vnstore.change_create(tx, store)
    for tx in transactions:
        await found.commit(tx)
    assert await T(db, vnstore.version, store) == 2
    assert len(await T(db, vnstore.change_list, store)) == 2


# --- PageCache ------------------------------------------------------------------------


def test_page_cache_keeps_the_most_recently_used():
    cache = _pages.PageCache(2)
    for name in ("a", "b"):
        cache.put(name, 1, _pages.Response(200, name.encode()))
    assert cache.get("a", 1).body == b"a"  # a is now more recent than b
    cache.put("c", 1, _pages.Response(200, b"c"))
    assert cache.get("b", 1) is None
    assert cache.get("a", 1).body == b"a"
    assert cache.get("c", 1).body == b"c"


def test_page_cache_serves_a_page_at_its_version_only():
    cache = _pages.PageCache(4)
    cache.put("a", 7, _pages.Response(200, b"seven", [(b"content-type", b"text/html")]))
    assert cache.get("a", 8) is None
    assert cache.get("a", 6) is None
    hit = cache.get("a", 7)
    assert (hit.status, hit.body, hit.headers) == (200, b"seven", [(b"content-type", b"text/html")])
    hit.headers.append((b"x", b"y"))  # a served copy does not change what is kept
    assert cache.get("a", 7).headers == [(b"content-type", b"text/html")]


# --- pages ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def app_client(app_database, page_cache=None):
    running = Lifespan(vnserver.create_app(app_database, page_cache=page_cache))
    assert await running.startup() == {"type": "lifespan.startup.complete"}
    transport = httpx.ASGITransport(app=running)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            client.context = running.state["vnstore"]
            yield client
    finally:
        await running.shutdown()


async def test_an_unchanged_page_is_served_from_the_cache(client, lifespan):
    change = await new_change(client)
    pages = lifespan.state["vnstore"].pages
    for path in ("/history/", "/history/u/{}/".format(change), "/navigate/?key=name"):
        first = await client.get(path)
        hits = pages.hits
        second = await client.get(path)
        assert (second.status_code, second.text) == (200, first.text)
        assert pages.hits == hits + 1, path


async def test_no_stale_page_after_writes_through_the_store_api(client, app_database):
    # Writes by another program (here: the store API on the same directory)
    # reach the pages already kept.
    store = vnserver.make_store()
    db = await found.open(app_database)
    change = await new_change(client, "first message")
    detail = "/history/u/{}/".format(change)
    changeid = uuid.UUID(hex=change)
    paths = ["/history/", detail, detail + "apply/", detail + "rename/", "/navigate/", "/navigate/?key=name"]
    for path in paths:
        assert (await client.get(path)).status_code == 200

    await T(db, vnstore.change_message, store, changeid, "second message")
    for path in ("/history/", detail, detail + "apply/", detail + "rename/"):
        assert "second message" in (await client.get(path)).text, path

    await edit(db, store, changeid, adds=[("ada", "name", "Ada")])
    assert edits_shown((await client.get(detail)).text) == [("ada", "name", "Ada")]
    assert rows((await client.get("/navigate/?key=name")).text) == []  # pending: not alive yet

    await T(db, vnstore.change_apply, store, changeid)
    assert rows((await client.get("/navigate/?key=name")).text) == [("ada", "name", "Ada")]
    assert rows((await client.get("/navigate/")).text) == [("ada", "name", "Ada")]
    assert "applied" in (await client.get(detail)).text

    other = await create(db, store, "thrown away")
    assert other.hex in (await client.get("/history/")).text
    await T(db, vnstore.change_discard, store, other)
    assert other.hex not in (await client.get("/history/")).text


async def test_no_stale_page_across_workers(app_database):
    # Two apps on one database, as two uvicorn workers: a write through one
    # is seen on the other's pages it had kept.
    async with app_client(app_database) as one, app_client(app_database) as two:
        change = await new_change(one)
        detail = "/history/u/{}/".format(change)
        for path in (detail, "/navigate/?key=name"):
            assert (await two.get(path)).status_code == 200
            assert (await two.get(path)).status_code == 200
        assert two.context.pages.hits >= 2
        await add(one, change, "bob", "name", "Bob")
        assert edits_shown((await two.get(detail)).text) == [("bob", "name", "Bob")]
        await apply(one, change)
        assert rows((await two.get("/navigate/?key=name")).text) == [("bob", "name", "Bob")]


async def test_a_search_for_a_fresh_uuid_is_not_kept(client, lifespan):
    pages = lifespan.state["vnstore"].pages
    for _ in range(2):
        assert (await client.get("/navigate/?uid=_")).status_code == 200
    assert pages.hits == 0
    assert ("/navigate/", b"uid=_") not in pages._pages


async def test_error_pages_are_not_kept(client, lifespan):
    missing = "/history/u/{}/".format(uuid.uuid4().hex)
    for _ in range(2):
        assert (await client.get(missing)).status_code == 404
    assert lifespan.state["vnstore"].pages._pages == {}


@pytest.mark.parametrize("value, expected", [(None, _pages.PAGE_CACHE), ("0", 0), ("3", 3)])
async def test_page_cache_size_from_the_environment(app_database, monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(vnserver.PAGE_CACHE_ENV, raising=False)
    else:
        monkeypatch.setenv(vnserver.PAGE_CACHE_ENV, value)
    async with app_client(app_database) as client:
        pages = client.context.pages
        assert (pages.size if pages is not None else 0) == expected


async def test_page_cache_0_renders_every_page(app_database):
    async with app_client(app_database, page_cache=0) as client:
        assert client.context.pages is None
        change = await new_change(client, "no cache")
        assert "no cache" in (await client.get("/history/u/{}/".format(change))).text


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["create", "add", "remove", "apply", "rename", "discard"]),
        st.sampled_from(["ada", "bob", "cyd"]),
        st.sampled_from(["name", "city"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
async def test_cached_pages_equal_pages_rendered_afresh(tmp_path, edits):
    # After any sequence of writes through the store API, every page of the
    # app keeping pages is the page of an app rendering every request.
    directory = str(tmp_path / uuid.uuid4().hex)
    store = vnserver.make_store()
    db = await found.open(directory)
    async with app_client(directory) as cached, app_client(directory, page_cache=0) as fresh:
        pending = []

        async def compare():
            paths = ["/history/", "/navigate/", "/navigate/?key=name", "/navigate/?uid=a&uid-prefix=on"]
            paths += ["/history/u/{}/".format(c.hex) for c in pending[-2:]]
            for path in paths:
                a, b = await cached.get(path), await fresh.get(path)
                assert (a.status_code, a.text) == (b.status_code, b.text), path

        await compare()
        for operation, uid, key in edits:
            if operation == "create" or not pending:
                pending.append(await create(db, store, "change {}".format(len(pending))))
            elif operation in ("add", "remove"):
                items = (uid, key, uid.upper())
                await edit(db, store, pending[-1], **{operation + "s": [items]})
            elif operation == "apply":
                try:
                    await T(db, vnstore.change_apply, store, pending.pop())
                except vnstore.ChangeConflict:
                    pass
            elif operation == "rename":
                await T(db, vnstore.change_rename, store, pending[-1], "renamed {}".format(uid))
            else:
                await T(db, vnstore.change_discard, store, pending.pop())
            await compare()


def test_launcher_page_cache_option():
    from found.ext.vnstore import launcher

    assert launcher.parser().parse_args([]).page_cache is None
    assert launcher.parser().parse_args(["--page-cache", "0"]).page_cache == 0
    with pytest.raises(SystemExit):
        launcher.parser().parse_args(["--page-cache", "-1"])


# --- rendering ---------------------------------------------------------------------

#: The template macro that rendered a tuple's cells before cells_html.
MACRO_CELLS = (
    "{% macro value_cell(cell) -%}\n"
    '<td data-label="{{ cell.column }}"><a class="value {{ cell.kind }}" href="{{ cell.href }}" '
    'title="find tuples with {{ cell.column }} = {{ cell.text }}">{{ cell.text }}</a></td>\n'
    "{%- endmacro %}"
    "{% for cell in cells(row) %}{{ value_cell(cell) }}{% endfor %}"
)

VALUES = st.one_of(
    st.text(),
    st.integers(),
    st.floats(allow_nan=False),
    st.binary(),
    st.uuids(),
    st.booleans(),
    st.none(),
)


@settings(max_examples=200)
@given(text=st.text())
def test_escape_is_markupsafes(text):
    import markupsafe

    assert _pages._escape(text) == str(markupsafe.escape(text))


@settings(max_examples=200)
@given(row=st.tuples(VALUES, VALUES, VALUES))
def test_cells_html_renders_as_the_template_macro_did(row):
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    expected = env.from_string(MACRO_CELLS).render(cells=_pages.cells, row=row)
    assert str(_pages.cells_html(row)) == expected


#: The template macros that showed a change's link, badge and times before
#: change_link, status and when.
MACRO_CHANGE = (
    "{% macro change_link(change) -%}\n"
    '<a class="mono" href="/history/u/{{ change.uid.hex }}/">{{ change.uid.hex[:8] }}</a>\n'
    "{%- endmacro %}\n"
    "{% macro status(change) -%}\n"
    '{% if change.significance is none %}<span class="badge pending">pending</span>{% else %}'
    '<span class="badge applied">applied</span>{% endif %}\n'
    "{%- endmacro %}\n"
    "{% macro when(value) -%}\n"
    "{% set m = moment(value) %}\n"
    '{% if m.iso %}<time datetime="{{ m.iso }}" title="versionstamp {{ m.stamp }}">{{ m.text }}</time>'
    '{% else %}<span class="mono" title="versionstamp">{{ m.stamp }}</span>{% endif %}\n'
    "{%- endmacro %}"
    "{{ change_link(change) }}|{{ status(change) }}|{{ when(change.started) }}|{{ when(change.significance) }}"
)

STAMPS = st.one_of(
    st.none(),
    st.builds(
        found.Versionstamp,
        # commit versions as the embedded engine's: microseconds (within datetime's range)
        st.builds(
            lambda micros, batch: micros.to_bytes(8, "big") + batch,
            st.integers(0, 2**52),
            st.binary(min_size=2, max_size=2),
        ),
        st.integers(0, 65535),
    ),
    st.builds(found.Versionstamp, st.none(), st.integers(0, 65535)),
)


@settings(max_examples=100)
@given(uid=st.uuids(), started=STAMPS, significance=STAMPS, wall_clock=st.booleans())
def test_change_pieces_render_as_the_template_macros_did(uid, started, significance, wall_clock):
    import jinja2

    change = {"uid": uid, "started": started, "significance": significance}
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    moment = lambda value: _pages.moment(value, wall_clock)  # noqa: E731
    expected = env.from_string(MACRO_CHANGE).render(change=change, moment=moment)
    shown = [
        _pages.change_link(change),
        _pages.status(change),
        _pages.when(started, wall_clock),
        _pages.when(significance, wall_clock),
    ]
    assert "|".join(map(str, shown)) == expected


@settings(max_examples=200)
@given(text=st.text())
def test_quote_is_urllibs(text):
    from urllib.parse import quote

    assert _pages._quote(text) == quote(text, safe="")


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(VALUES, VALUES, VALUES), max_size=8))
def test_kept_cells_render_as_fresh_ones(rows):
    # Twice: the second time from the kept cells.
    for _ in range(2):
        for row in rows:
            assert _pages._cells(row) == "".join(_pages._cell_html(c, v) for c, v in zip(_pages.COLUMNS, row))


def test_equal_values_of_other_types_or_signs_are_not_confused():
    uid = uuid.UUID(int=1)
    rows = [(1, True, 0.0), (True, 1, -0.0), (1.0, 1, 0), (b"a", "a", 0), (uid, 1, "a"), (1, 1, "a"), (1, 1, "a")]
    for row in rows:
        _pages._cells(row)
    for row in rows:
        assert _pages._cells(row) == "".join(_pages._cell_html(c, v) for c, v in zip(_pages.COLUMNS, row))


def test_kept_cells_are_bounded(monkeypatch):
    monkeypatch.setattr(_pages, "_KEPT_ROWS_MAX", 10)
    monkeypatch.setattr(_pages, "_kept_rows", {})
    for number in range(100):
        _pages._cells((number, str(number), b"x"))
        assert len(_pages._kept_rows) <= 10


@settings(max_examples=100, deadline=None)
@given(
    changes=st.lists(
        st.fixed_dictionaries(
            {"uid": st.uuids(), "message": st.one_of(st.none(), st.text()), "started": STAMPS, "significance": STAMPS}
        ),
        max_size=4,
    ),
    wall_clock=st.booleans(),
)
def test_history_rows_render_as_the_template_did(changes, wall_clock):
    import jinja2

    loop = (
        "{% for change in rows %}\n"
        "    <tr>\n"
        '      <td data-label="change">{{ change_link(change) }}</td>\n'
        '      <td data-label="message">{{ change.message or "(no message)" }}</td>\n'
        '      <td data-label="status">{{ status(change) }}</td>\n'
        "      <td data-label=\"{{ 'started' if pending else 'applied' }}\">"
        "{{ when(change.started if pending else change.significance) }}</td>\n"
        "    </tr>\n"
        "{% endfor %}\n"
    )
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(
        change_link=_pages.change_link, status=_pages.status, when=lambda value: _pages.when(value, wall_clock)
    )
    for pending in (True, False):
        expected = env.from_string(loop).render(rows=changes, pending=pending)
        assert str(_pages.change_rows(changes, pending, wall_clock)) == expected


@settings(max_examples=200, deadline=None)
@given(value=STAMPS, wall_clock=st.booleans())
def test_kept_times_show_as_fresh_ones(value, wall_clock):
    for _ in range(2):  # the second time from the kept times
        assert str(_pages.when(value, wall_clock)) == _pages._when(value, wall_clock)


def test_kept_times_follow_the_local_zone(monkeypatch):
    import time

    # 2026-07-01 12:00 UTC: summer time in Paris, winter in Santiago.
    value = found.Versionstamp((1782907200 * 10**6).to_bytes(8, "big") + b"\x00\x00", 0)
    shown = {}
    try:
        for zone in ("UTC", "Europe/Paris", "America/Santiago", "UTC"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            shown[zone] = str(_pages.when(value, True))
            assert shown[zone] == _pages._when(value, True)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert len(set(shown.values())) == 3


def test_kept_times_are_bounded(monkeypatch):
    monkeypatch.setattr(_pages, "_KEPT_TIMES_MAX", 10)
    monkeypatch.setattr(_pages, "_kept_times", {})
    for number in range(100):
        _pages.when(found.Versionstamp(number.to_bytes(10, "big"), 0), True)
        assert len(_pages._kept_times) <= 10


#: The macros that showed a change's head and tuples before change_header
#: and modifications.
MACRO_CHANGE_PAGE = (
    "{% macro modifications(changes) -%}\n"
    "{% if changes %}\n"
    '<table class="grid" id="tuples">\n'
    "  <thead><tr><th></th>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>\n"
    "  <tbody>\n"
    "  {% for row in changes %}\n"
    "    <tr class=\"{{ 'added' if row['alive?'] else 'removed' }}\">\n"
    "      <td class=\"op\" data-label=\"{{ 'added' if row['alive?'] else 'removed' }}\" "
    "title=\"{{ 'added' if row['alive?'] else 'removed' }}\">{{ '+' if row['alive?'] else '−' }}</td>\n"
    "{{ cells_html(row) }}    </tr>\n"
    "  {% endfor %}\n"
    "  </tbody>\n"
    "</table>\n"
    "{% else %}\n"
    '<p class="muted">This change adds or removes no tuple yet.</p>\n'
    "{% endif %}\n"
    "{%- endmacro %}\n"
    "{% macro change_header(change) -%}\n"
    '<div class="change-head">\n'
    '  <h1>{{ change.message or "(no message)" }}</h1>\n'
    '  <dl class="facts">\n'
    '    <dt>change</dt><dd class="mono">{{ change.uid.hex }}</dd>\n'
    "    <dt>status</dt><dd>{{ status(change) }}</dd>\n"
    "    <dt>started</dt><dd>{{ when(change.started) }}</dd>\n"
    "    {% if change.significance is not none %}<dt>applied</dt><dd>{{ when(change.significance) }}</dd>"
    "{% endif %}\n"
    "  </dl>\n"
    "</div>\n"
    "{%- endmacro %}"
    "{{ change_header(change) }}|{{ modifications(changes) }}"
)


@settings(max_examples=100, deadline=None)
@given(
    change=st.fixed_dictionaries(
        {"uid": st.uuids(), "message": st.one_of(st.none(), st.text()), "started": STAMPS, "significance": STAMPS}
    ),
    changes=st.lists(
        st.fixed_dictionaries({"uid": VALUES, "key": VALUES, "value": VALUES, "alive?": st.booleans()}), max_size=4
    ),
    wall_clock=st.booleans(),
)
def test_change_head_and_tuples_render_as_the_template_macros_did(change, changes, wall_clock):
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(
        cells_html=_pages.cells_html,
        columns=_pages.COLUMNS,
        status=_pages.status,
        when=lambda value: _pages.when(value, wall_clock),
    )
    expected = env.from_string(MACRO_CHANGE_PAGE).render(change=change, changes=changes)
    shown = "{}|{}".format(_pages.change_header(change, wall_clock), _pages.modifications(changes))
    assert shown == expected
