"""End to end in a real headless Chromium (Debian's chromium + chromedriver,
driven by selenium; no browser download) against found-vnstore on loopback.

Screenshots of every step are kept in $FOUND_VNSTORE_SCREENSHOTS, by default
build/vnstore-screenshots/ (emptied at the start of each run)."""

import asyncio
import json
import os
import re
import shutil

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import found
from found.ext import vnstore
from found.ext.vnstore import server as vnserver
from vnstore_helpers import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


@pytest.fixture(scope="module")
def screenshots():
    """The folder that keeps this run's screenshots."""
    folder = os.environ.get("FOUND_VNSTORE_SCREENSHOTS") or os.path.join(ROOT, "build", "vnstore-screenshots")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


@pytest.fixture
def browser(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_OFFLINE", "true")  # selenium must not look anything up online
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir={}".format(tmp_path / "profile"))
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


class Session:
    """The steps a person takes in the UI, with a screenshot after each."""

    def __init__(self, driver, url, shots, name):
        self.driver = driver
        self.url = url
        self.shots = shots
        self.name = name
        self.count = 0

    def shot(self, name):
        self.count += 1
        path = os.path.join(self.shots, "{}-{:02}-{}.png".format(self.name, self.count, name))
        assert self.driver.save_screenshot(path)
        return path

    def go(self, path):
        self.driver.get(self.url + path)

    def _navigating(self, element):
        """Click ``element`` and wait until the browser shows a new, loaded page.

        The old page is marked with a script variable that only it has; polling
        for the mark (rather than for a stale element) never touches an element
        mid-navigation, where chromedriver may answer with an inspector error
        instead of "stale element"."""
        self.driver.execute_script("window.__found_old_page = true;")
        element.click()
        wait = WebDriverWait(self.driver, 30, ignored_exceptions=(WebDriverException,))
        wait.until(
            lambda driver: driver.execute_script(
                "return window.__found_old_page === undefined && document.readyState === 'complete'"
            )
        )

    def click_link(self, text):
        self._navigating(self.driver.find_element(By.LINK_TEXT, text))

    def click(self, selector):
        self._navigating(self.driver.find_element(By.CSS_SELECTOR, selector))

    def fill(self, fields):
        for name, value in fields.items():
            element = self.driver.find_element(By.NAME, name)
            element.clear()
            element.send_keys(value)

    def submit(self):
        self.click("form button[type=submit]")

    def new_change(self, message):
        self.go("/")
        self.click_link("New change")
        self.fill({"message": message})
        self.submit()
        assert "/history/u/" in self.driver.current_url
        return self.driver.current_url

    def edit(self, link, uid, key, value):
        self.click_link(link)
        self.fill({"uid": uid, "key": key, "value": value})
        self.submit()

    def apply(self):
        self.click_link("Apply…")
        self.click("form.inline button[type=submit]")

    def table(self, name):
        out = []
        for row in self.driver.find_elements(By.CSS_SELECTOR, "table#{} tbody tr".format(name)):
            out.append(tuple(cell.text for cell in row.find_elements(By.TAG_NAME, "td")))
        return out


def test_create_edit_apply_and_navigate_in_chromium(browser, start_server, tmp_path, screenshots):
    server = start_server("--database", str(tmp_path / "db"))
    ui = Session(browser, server.url, screenshots, "flow")

    ui.go("/")
    assert "vnstore" in browser.title
    ui.shot("home")

    # First change: three tuples, applied.
    detail = ui.new_change("Add the first people")
    ui.edit("Add a tuple", "ada", "name", "Ada Lovelace")
    assert browser.current_url == detail
    ui.edit("Add a tuple", "ada", "born", "#i1815")
    ui.edit("Add a tuple", "bob", "name", "Bob")
    assert sorted(ui.table("tuples")) == [
        ("+", "ada", "born", "#i1815"),
        ("+", "ada", "name", "Ada Lovelace"),
        ("+", "bob", "name", "Bob"),
    ]
    ui.shot("change-with-tuples")
    ui.click_link("Apply…")
    ui.shot("apply-confirmation")
    ui.click("form.inline button[type=submit]")
    assert browser.find_element(By.CSS_SELECTOR, ".badge.applied").text == "applied"
    ui.shot("applied")

    # Second change: remove Bob, add a tuple whose value is markup.
    second = ui.new_change("Replace Bob; try some markup")
    ui.edit("Remove a tuple", "bob", "name", "Bob")
    ui.edit("Add a tuple", "eve", "name", "<img src=x onerror=\"document.title='pwned'\">")
    ui.edit("Add a tuple", "eve", "nick", '#s"#eve"')
    ui.edit("Add a tuple", "eve", "name", "#i12x")  # malformed: refused with a message
    assert "#i needs a decimal integer" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    ui.shot("malformed-value")
    browser.get(second)
    ui.apply()
    assert browser.find_element(By.CSS_SELECTOR, ".badge.applied").text == "applied"

    # History shows both, in order.
    ui.click_link("History")
    messages = [row[1] for row in ui.table("changes")]
    assert messages == ["Replace Bob; try some markup", "Add the first people"]  # newest first
    ui.shot("history")

    # Navigate finds what is alive, and only that.
    ui.click_link("Navigate")
    ui.fill({"key": "name"})
    ui.submit()
    assert sorted(ui.table("results")) == [
        ("ada", "name", "Ada Lovelace"),
        ("eve", "name", "<img src=x onerror=\"document.title='pwned'\">"),
    ]
    assert browser.title != "pwned"
    ui.shot("navigate-names")
    ui.fill({"key": "", "uid": "eve"})
    ui.submit()
    assert sorted(ui.table("results"))[0] == ("eve", "name", "<img src=x onerror=\"document.title='pwned'\">")
    assert ("eve", "nick", '#s"#eve"') in ui.table("results")
    # Values are links that navigate further.
    ui.go("/navigate/")
    ui.click_link("#i1815")
    assert ui.table("results") == [("ada", "born", "#i1815")]
    ui.shot("navigate-by-link")
    assert len([name for name in os.listdir(screenshots) if name.startswith("flow-")]) == ui.count


# --- what issue 18 asked for ---------------------------------------------------------------


def seed(database, count):
    """Apply one change of ``count`` tuples (n000, "is", number) and
    (n000, "name", "Person n") through the store API, in the server's directory."""

    async def run():
        db = await found.open(database)
        store = vnserver.make_store()

        async def create(tx):
            changeid = await vnstore.change_create(tx, store)
            await vnstore.change_message(tx, store, changeid, "Seeded {} people".format(count))
            for number in range(count):
                await vnstore.add(tx, store, "n{:03}".format(number), "is", number)
                await vnstore.add(tx, store, "n{:03}".format(number), "name", "Person {}".format(number))
            return changeid

        changeid = await found.transactional(db, create)
        await found.transactional(db, vnstore.change_apply, store, changeid)

    asyncio.run(run())


def no_sideways_scroll(driver):
    return driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def text_past(driver, width):
    """The texts reaching past ``width`` CSS pixels, as "TAG left-right: text" (what widens a narrow page:
    Chromium's mobile layout viewport then grows to the content's width)."""
    return driver.execute_script(
        """
        const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node; (node = walker.nextNode());) {
            const range = document.createRange();
            range.selectNodeContents(node);
            const box = range.getBoundingClientRect();
            if (box.right > arguments[0] + 0.5)
                out.push(node.parentElement.tagName + " " + box.left.toFixed(0) + "-" + box.right.toFixed(0) + ": "
                         + node.textContent.trim().slice(0, 80));
        }
        return out;""",
        width,
    )


def set_width(driver, width):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def set_dark(driver, dark):
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
    )


def background(driver):
    """The body's background colour as (r, g, b)."""
    text = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_rename_discard_times_paging_prefix_export_dark_and_narrow_in_chromium(
    browser, start_server, tmp_path, screenshots
):
    database = str(tmp_path / "db")
    server = start_server("--database", database)
    seed(database, 60)
    ui = Session(browser, server.url, screenshots, "issue18")

    # Rename a pending change.
    detail = ui.new_change("Draft title")
    ui.edit("Add a tuple", "ada", "name", "Ada Lovelace")
    ui.click_link("Rename…")
    ui.fill({"message": "Add Ada"})
    ui.shot("rename-form")
    ui.submit()
    assert browser.current_url == detail
    assert browser.find_element(By.TAG_NAME, "h1").text == "Add Ada"

    # Local times, the versionstamp on hover.
    ui.apply()
    applied = browser.find_elements(By.CSS_SELECTOR, "dl.facts time")
    assert len(applied) == 2  # started, applied
    for element in applied:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*", element.text), element.text
        assert re.fullmatch(r"versionstamp \d+\.\d+\.\d+", element.get_attribute("title"))
    ui.shot("applied-with-local-times")

    # Discard a pending change.
    ui.new_change("A mistake")
    ui.edit("Add a tuple", "oops", "is", "wrong")
    ui.click_link("Discard…")
    ui.shot("discard-confirmation")
    ui.click("form.inline button[type=submit]")
    assert "was discarded" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    assert "A mistake" not in browser.page_source
    ui.shot("history-after-discard")

    # Navigate: pages by cursor through all 121 tuples.
    ui.click_link("Navigate")
    seen = []
    while True:
        page = ui.table("results")
        assert len(page) <= 42
        seen += page
        links = browser.find_elements(By.LINK_TEXT, "Next page")
        if not links:
            break
        if len(seen) == 42:
            ui.shot("navigate-first-page")
        ui._navigating(links[0])
    assert len(seen) == len(set(seen)) == 121
    ui.shot("navigate-last-page")

    # Prefix search.
    ui.go("/navigate/")
    ui.fill({"value": "Person 1"})
    browser.find_element(By.NAME, "value-prefix").click()
    ui.submit()
    values = sorted(row[2] for row in ui.table("results"))
    assert values == sorted(["Person 1"] + ["Person 1{}".format(n) for n in range(10)])
    ui.shot("navigate-prefix")

    # JSON export of that search.
    href = browser.find_element(By.ID, "export").get_attribute("href")
    document = json.loads(httpx.get(href).content)
    assert sorted(t["value"] for t in document["tuples"]) == values and document["complete"] is True

    # Dark mode follows the system setting.
    light = background(browser)
    set_dark(browser, True)
    ui.go("/history/")
    dark = background(browser)
    assert sum(dark) < 150 < sum(light), (dark, light)
    ui.shot("history-dark")
    browser.get(detail)
    ui.shot("change-dark")

    # 390 px wide: no page scrolls sideways.
    set_dark(browser, False)
    set_width(browser, 390)
    for path, name in [
        ("/", "home"),
        ("/history/", "history"),
        (detail[len(server.url) :], "change"),
        ("/navigate/?uid=n0&uid-prefix=on", "navigate"),
        (detail[len(server.url) :] + "add/", "add-form"),
    ]:
        ui.go(path)
        assert browser.execute_script("return window.innerWidth") == 390, (path, text_past(browser, 390))
        assert no_sideways_scroll(browser), path
        ui.shot("narrow-" + name)
    ui.go("/navigate/?uid=n0&uid-prefix=on")
    browser.execute_script("document.getElementById('results').scrollIntoView()")
    ui.shot("narrow-navigate-results")
    set_dark(browser, True)
    ui.go("/navigate/?uid=n0&uid-prefix=on")
    assert no_sideways_scroll(browser)
    browser.execute_script("document.getElementById('results').scrollIntoView()")
    ui.shot("narrow-navigate-results-dark")


def test_a_long_database_path_wraps_on_a_narrow_screen(browser, start_server, tmp_path):
    # The home page names the database; a path is one long word. Under
    # Bazel the test's own path (71 characters) widened the page to 472 px.
    database = tmp_path / "a_database_directory_whose_name_is_wider_than_a_phone"
    database.mkdir()
    server = start_server("--database", str(database))
    set_width(browser, 390)
    browser.get(server.url)
    assert str(database) in browser.find_element(By.TAG_NAME, "main").text
    assert browser.execute_script("return window.innerWidth") == 390, text_past(browser, 390)
    assert no_sideways_scroll(browser)
