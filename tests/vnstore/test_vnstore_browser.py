"""End to end in a real headless Chromium (Debian's chromium + chromedriver,
driven by selenium; no browser download) against found-vnstore on loopback."""
import os

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900",
]


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

    def __init__(self, driver, url, shots):
        self.driver = driver
        self.url = url
        self.shots = shots
        self.count = 0

    def shot(self, name):
        self.count += 1
        path = os.path.join(self.shots, "{:02}-{}.png".format(self.count, name))
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
        wait.until(lambda driver: driver.execute_script(
            "return window.__found_old_page === undefined && document.readyState === 'complete'"))

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


def test_create_edit_apply_and_navigate_in_chromium(browser, start_server, tmp_path):
    server = start_server("--database", str(tmp_path / "db"))
    shots = tmp_path / "screenshots"
    shots.mkdir()
    ui = Session(browser, server.url, str(shots))

    ui.go("/")
    assert "vnstore" in browser.title
    ui.shot("home")

    # First change: three tuples, applied.
    detail = ui.new_change("Add the first people")
    ui.edit("Add a tuple", "ada", "name", "Ada Lovelace")
    assert browser.current_url == detail
    ui.edit("Add a tuple", "ada", "born", "#i1815")
    ui.edit("Add a tuple", "bob", "name", "Bob")
    assert sorted(ui.table("tuples")) == [("+", "ada", "born", "#i1815"), ("+", "ada", "name", "Ada Lovelace"),
                                  ("+", "bob", "name", "Bob")]
    ui.shot("change-with-tuples")
    ui.click_link("Apply…")
    ui.shot("apply-confirmation")
    ui.click("form.inline button[type=submit]")
    assert browser.find_element(By.CSS_SELECTOR, ".badge.applied").text == "applied"
    ui.shot("applied")

    # Second change: remove Bob, add a tuple whose value is markup.
    second = ui.new_change("Replace Bob; try some markup")
    ui.edit("Remove a tuple", "bob", "name", "Bob")
    ui.edit("Add a tuple", "eve", "name", '<img src=x onerror="document.title=\'pwned\'">')
    ui.edit("Add a tuple", "eve", "nick", "#s\"#eve\"")
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
    assert sorted(ui.table("results")) == [("ada", "name", "Ada Lovelace"),
                                  ("eve", "name", '<img src=x onerror="document.title=\'pwned\'">')]
    assert browser.title != "pwned"
    ui.shot("navigate-names")
    ui.fill({"key": "", "uid": "eve"})
    ui.submit()
    assert sorted(ui.table("results"))[0] == ("eve", "name", '<img src=x onerror="document.title=\'pwned\'">')
    assert ("eve", "nick", '#s"#eve"') in ui.table("results")
    # Values are links that navigate further.
    ui.go("/navigate/")
    ui.click_link("#i1815")
    assert ui.table("results") == [("ada", "born", "#i1815")]
    ui.shot("navigate-by-link")
    assert len(os.listdir(shots)) == ui.count
