"""The key owner's dashboard and the operator's view in real Chromium, on a phone and a
desktop: readable without sideways scrolling, no missing favicon, no serious axe-core
violation in any state (light and dark), and origins that send events without a key
counted as such. Events go to the real service over real HTTP (SQLite); screenshots land
in ``test-artifacts/`` (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Response

from axe import assert_no_serious_violations
from usage_keys import create_key
from usage_service.app import create_app
from usage_service.server import ServiceThread

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TRACK = "/api/track/register-usage-point"
ADMIN_TOKEN = "operator-token-for-tests"
Screen = tuple[str, int, int, str]
#: (name, width, height, colour scheme): a desktop in light mode, a phone in dark mode.
SCREENS: list[Screen] = [("desktop", 1280, 800, "light"), ("phone", 390, 844, "dark")]


@dataclass
class Site:
    url: str
    public_key: str
    secret_key: str


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    database = f"sqlite:///{tmp_path / 'usage.sqlite3'}"
    keys = create_key(database, "Example site")
    app = create_app(database, admin_token=ADMIN_TOKEN, ip_limit=None, login_limit=None)
    with ServiceThread(app) as thread:
        yield Site(thread.url, keys["public_key"], keys["secret_key"])


def send(site: Site, host: str, api_key: str | None, succeeded: bool = True) -> None:
    event = {"event": "webcodec-conversion", "apiKey": api_key, "host": host,
             "succeeded": succeeded}  # fmt: skip
    response = httpx.post(site.url + TRACK, json=event, timeout=10)
    assert response.status_code == 200, response.text


def open_page(browser: Browser, url: str, screen: Screen) -> tuple[Page, list[str]]:
    """The page at ``url`` on ``screen``; the list collects every failed request."""
    _, width, height, scheme = screen
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=scheme)  # type: ignore[arg-type]  # fmt: skip
    page = context.new_page()
    failed: list[str] = []

    def check(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", check)
    page.goto(url)
    return page, failed


def assert_fits_the_screen(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways: {width[0]} px in {width[1]}"


def assert_has_its_icon(page: Page) -> None:
    icon = page.evaluate("""async () => {
      const link = document.querySelector('link[rel="icon"]');
      const response = await fetch(link.href);
      return [response.status, response.headers.get("content-type"), await response.text()];
    }""")
    assert icon[0] == 200 and icon[1].startswith("image/svg+xml") and "<svg" in icon[2], icon


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("screen", SCREENS, ids=[s[0] for s in SCREENS])
def test_the_dashboard_fits_the_screen_and_is_accessible(
    browser: Browser, site: Site, screen: Screen
) -> None:
    for day_host in ("https://shop.example", "https://shop.example", "http://localhost:3000"):
        send(site, day_host, site.public_key)
    send(site, "https://shop.example", site.public_key, succeeded=False)
    page, failed = open_page(browser, f"{site.url}/dashboard", screen)
    assert_has_its_icon(page)
    assert_no_serious_violations(page, "login")
    assert_fits_the_screen(page)
    screenshot(page, f"dashboard-login-{screen[0]}")

    page.get_by_label("Secret key").fill(site.secret_key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#chart rect")
    assert page.evaluate("document.activeElement.id") == "report-heading"
    label = page.get_attribute("#chart", "aria-label") or ""
    assert "2 billable, 1 development, 1 failed" in label, label
    origins = page.locator("#origins tr")
    assert origins.count() == 2
    assert origins.nth(1).inner_text().split() == ["https://shop.example", "2", "0", "1"]
    chart_width = page.evaluate("document.getElementById('chart').getBoundingClientRect().width")
    assert chart_width <= screen[1]
    assert_no_serious_violations(page, "logged in with data")
    assert_fits_the_screen(page)
    screenshot(page, f"dashboard-report-{screen[0]}")
    assert failed == []
    page.context.close()


@pytest.mark.parametrize("screen", SCREENS, ids=[s[0] for s in SCREENS])
def test_the_admin_view_counts_origins_without_a_key(
    browser: Browser, site: Site, screen: Screen
) -> None:
    for _ in range(3):
        send(site, "https://no-key.example", None)
    send(site, "https://no-key.example", None, succeeded=False)
    send(site, "https://keyed.example", site.public_key)
    # An origin whose site added its key later: some events with it, some without.
    send(site, "https://mixed.example", None)
    send(site, "https://mixed.example", site.public_key)
    page, failed = open_page(browser, f"{site.url}/admin", screen)
    # And one key-less event sent by the browser itself, with its Origin header.
    status = page.evaluate(
        """(track) => fetch(track, {method: "POST", headers: {"Content-Type": "application/json"},
             body: JSON.stringify({event: "webcodec-conversion", apiKey: null,
                                   host: location.origin, succeeded: true})})
           .then((r) => r.status)""",
        TRACK,
    )
    assert status == 200
    assert_has_its_icon(page)
    assert_no_serious_violations(page, "login")
    screenshot(page, f"admin-login-{screen[0]}")

    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#origins tr")
    assert page.evaluate("document.activeElement.id") == "summary"
    summary = page.inner_text("#summary")
    assert summary == "4 origins, 3 with events sent without a key", summary
    rows = {
        cells[0]: cells
        for cells in page.eval_on_selector_all(
            "#origins tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
    }
    assert rows["https://no-key.example"][1:5] == ["3", "0", "1", "4"]
    assert rows["https://no-key.example"][7] == "no key"
    assert rows["https://mixed.example"][4:5] + rows["https://mixed.example"][7:] == [
        "1",
        "some without",
    ]
    assert rows["https://keyed.example"][4:5] + rows["https://keyed.example"][7:] == [
        "0",
        "with key",
    ]
    assert rows[site.url][3:5] == ["0", "1"] and rows[site.url][2] == "1"  # development
    assert_no_serious_violations(page, "list of origins")
    assert_fits_the_screen(page)
    screenshot(page, f"admin-list-{screen[0]}")
    assert failed == []
    page.context.close()
