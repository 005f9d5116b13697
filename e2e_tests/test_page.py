"""The page as a person uses it: choose a file, convert, preview, download, offline.

The scenarios of a conversion going wrong or being interrupted are in
``test_page_scenarios.py``."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from playwright.sync_api import Browser, Page, Request

from app_page import ENGINE_BOOT_MS, record_state, wait_for_file, wait_for_state
from media import summarize
from oracle import FIXTURES, decode_errors
from pywebcodecs_host.site_server import SiteServer


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


def convert_to_vp8_and_download(page: Page, tmp_path: Path) -> Path:
    """Choose the fixture, convert it to VP8 WebM and save the download; checks what the page
    shows on the way and the saved file with ffprobe/ffmpeg."""
    page.set_input_files("#file-input", str(FIXTURES / "frames.webm"))
    assert wait_for_file(page, "frames.webm") == "ready"
    assert "vp9" in page.inner_text("#info-body")
    assert "1080\u00d71080" in page.inner_text("#info-body")
    page.select_option("#track-1", "vp8")
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    assert page.is_visible("#result")
    with page.expect_download() as download:
        page.click("#download")
    # Never the input's own name: the same container gets a suffix.
    assert download.value.suggested_filename == "frames-converted.webm"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert summarize(saved)["video"].codec == "vp8"
    assert summarize(saved)["video"].packets == summarize(FIXTURES / "frames.webm")["video"].packets
    assert decode_errors(saved) == ""
    assert page.inner_text("#status") == "Done."
    return saved


def test_choose_convert_preview_and_download(browser: Browser, static_dir: Path,
                                             tmp_path: Path) -> None:  # fmt: skip
    with SiteServer(static_dir) as site:
        page, foreign = open_page(browser, site)
        convert_to_vp8_and_download(page, tmp_path)
        page.wait_for_function("document.querySelector('#preview').readyState >= 1")
        assert page.inner_text("#result-tracks") == "Track 1 (video): VP9 \u2192 VP8"
        record_state(page, "done")
        assert foreign == []
        page.context.close()


def test_a_broken_file_shows_where_it_is_broken(browser: Browser, static_dir: Path,
                                                tmp_path: Path) -> None:  # fmt: skip
    data = (FIXTURES / "frames.webm").read_bytes()
    broken = tmp_path / "broken.webm"
    broken.write_bytes(data[:300])
    # The cut falls inside the Tracks element: the last place its ID (16 54 AE 6B) occurs
    # before the cut (the SeekHead names the same ID earlier). That is where it is broken.
    tracks_at = data.rindex(bytes.fromhex("1654AE6B"), 0, 300)
    with SiteServer(static_dir) as site:
        page, _ = open_page(browser, site)
        page.set_input_files("#file-input", str(broken))
        state = wait_for_file(page, "broken.webm")
        error_shown = page.is_visible("#info-body .error")
        tables = page.locator("#info-body table").count()
        options_hidden = page.is_hidden("#options")
        plain = page.inner_text("#info-body .error")
        # The technical detail is one click away.
        detail_hidden = page.is_hidden("#info-body details pre")
        page.click("#info-body details summary")
        text = page.inner_text("#info-body details pre")
        record_state(page, "unreadable")
        page.context.close()
    assert (state, error_shown, tables, options_hidden) == ("failed", True, 0, True), plain
    assert detail_hidden
    assert "broken.webm" in plain and "damaged" in plain
    assert "byte" not in plain, plain
    assert "broken.webm" in text and text.startswith("FormatError: ")
    offset = re.search(r"at byte (\d+)", text)
    assert offset is not None and tracks_at <= int(offset[1]) < 300, text


def test_the_installed_app_works_offline(browser: Browser, static_dir: Path,
                                         tmp_path: Path) -> None:  # fmt: skip
    with SiteServer(static_dir) as site:
        page, _ = open_page(browser, site)
        # The service worker has cached every file once it controls the page.
        page.wait_for_function("navigator.serviceWorker.controller !== null",
                               timeout=ENGINE_BOOT_MS)  # fmt: skip
        site.close()
        with pytest.raises(OSError):
            urlopen(f"{site.url}/index.html", timeout=5)
        page.context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-engine=ready]", timeout=ENGINE_BOOT_MS)
        assert page.evaluate("navigator.onLine") is False
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        convert_to_vp8_and_download(page, tmp_path)
        page.context.close()
