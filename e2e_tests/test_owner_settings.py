"""The settings panel (``web/settings.mjs``) where a site owner pastes their public usage
key: operated by keyboard alone, a secret key refused, the key kept across reloads in
localStorage and accepted by the real usage service; no serious axe-core violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Route

from axe import assert_no_serious_violations
from usage_keys import create_key
from usage_service.app import create_app
from usage_service.server import ServiceThread

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
#: A page of the site that holds nothing but the panel.
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Settings</title>
</head><body><main><h1>Settings</h1><div id="box"></div></main>
<script type="module">
import { mountSettings, getApiKey } from "./settings.mjs";
mountSettings(document.getElementById("box"));
window.getApiKey = getApiKey;
window.keyEvents = [];
addEventListener("pwc-api-key-change", (e) => keyEvents.push(e.detail.apiKey));
</script></body></html>"""
#: The service's URL and the key pair it knows.
Site = tuple[str, dict[str, str]]
SEND_EVENT = """(apiKey) => fetch("/api/track/register-usage-point", {method: "POST",
  headers: {"Content-Type": "application/json"}, body: JSON.stringify({
  event: "webcodec-conversion", apiKey, host: location.origin, succeeded: true})})
  .then((r) => r.status)"""


@pytest.fixture
def site(static_dir: Path, tmp_path: Path) -> Iterator[Site]:
    database = f"sqlite:///{tmp_path / 'usage.sqlite3'}"
    app = create_app(database, static_dir=str(static_dir), ip_limit=None, key_limit=None)
    with ServiceThread(app) as thread:
        yield thread.url, create_key(database, "owner")


def test_a_site_owner_sets_the_key_in_the_page(browser: Browser, site: Site) -> None:
    url, keys = site
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()

    def settings_page(route: Route) -> None:
        route.fulfill(body=PAGE, content_type="text/html")

    page.route(f"{url}/settings-test.html", settings_page)
    page.goto(f"{url}/settings-test.html")
    page.wait_for_selector("details.pwc-settings")
    assert page.evaluate("getApiKey()") is None

    page.keyboard.press("Tab")  # the panel's summary
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # its key field
    field = page.get_by_label("Public usage key")
    assert page.evaluate("document.activeElement.id") == field.get_attribute("id")
    page.keyboard.type(keys["secret_key"])
    page.keyboard.press("Enter")
    assert "secret key" in page.get_by_role("status").inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate("[getApiKey(), localStorage.length, keyEvents]") == [None, 0, []]
    assert_no_serious_violations(page, "secret key refused")

    field.fill("")
    field.focus()
    page.keyboard.type(keys["public_key"])
    page.keyboard.press("Enter")
    assert page.get_by_role("status").inner_text().startswith("Saved.")
    assert page.evaluate("[getApiKey(), keyEvents]") == [keys["public_key"], [keys["public_key"]]]
    assert_no_serious_violations(page, "key saved")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "owner-settings-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    page.reload()
    page.wait_for_selector("details.pwc-settings")
    assert page.evaluate("getApiKey()") == keys["public_key"]
    assert page.evaluate(SEND_EVENT, page.evaluate("getApiKey()")) == 200
    usage = httpx.post(f"{url}/api/track/get-usage", json={"apiKey": keys["secret_key"]}).json()
    assert usage["counts"]["webcodec-conversion"]["development"] == 1  # loopback page

    page.get_by_text("Site owner: usage key").click()
    page.get_by_role("button", name="Remove key").click()
    assert page.evaluate("[getApiKey(), localStorage.length]") == [None, 0]
    assert "without one" in page.get_by_role("status").inner_text()
    context.close()
