"""vnstore's web UI: every route, success and error paths, over ASGI with
the lifespan protocol run (see conftest.py)."""

import re
import uuid
from html import unescape as html_unescape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import found
from found.ext.vnstore import server as vnserver
from vnstore_helpers import Lifespan

UNKNOWN = uuid.UUID(int=12345).hex
FORM = {"content-type": "application/x-www-form-urlencoded"}


async def new_change(client, message="A change for tests"):
    response = await client.post("/history/change/", data={"message": message})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/history/u/([0-9a-f]{32})/", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def add(client, change, uid, key, value, status=303):
    response = await client.post("/history/u/{}/add/".format(change), data={"uid": uid, "key": key, "value": value})
    assert response.status_code == status, response.text
    return response


async def remove(client, change, uid, key, value, status=303):
    response = await client.post("/history/u/{}/remove/".format(change), data={"uid": uid, "key": key, "value": value})
    assert response.status_code == status, response.text
    return response


async def apply(client, change, status=303):
    response = await client.post("/history/u/{}/apply/".format(change))
    assert response.status_code == status, response.text
    return response


def rows(html):
    """The result rows of /navigate/ as tuples of cell texts."""
    if 'id="results"' not in html:
        return []
    body = html.split('id="results"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        out.append(
            tuple(
                html_unescape(re.sub(r"<[^>]+>", "", cell).strip())
                for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            )
        )
    return out


# --- pages that always exist ----------------------------------------------------


async def test_index(client, app_database):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "vnstore" in response.text
    assert app_database in response.text
    assert 'href="/static/style.css"' in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_every_page_uses_only_local_assets(client):
    change = await new_change(client)
    for path in [
        "/",
        "/history/",
        "/history/change/",
        "/navigate/",
        "/history/u/{}/".format(change),
        "/history/u/{}/add/".format(change),
        "/history/u/{}/apply/".format(change),
    ]:
        html = (await client.get(path)).text
        for url in re.findall(r'(?:href|src|action)="([^"]*)"', html):
            assert url.startswith("/") or url.startswith("data:"), (path, url)


async def test_stylesheet_is_served(client):
    response = await client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "body" in response.text


async def test_unknown_static_file_is_404(client):
    response = await client.get("/static/nope.js")
    assert response.status_code == 404
    assert "No static file" in response.text


async def test_unknown_page_is_404(client):
    response = await client.get("/nowhere/")
    assert response.status_code == 404
    assert "There is no page at /nowhere/" in response.text


async def test_wrong_method_is_405_with_allow(client):
    response = await client.delete("/history/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    response = await client.put("/history/change/")
    assert response.headers["allow"] == "GET, POST"


async def test_head_has_headers_and_no_body(client):
    response = await client.head("/history/")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


# --- history and changes ----------------------------------------------------------


async def test_history_lists_changes(client):
    response = await client.get("/history/")
    assert response.status_code == 200
    assert "No change yet" in response.text
    change = await new_change(client, "Import the first people")
    response = await client.get("/history/")
    assert "Import the first people" in response.text
    assert "/history/u/{}/".format(change) in response.text
    assert 'id="pending"' in response.text and 'id="changes"' not in response.text
    await apply(client, change)
    later = await new_change(client, "Then the second batch")
    await apply(client, later)
    html = (await client.get("/history/")).text
    assert 'id="pending"' not in html
    # Applied changes, newest first.
    assert html.index("Then the second batch") < html.index("Import the first people")


async def test_new_change_form(client):
    response = await client.get("/history/change/")
    assert response.status_code == 200
    assert '<form method="post" action="/history/change/"' in response.text
    assert 'name="message"' in response.text


async def test_create_change_then_show_it(client):
    change = await new_change(client, "Rename Ada")
    response = await client.get("/history/u/{}/".format(change))
    assert response.status_code == 200
    assert "Rename Ada" in response.text
    assert change in response.text
    assert "pending" in response.text
    assert "adds or removes no tuple yet" in response.text


async def test_create_change_accepts_the_reference_field_name(client):
    response = await client.post("/history/change/", data={"description": "Old clients say description"})
    assert response.status_code == 303


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "The field &#39;message&#39; is missing."),
        ({"message": "   "}, "the message cannot be empty"),
        ({"message": "x" * 5000}, "limited to 4096 characters"),
    ],
)
async def test_create_change_with_bad_form_is_400(client, data, message):
    response = await client.post("/history/change/", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert (await client.get("/history/")).text.count("/history/u/") == 0


async def test_form_in_another_encoding_is_415(client):
    response = await client.post("/history/change/", files={"message": ("m.txt", b"hello there")})
    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.text


async def test_oversized_form_is_413(client):
    response = await client.post("/history/change/", content=b"message=" + b"x" * 70000, headers=FORM)
    assert response.status_code == 413


async def test_form_that_is_not_utf8_is_400(client):
    response = await client.post("/history/change/", content=b"message=\xff\xfe", headers=FORM)
    assert response.status_code == 400
    assert "not valid UTF-8" in response.text


@pytest.mark.parametrize("suffix", ["", "add/", "remove/", "apply/"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_malformed_change_id_is_400(client, suffix, method):
    if method == "POST" and suffix == "":
        return  # the detail page has no POST (405, tested above)
    for bad in ["zzz", "12345", "g" * 32, "0" * 31, "0" * 33, "%3Cscript%3E"]:
        response = await client.request(
            method,
            "/history/u/{}/{}".format(bad, suffix),
            data={"uid": "a", "key": "b", "value": "c"} if method == "POST" else None,
        )
        assert response.status_code == 400, (bad, response.text)
        assert "Malformed change id" in response.text
        assert "<script>" not in response.text


@pytest.mark.parametrize("suffix", ["", "add/", "remove/", "apply/"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unknown_change_is_404(client, suffix, method):
    if method == "POST" and suffix == "":
        return
    response = await client.request(
        method,
        "/history/u/{}/{}".format(UNKNOWN, suffix),
        data={"uid": "a", "key": "b", "value": "c"} if method == "POST" else None,
    )
    assert response.status_code == 404
    assert "No such change" in response.text
    assert UNKNOWN in response.text


async def test_add_form(client):
    change = await new_change(client)
    response = await client.get("/history/u/{}/add/".format(change))
    assert response.status_code == 200
    for column in ("uid", "key", "value"):
        assert 'name="{}"'.format(column) in response.text
    assert "How to write values" in response.text


async def test_add_shows_the_tuple_in_the_change(client):
    change = await new_change(client)
    await add(client, change, "#u" + "AB" * 16, "age", "#i36")
    response = await client.get("/history/u/{}/".format(change))
    assert "#u" + "AB" * 16 in response.text
    assert "#i36" in response.text
    assert 'class="added"' in response.text


@pytest.mark.parametrize(
    "data, message",
    [
        ({"uid": "a", "key": "b"}, "The field &#39;value&#39; is missing."),
        (
            {"uid": "a", "key": "b", "value": "#i12x"},
            "value: &#39;#i12x&#39; is not a valid value: #i needs a decimal integer",
        ),
        ({"uid": "#uXYZ", "key": "b", "value": "c"}, "uid: &#39;#uXYZ&#39; is not a valid value"),
        ({"uid": "a", "key": "#what", "value": "c"}, "unknown tag"),
    ],
)
@pytest.mark.parametrize("operation", ["add", "remove"])
async def test_edit_with_bad_values_is_400(client, data, message, operation):
    change = await new_change(client)
    response = await client.post("/history/u/{}/{}/".format(change, operation), data=data)
    assert response.status_code == 400
    assert message in response.text
    # The form comes back filled in.
    for value in data.values():
        assert 'value="{}"'.format(value) in response.text


@pytest.mark.parametrize(
    "data, message",
    [
        ({"uid": "u" * 20000, "key": "k", "value": "v"}, "over the 10000 byte limit"),
        ({"uid": "u", "key": "k", "value": "#i" + "9" * 700}, "cannot be packed"),
        ({"uid": "u", "key": "k", "value": "#i" + "9" * 5000}, "integer too long"),
    ],
)
async def test_values_the_store_cannot_hold_are_400(client, data, message):
    change = await new_change(client)
    response = await client.post("/history/u/{}/add/".format(change), data=data)
    assert response.status_code == 400
    assert message in response.text
    assert "adds or removes no tuple yet" in (await client.get("/history/u/{}/".format(change))).text


async def test_remove_form(client):
    change = await new_change(client)
    response = await client.get("/history/u/{}/remove/".format(change))
    assert response.status_code == 200
    assert 'action="/history/u/{}/remove/"'.format(change) in response.text


async def test_remove_of_absent_tuple_is_409(client):
    change = await new_change(client)
    response = await remove(client, change, "a", "b", "c", status=409)
    assert "nothing to remove" in response.text
    # The page is the remove form again, named as such (issue 18: the title,
    # heading and button once showed the repr of an inner function).
    assert "<function" not in response.text and "&lt;function" not in response.text
    assert "<title>Remove in {}".format(change[:8]) in response.text
    assert "<h2>Remove a tuple</h2>" in response.text
    assert '<button type="submit">Remove</button>' in response.text


async def test_remove_after_apply(client):
    first = await new_change(client)
    await add(client, first, "ada", "name", "Ada")
    await apply(client, first)
    second = await new_change(client)
    await remove(client, second, "ada", "name", "Ada")
    response = await client.get("/history/u/{}/".format(second))
    assert 'class="removed"' in response.text
    await apply(client, second)
    assert rows((await client.get("/navigate/")).text) == []


async def test_apply_form_then_apply(client):
    change = await new_change(client)
    await add(client, change, "ada", "name", "Ada")
    response = await client.get("/history/u/{}/apply/".format(change))
    assert response.status_code == 200
    assert 'action="/history/u/{}/apply/"'.format(change) in response.text
    response = await apply(client, change)
    assert response.headers["location"] == "/history/u/{}/".format(change)
    page = (await client.get("/history/u/{}/".format(change))).text
    assert "<dt>applied</dt>" in page and '<time datetime="' in page and 'title="versionstamp ' in page
    # Applied changes offer no edit links and refuse edits.
    assert "/add/" not in page
    response = await add(client, change, "bob", "name", "Bob", status=409)
    assert "already applied" in response.text
    # Applying again is harmless.
    await apply(client, change)


async def test_conflicting_apply_is_409_and_lists_the_conflict(client):
    base = await new_change(client)
    await add(client, base, "k", "count", "#i0")
    await apply(client, base)
    one = await new_change(client)
    two = await new_change(client)
    for change in (one, two):
        await remove(client, change, "k", "count", "#i0")
        await add(client, change, "k", "count", "#i1")
    await apply(client, one)
    response = await apply(client, two, status=409)
    assert "cannot be applied" in response.text
    assert "/history/u/{}/".format(one) in response.text
    assert "pending" in (await client.get("/history/u/{}/".format(two))).text


# --- navigate ------------------------------------------------------------------------


async def test_navigate_matches_patterns(client):
    change = await new_change(client)
    await add(client, change, "ada", "name", "Ada")
    await add(client, change, "ada", "age", "#i36")
    await add(client, change, "bob", "name", "Bob")
    response = await client.get("/navigate/")
    assert rows(response.text) == []  # not applied yet
    await apply(client, change)
    everything = rows((await client.get("/navigate/")).text)
    assert sorted(everything) == [("ada", "age", "#i36"), ("ada", "name", "Ada"), ("bob", "name", "Bob")]
    response = await client.get("/navigate/", params={"key": "name"})
    assert sorted(rows(response.text)) == [("ada", "name", "Ada"), ("bob", "name", "Bob")]
    response = await client.get("/navigate/", params={"uid": "ada", "value": "#i36"})
    assert rows(response.text) == [("ada", "age", "#i36")]
    assert 'value="#i36"' in response.text


async def test_navigate_with_malformed_value_is_400(client):
    response = await client.get("/navigate/", params={"value": "#i1.5"})
    assert response.status_code == 400
    assert "value: &#39;#i1.5&#39; is not a valid value" in response.text
    response = await client.get("/navigate/", params={"key": "#none", "value": "#s'single'"})
    assert response.status_code == 400 and "#s needs a quoted string" in response.text
    response = await client.get("/navigate/", params={"uid": "#bxyz"})
    assert response.status_code == 400


# --- escaping and origin checks --------------------------------------------------------


async def test_stored_markup_is_shown_escaped(client):
    evil = '<script>alert("x")</script>'
    change = await new_change(client, evil + " message")
    await add(client, change, evil, "<b>key</b>", "<img src=x onerror=alert(1)>")
    await apply(client, change)
    for path in ["/history/", "/history/u/{}/".format(change), "/navigate/"]:
        html = (await client.get(path)).text
        assert "<script>alert" not in html
        assert "<b>key</b>" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    html = (await client.get("/navigate/", params={"uid": evil})).text
    assert "<script>alert" not in html and 'value="&lt;script&gt;' in html


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:9999"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"sec-fetch-site": "cross-site", "origin": "http://127.0.0.1:8000"},
    ],
)
async def test_cross_origin_posts_are_refused(client, headers):
    response = await client.post("/history/change/", data={"message": "Sneaky change"}, headers=headers)
    assert response.status_code == 403
    assert "Cross-origin request refused" in response.text
    assert "Sneaky" not in (await client.get("/history/")).text
    change = await new_change(client)
    for suffix in ("add/", "remove/", "apply/"):
        response = await client.post(
            "/history/u/{}/{}".format(change, suffix), data={"uid": "a", "key": "b", "value": "c"}, headers=headers
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "http://127.0.0.1:8000"},
        {"sec-fetch-site": "same-origin", "origin": "http://127.0.0.1:8000"},
        {"sec-fetch-site": "none"},
    ],
)
async def test_same_origin_posts_are_accepted(client, headers):
    response = await client.post("/history/change/", data={"message": "Honest change"}, headers=headers)
    assert response.status_code == 303


@pytest.mark.parametrize(
    "host, status",
    [
        ("127.0.0.1:8000", 200),
        ("localhost:1234", 200),
        ("LOCALHOST", 200),
        ("[::1]:8000", 200),
        ("evil.example", 400),
        ("evil.example:8000", 400),
        ("127.0.0.1.evil.example", 400),
    ],
)
async def test_allowed_hosts_defeat_dns_rebinding(app_database, host, status):
    import httpx

    running = Lifespan(vnserver.create_app(app_database, allowed_hosts=["127.0.0.1", "localhost", "::1"]))
    await running.startup()
    transport = httpx.ASGITransport(app=running)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        response = await client.get("/history/", headers={"host": host})
        assert response.status_code == status
        if status == 400:
            assert "Unknown host" in response.text
    await running.shutdown()


async def test_cross_origin_gets_are_served(client):
    response = await client.get("/history/", headers={"origin": "http://evil.example", "sec-fetch-site": "cross-site"})
    assert response.status_code == 200


# --- lifespan --------------------------------------------------------------------------------


async def test_state_lives_in_the_lifespan_scope(lifespan):
    context = lifespan.state["vnstore"]
    assert isinstance(context.db, found.Database)
    assert context.store.items == ("uid", "key", "value")


async def test_database_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(vnserver.DATABASE_ENV, str(tmp_path / "from-env"))
    running = Lifespan(vnserver.create_app())
    assert await running.startup() == {"type": "lifespan.startup.complete"}
    assert str(tmp_path / "from-env") in running.state["vnstore"].database
    await running.shutdown()


async def test_startup_fails_without_lifespan_state(app_database):
    app = vnserver.create_app(app_database)
    sent = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert len(sent) == 1
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "lifespan state" in sent[0]["message"]


async def test_startup_fails_with_the_reason_when_the_database_cannot_open(tmp_path):
    junk = tmp_path / "not-a-database"
    junk.write_text("neither a cluster file nor a directory")
    running = Lifespan(vnserver.create_app(str(junk)))
    message = await running.startup()
    assert message["type"] == "lifespan.startup.failed"
    assert str(junk) in message["message"] and "2104" in message["message"]
    assert "vnstore" not in running.state
    await running._task  # the app returns: the server stops after a failed startup


async def test_shutdown_releases_the_state(app_database):
    running = Lifespan(vnserver.create_app(app_database))
    await running.startup()
    assert "vnstore" in running.state
    assert await running.shutdown() == {"type": "lifespan.shutdown.complete"}
    assert "vnstore" not in running.state


async def test_requests_without_lifespan_get_a_clear_error(app_database):
    import httpx

    transport = httpx.ASGITransport(app=vnserver.create_app(app_database))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert "lifespan" in response.text


def test_server_is_the_documented_asgi_callable():
    assert callable(vnserver.server)
    assert vnserver.main.__doc__


# --- no input makes a server error ----------------------------------------------------------

segments = st.one_of(
    st.just(UNKNOWN),
    st.text(min_size=0, max_size=40),
    st.text("0123456789abcdefABCDEF", min_size=30, max_size=34),
)
field_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["#i", "#u", "#f", "#b", "#s", "_", "#none", "#x"]).flatmap(
        lambda tag: st.text(max_size=20).map(lambda rest: tag + rest)
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "HEAD", "PUT"]),
    segment=segments,
    suffix=st.sampled_from(["", "add/", "remove/", "apply/", "rename/", "discard/", "zzz/"]),
    form=st.dictionaries(
        st.sampled_from(["uid", "key", "value", "message", "other", "after", "uid-prefix", "value-prefix"]),
        field_values,
        max_size=5,
    ),
)
async def test_arbitrary_requests_never_make_a_server_error(client, method, segment, suffix, form):
    from urllib.parse import quote

    path = "/history/u/{}/{}".format(quote(segment, safe=""), suffix)
    response = await client.request(method, path, data=form if method in ("POST", "PUT") else None)
    assert response.status_code < 500, (path, form, response.text)
    response = await client.get("/navigate/", params=form)
    assert response.status_code < 500, (form, response.text)
    response = await client.get("/navigate/export.json", params=form)
    assert response.status_code < 500, (form, response.text)
    if method == "POST":
        response = await client.post("/history/change/", data=form)
        assert response.status_code < 500, (form, response.text)
