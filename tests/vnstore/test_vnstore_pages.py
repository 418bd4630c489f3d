"""vnstore's web UI, the pages issue 18 asked for: navigate by cursor pages
and by prefix, JSON export, rename and discard of a pending change, local
times with the versionstamp on hover, dark mode and a narrow layout."""

import datetime
import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import found
from found.ext import vnstore
from found.ext.vnstore import server as vnserver
from found.ext.vnstore.text import tostring
from test_vnstore_server import add, apply, new_change, rows


async def fill(app_database, change, tuples):
    """Add ``tuples`` to ``change`` through the store API (faster than posts)."""

    async def run(tx):
        store = vnserver.make_store()
        vnstore.change_continue(tx, store, uuid.UUID(hex=change))
        for items in tuples:
            await vnstore.add(tx, store, *items)

    await found.transactional(await found.open(app_database), run)


async def applied_store(client, app_database, tuples):
    change = await new_change(client)
    await fill(app_database, change, tuples)
    await apply(client, change)
    return change


def next_url(html):
    match = re.search(r'href="([^"]*)" rel="next"', html)
    return None if match is None else match.group(1).replace("&amp;", "&")


async def all_pages(client, params):
    """Follow the Next page links from /navigate/?params: every row, in order, and the page count."""
    response = await client.get("/navigate/", params=params)
    out, pages = [], 0
    while True:
        assert response.status_code == 200, response.text
        pages += 1
        out += rows(response.text)
        link = next_url(response.text)
        if link is None:
            return out, pages
        response = await client.get(link)


# --- paging --------------------------------------------------------------------------------


async def test_navigate_pages_through_every_tuple(client, app_database):
    tuples = [("n{:03}".format(number), "is", number) for number in range(100)]
    await applied_store(client, app_database, tuples)
    first = await client.get("/navigate/")
    assert len(rows(first.text)) == 42 and next_url(first.text) is not None
    assert "First page" not in first.text
    seen, pages = await all_pages(client, {})
    assert pages == 3  # 42 + 42 + 16: no page past the last
    assert sorted(seen) == sorted((uid, key, tostring(value)) for uid, key, value in tuples)
    assert len(set(seen)) == 100
    second = await client.get(next_url(first.text))
    assert "First page" in second.text


async def test_a_page_of_exactly_42_has_no_next_page(client, app_database):
    await applied_store(client, app_database, [("u", "k", number) for number in range(42)])
    page = await client.get("/navigate/", params={"uid": "u"})
    assert len(rows(page.text)) == 42 and next_url(page.text) is None


async def test_pages_follow_the_search(client, app_database):
    await applied_store(
        client, app_database, [("x{:02}".format(n), "even" if n % 2 == 0 else "odd", n) for n in range(90)]
    )
    seen, pages = await all_pages(client, {"key": "odd"})
    assert pages == 2 and len(seen) == 45
    assert all(key == "odd" for _, key, _ in seen)


async def test_tuples_added_between_pages_do_not_repeat_rows(client, app_database):
    await applied_store(client, app_database, [("p{:02}".format(n), "k", n) for n in range(0, 100, 2)])
    first = await client.get("/navigate/")
    await applied_store(client, app_database, [("p{:02}".format(n), "k", n) for n in range(1, 100, 2)])
    second = await client.get(next_url(first.text))
    assert not set(rows(first.text)) & set(rows(second.text))
    assert max(rows(first.text)) < min(rows(second.text))  # the cursor continues in order


@pytest.mark.parametrize("after", ["zz", "00", "ff" * 3])
async def test_malformed_or_foreign_cursor_is_400(client, after):
    response = await client.get("/navigate/", params={"key": "name", "after": after})
    assert response.status_code == 400
    assert "cursor" in response.text


# --- prefix search -----------------------------------------------------------------------------


PEOPLE = [
    ("ada", "name", "Ada Lovelace"),
    ("adam", "name", "Adam Smith"),
    ("bob", "name", "Bob"),
    ("ada", "born", 1815),
    ("alan", "name", "Alan Turing"),
    ("ad", "blob", b"\x01\x02"),
    ("adx", "blob", b"\x01\x03"),
    ("zed", "name", "Ada Twin"),
]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"uid": "ad", "uid-prefix": "on"}, {"ada", "adam", "ad", "adx"}),
        ({"uid": "ada", "uid-prefix": "on"}, {"ada", "adam"}),
        ({"uid": "ada"}, {"ada"}),
        ({"value": "Ada", "value-prefix": "on"}, {"ada", "adam", "zed"}),
        ({"value": '#s"Ada "', "value-prefix": "on"}, {"ada", "zed"}),
        ({"key": "name", "value": "A", "value-prefix": "on"}, {"ada", "adam", "alan", "zed"}),
        ({"uid": "a", "uid-prefix": "on", "value": "Ad", "value-prefix": "on"}, {"ada", "adam"}),
        ({"value": "#b01", "value-prefix": "on"}, {"ad", "adx"}),
        ({"value": "#b0103", "value-prefix": "on"}, {"adx"}),
        ({"uid": "", "uid-prefix": "on"}, {uid for uid, _, _ in PEOPLE}),  # empty prefix: anything
    ],
)
async def test_prefix_search(client, app_database, params, expected):
    await applied_store(client, app_database, PEOPLE)
    response = await client.get("/navigate/", params=params)
    assert response.status_code == 200
    assert {row[0] for row in rows(response.text)} == expected
    for column in ("uid", "key", "value"):
        checked = 'name="{}-prefix" checked'.format(column) in response.text
        assert checked == bool(params.get(column + "-prefix") and params.get(column))


async def test_prefix_of_a_number_is_400(client):
    response = await client.get("/navigate/", params={"value": "#i18", "value-prefix": "on"})
    assert response.status_code == 400
    assert "only text and bytes can be searched by prefix" in response.text


async def test_prefix_matches_whole_characters_and_escaped_nuls(client, app_database):
    await applied_store(client, app_database, [("é", "k", 1), ("e\u0301", "k", 2), ("a\x00b", "k", 3), ("a", "k", 4)])
    response = await client.get("/navigate/", params={"uid": "é", "uid-prefix": "on"})
    assert [row[0] for row in rows(response.text)] == ["é"]
    response = await client.get("/navigate/", params={"uid": '#s"a\\u0000"', "uid-prefix": "on"})
    assert [row[2] for row in rows(response.text)] == ["#i3"]


FILLED = set()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.text("ab", max_size=3),
    column=st.sampled_from(["uid", "key", "value"]),
    exact=st.sampled_from([None, "uid", "key", "value"]),
)
async def test_paged_prefix_search_equals_a_filter_of_everything(client, app_database, prefix, column, exact):
    """Whatever index the search picks, paging by cursor through a prefix
    search yields exactly the tuples a plain filter keeps."""
    words = ["", "a", "b", "aa", "ab", "ba", "bb", "aab", "abb", "bab"]
    everything = [(u, k, v) for u in words[:6] for k in words[3:7] for v in words[5:]]
    if app_database not in FILLED:  # hypothesis runs every example on one database
        FILLED.add(app_database)
        await applied_store(client, app_database, everything)
    params = {column: '#s"{}"'.format(prefix), column + "-prefix": "on"}
    keep = [t for t in everything if t[("uid", "key", "value").index(column)].startswith(prefix)]
    if exact is not None and exact != column:
        params[exact] = '#s"aa"'
        keep = [t for t in keep if t[("uid", "key", "value").index(exact)] == "aa"]
    seen, _ = await all_pages(client, params)
    assert sorted(seen) == sorted(tuple('#s""' if v == "" else v for v in t) for t in keep)
    assert len(seen) == len(set(seen))


# --- export -----------------------------------------------------------------------------------


async def test_export_is_json_of_every_matching_tuple(client, app_database):
    tuples = [("e{:03}".format(n), "n", n) for n in range(120)] + PEOPLE
    await applied_store(client, app_database, tuples)
    page = await client.get("/navigate/", params={"uid": "e", "uid-prefix": "on"})
    link = re.search(r'id="export" href="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {"uid": ["e"], "uid-prefix": ["on"]}
    response = await client.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    document = json.loads(response.content)
    assert document["columns"] == ["uid", "key", "value"]
    assert document["search"] == {"uid": "e"} and document["prefix"] == ["uid"] and document["complete"] is True
    assert [tuple(t.values()) for t in document["tuples"]] == [
        ("e{:03}".format(n), "n", "#i{}".format(n)) for n in range(120)
    ]
    everything = json.loads((await client.get("/navigate/export.json")).content)["tuples"]
    assert len(everything) == 120 + len(PEOPLE)
    assert {"uid": "ad", "key": "blob", "value": "#b0102"} in everything


async def test_export_of_a_malformed_search_is_400(client):
    response = await client.get("/navigate/export.json", params={"value": "#i1x"})
    assert response.status_code == 400


# --- rename and discard ---------------------------------------------------------------------


async def test_rename_a_pending_change(client):
    change = await new_change(client, "Draft")
    page = (await client.get("/history/u/{}/".format(change))).text
    assert 'href="/history/u/{}/rename/"'.format(change) in page
    form = await client.get("/history/u/{}/rename/".format(change))
    assert form.status_code == 200 and ">Draft</textarea>" in form.text
    response = await client.post("/history/u/{}/rename/".format(change), data={"message": "  Final  "})
    assert response.status_code == 303 and response.headers["location"] == "/history/u/{}/".format(change)
    assert "<h1>Final</h1>" in (await client.get("/history/u/{}/".format(change))).text
    response = await client.post("/history/u/{}/rename/".format(change), data={"message": " "})
    assert response.status_code == 400 and "cannot be empty" in response.text
    assert "<h1>Final</h1>" in (await client.get("/history/u/{}/".format(change))).text


async def test_discard_a_pending_change(client, app_database):
    keep = await new_change(client, "Keep me")
    change = await new_change(client, "Throw me away")
    await add(client, change, "x", "y", "z")
    page = (await client.get("/history/u/{}/".format(change))).text
    assert 'href="/history/u/{}/discard/"'.format(change) in page
    confirm = await client.get("/history/u/{}/discard/".format(change))
    assert confirm.status_code == 200 and "Discard this change?" in confirm.text
    response = await client.post("/history/u/{}/discard/".format(change))
    assert response.status_code == 303
    history = await client.get(response.headers["location"])
    assert "was discarded" in history.text and change[:8] in history.text
    assert "Throw me away" not in history.text and "Keep me" in history.text
    assert (await client.get("/history/u/{}/".format(change))).status_code == 404
    assert (await client.post("/history/u/{}/discard/".format(change))).status_code == 404
    assert (await client.get("/history/u/{}/".format(keep))).status_code == 200


async def test_applied_change_offers_and_allows_neither(client):
    change = await new_change(client, "Applied")
    await add(client, change, "a", "b", "c")
    await apply(client, change)
    page = (await client.get("/history/u/{}/".format(change))).text
    assert "/rename/" not in page and "/discard/" not in page
    for action in ("rename", "discard"):
        response = await client.post("/history/u/{}/{}/".format(change, action), data={"message": "New"})
        assert response.status_code == 409 and "already applied" in response.text
        assert "cannot be" in (await client.get("/history/u/{}/{}/".format(change, action))).text or action == "rename"
    assert "<h1>Applied</h1>" in (await client.get("/history/u/{}/".format(change))).text
    assert rows((await client.get("/navigate/")).text) == [("a", "b", "c")]


async def test_cross_origin_rename_and_discard_are_refused(client):
    change = await new_change(client, "Mine")
    for action in ("rename", "discard"):
        response = await client.post(
            "/history/u/{}/{}/".format(change, action),
            data={"message": "Theirs"},
            headers={"origin": "http://evil.example"},
        )
        assert response.status_code == 403
    assert "<h1>Mine</h1>" in (await client.get("/history/u/{}/".format(change))).text


# --- times -------------------------------------------------------------------------------------


async def test_times_are_local_dates_with_the_versionstamp_on_hover(client, lifespan):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    change = await new_change(client, "Timed")
    await apply(client, change)
    after = datetime.datetime.now(datetime.timezone.utc)
    details = (await client.get("/history/u/{}/".format(change))).text

    async def stamps(tx):
        return await vnstore.change_get(tx, lifespan.state["vnstore"].store, uuid.UUID(hex=change))

    record = await found.transactional(lifespan.state["vnstore"].db, stamps)
    for field in ("started", "significance"):
        text = vnserver._pages.stamp(record[field])
        match = re.search(
            r'<time datetime="([^"]+)" title="versionstamp {}">([^<]+)</time>'.format(re.escape(text)), details
        )
        assert match, (field, text)
        when = datetime.datetime.fromisoformat(match.group(1))
        assert before <= when <= after  # the engine's versions are commit times
        shown = when.astimezone()
        assert match.group(2).startswith(shown.strftime("%Y-%m-%d %H:%M:%S"))
    assert re.search(r">\d{16}\.\d+\.\d+<", details) is None  # no bare versionstamp as text
    history = (await client.get("/history/")).text
    assert 'title="versionstamp {}"'.format(vnserver._pages.stamp(record["significance"])) in history


def test_without_clock_versions_the_versionstamp_is_shown():
    value = found.Versionstamp(tr_version=(1796549240827069).to_bytes(8, "big") + b"\x00\x00", user_version=1)
    assert vnserver._pages.moment(value, False).text == "1796549240827069.0.1"
    assert vnserver._pages.moment(value, False).iso is None
    shown = vnserver._pages.moment(value, True)
    assert shown.stamp == "1796549240827069.0.1"
    assert shown.iso.startswith("2026-12-05T") or shown.iso.startswith("2026-12-06T")  # local zone


# --- style -------------------------------------------------------------------------------------


async def test_stylesheet_has_dark_mode_and_a_narrow_layout(client):
    css = (await client.get("/static/style.css")).text
    assert "@media (prefers-color-scheme: dark)" in css
    assert "color-scheme: light dark" in css
    narrow = re.search(r"@media \(max-width: (\d+)px\)", css)
    assert narrow and int(narrow.group(1)) >= 390


@pytest.mark.parametrize("scan", [1, 2, 3, 5, 1000])
@pytest.mark.parametrize("query", [{"value": "ab", "value-prefix": "on"}, {"key": "name"}, {}])
async def test_pages_under_a_scan_limit_walk_every_match_once(db, store, scan, query):
    async def fill(tx):
        changeid = await vnstore.change_create(tx, store)
        for number in range(12):
            await vnstore.add(tx, store, "u{}".format(number), "name", ("ab" if number % 3 else "x") + str(number))
        await vnstore.change_apply(tx, store, changeid)

    await found.transactional(db, fill)
    search = vnserver._pages.Search.from_query(query)
    shown = []
    for _ in range(100):
        rows, cursor = await found.transactional(db, search.page, store.alive, 2, scan)
        assert len(rows) <= 2
        shown += rows
        if cursor is None:
            break
        search.after = cursor
    expected = [("u{}".format(n), "name", ("ab" if n % 3 else "x") + str(n)) for n in range(12)]
    if "value" in query:
        expected = [row for row in expected if row[2].startswith("ab")]
    assert sorted(shown) == sorted(expected)
    assert len(shown) == len(set(shown))
