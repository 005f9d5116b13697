"""The page as a person uses it: choose a file, convert, preview, download, offline."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Request

from media import summarize
from oracle import FIXTURES, decode_errors
from pywebcodecs_host.site_server import SiteServer

ENGINE_BOOT_MS = 120_000
CONVERT_MS = 240_000


def open_page(browser: Browser, site: SiteServer) -> tuple[Page, list[str]]:
    """The app page once its engine is ready; the list collects every request outside the site."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    foreign: list[str] = []
    origin = urlsplit(site.url).netloc

    def check(request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("http", "https") and url.netloc != origin:
            foreign.append(request.url)

    page.on("request", check)
    page.goto(f"{site.url}/index.html")
    page.wait_for_selector("body[data-engine=ready]", timeout=ENGINE_BOOT_MS)
    return page, foreign


def test_choose_convert_preview_and_download(browser: Browser, static_dir: Path,
                                             tmp_path: Path) -> None:  # fmt: skip
    with SiteServer(static_dir) as site:
        page, foreign = open_page(browser, site)
        page.set_input_files("#file-input", str(FIXTURES / "frames.webm"))
        page.wait_for_selector("#info-body table")
        assert "vp9" in page.inner_text("#info-body")
        assert "1080\u00d71080" in page.inner_text("#info-body")
        page.select_option("#video-codec", "vp8")
        page.click("#convert")
        page.wait_for_selector("#result:not([hidden])", timeout=CONVERT_MS)
        page.wait_for_function("document.querySelector('#preview').readyState >= 1")
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#download")
        saved = tmp_path / "frames.webm"
        download.value.save_as(saved)
        assert download.value.suggested_filename == "frames.webm"
        assert summarize(saved)["video"].codec == "vp8"
        assert (
            summarize(saved)["video"].packets
            == summarize(FIXTURES / "frames.webm")["video"].packets
        )
        assert decode_errors(saved) == ""
        assert page.inner_text("#status") == "Done."
        assert foreign == []
        page.context.close()


def test_a_broken_file_shows_where_it_is_broken(browser: Browser, static_dir: Path,
                                                tmp_path: Path) -> None:  # fmt: skip
    broken = tmp_path / "broken.webm"
    broken.write_bytes((FIXTURES / "frames.webm").read_bytes()[:300])
    with SiteServer(static_dir) as site:
        page, _ = open_page(browser, site)
        page.set_input_files("#file-input", str(broken))
        page.wait_for_selector("#info-body .error, #info-body table")
        text = page.inner_text("#info-body")
        page.context.close()
    assert "broken.webm" in text


def test_the_installed_app_works_offline(browser: Browser, static_dir: Path) -> None:
    with SiteServer(static_dir) as site:
        page, _ = open_page(browser, site)
        page.wait_for_function(
            "navigator.serviceWorker.controller !== null || "
            "navigator.serviceWorker.ready.then(() => true)",
            timeout=ENGINE_BOOT_MS,
        )
        page.evaluate("navigator.serviceWorker.ready")
        page.wait_for_function("caches.keys().then(k => k.length > 0)", timeout=ENGINE_BOOT_MS)
        page.context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-engine=ready]", timeout=ENGINE_BOOT_MS)
        page.set_input_files("#file-input", str(FIXTURES / "frames.webm"))
        page.wait_for_selector("#info-body table")
        page.context.close()
