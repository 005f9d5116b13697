"""The site as an installed app: Chromium finds it installable, and a rebuild reaches
users who already have it (the service worker notices the new build, the page offers
"Reload to update", and after the reload the new files are served)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.request import urlopen

from playwright.sync_api import Browser, Page, Playwright

from axe import assert_no_serious_violations
from oracle import ffprobe_streams
from pywebcodecs_host.browser import launch_options
from pywebcodecs_host.site_server import SiteServer

REPO = Path(__file__).resolve().parents[1]
INSTALL_MS = 60_000
#: Records the page's update events before any of its own scripts run.
COUNT_UPDATE_EVENTS = """
  window.updateEvents = 0;
  window.addEventListener("pwc-update-available", () => { window.updateEvents += 1; });
"""


def open_installed(browser: Browser, url: str) -> Page:
    """The page once its service worker controls it (every file is then cached)."""
    page = browser.new_context().new_page()
    page.add_init_script(COUNT_UPDATE_EVENTS)
    page.goto(url)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=INSTALL_MS)
    return page


def text_of(page: Page, path: str) -> str:
    """``path`` as the page gets it (through its service worker)."""
    return str(page.evaluate("(path) => fetch(path).then((r) => r.text())", path))


def test_the_app_is_installable(playwright: Playwright, static_dir: Path, tmp_path: Path) -> None:
    # A profile on disk: Chromium does not install apps from an incognito context, which is
    # what a plain Playwright context is.
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile",
        **launch_options(),  # type: ignore[arg-type]
    )
    with SiteServer(static_dir) as site, context:
        page = context.new_page()
        page.goto(f"{site.url}/index.html")
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=INSTALL_MS)
        session = page.context.new_cdp_session(page)
        manifest = session.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        assert session.send("Page.getInstallabilityErrors")["installabilityErrors"] == []

        fields = json.loads(manifest["data"])
        assert fields["name"] and fields["short_name"] and fields["display"] == "standalone"
        assert fields["start_url"] == "./" and fields["scope"] == "./"
        pngs = {
            icon["sizes"]: icon["src"] for icon in fields["icons"] if icon["type"] == "image/png"
        }
        assert set(pngs) == {"192x192", "512x512"}, fields["icons"]
        for sizes, src in pngs.items():
            # Fetched over HTTP and measured by ffprobe, not by the build that drew it.
            icon = tmp_path / f"icon-{sizes}.png"
            with urlopen(f"{site.url}/{src.removeprefix('./')}", timeout=10) as response:
                assert response.headers["Content-Type"] == "image/png"
                icon.write_bytes(response.read())
            (stream,) = ffprobe_streams(icon)
            assert f"{stream['width']}x{stream['height']}" == sizes
            assert stream["pix_fmt"] == "rgba"  # the rounded corners are transparent


def test_a_rebuild_is_offered_as_an_update(browser: Browser, static_dir: Path,
                                           tmp_path: Path) -> None:  # fmt: skip
    copy = tmp_path / "site"
    shutil.copytree(static_dir, copy)
    with SiteServer(copy) as site:
        page = open_installed(browser, f"{site.url}/index.html")
        first_build = page.evaluate("caches.keys()")
        assert len(first_build) == 1
        assert "build two" not in text_of(page, "./app.css")

        # A new build: one file changes, and the build re-hashes the site into sw.js.
        with (copy / "app.css").open("a") as css:
            css.write("\n/* build two */\n")
        old_worker = (copy / "sw.js").read_bytes()
        subprocess.run([sys.executable, str(REPO / "build_scripts" / "build_site.py"),
                        "--restamp", str(copy)], check=True, timeout=60)  # fmt: skip
        assert (copy / "sw.js").read_bytes() != old_worker
        # The installed version keeps serving its own files until the user agrees.
        assert "build two" not in text_of(page, "./app.css")

        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        banner = page.locator("#pwc-update")
        reload = banner.get_by_role("button", name="Reload to update")
        reload.wait_for(timeout=INSTALL_MS)
        assert banner.get_attribute("role") == "status"
        assert "new version" in banner.inner_text()
        assert page.evaluate("window.updateEvents") == 1
        assert_no_serious_violations(page, "update offered", include="#pwc-update")

        with page.expect_navigation(timeout=INSTALL_MS):
            reload.focus()
            page.keyboard.press("Enter")
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=INSTALL_MS)
        assert "build two" in text_of(page, "./app.css")
        second_build = page.evaluate("caches.keys()")
        assert len(second_build) == 1 and second_build != first_build
        assert page.locator("#pwc-update button").count() == 0
        page.context.close()
