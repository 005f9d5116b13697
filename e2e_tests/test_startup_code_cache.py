"""A repeat visit of the converter page reuses Pyodide's compiled wasm.

Chromium keeps a wasm module's machine code across visits (its code cache) when a page
compiled it, but not when a dedicated worker did, so the page compiles Pyodide's wasm and
hands it to its Worker (engine-client.mjs, engine.mjs). Counted in Chromium's trace, not
timed: a boot that does not reuse the code compiles about 2800 functions as they are first
called (``wasm.CompileLazy``), one that does a handful.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from app_page import ENGINE_BOOT_MS
from pywebcodecs_host.site_server import SiteServer

#: Lazy compiles a boot that reused the code may still do (3 seen in Chromium 156).
REUSED = 100
#: Chromium writes the code cache a little after the code was optimised: repeat visits
#: tried, each after this wait.
REPEATS, WAIT_MS = 3, 3_000


def lazy_compiles(browser: Browser, page: Page, url: str) -> int:
    """How many wasm functions the page's engine compiled lazily while booting."""
    browser.start_tracing(categories=["v8.wasm"])
    try:
        page.goto(url)
        page.wait_for_selector("body[data-engine=ready]", timeout=ENGINE_BOOT_MS)
    finally:
        trace = json.loads(browser.stop_tracing())
    return sum(event["name"] == "wasm.CompileLazy" for event in trace["traceEvents"])


@pytest.mark.timeout(240)
def test_a_repeat_visit_reuses_pyodides_compiled_wasm(browser: Browser, static_dir: Path) -> None:
    with SiteServer(static_dir) as site:
        context = browser.new_context()
        page = context.new_page()
        first = lazy_compiles(browser, page, f"{site.url}/")
        assert first > 1000, f"the trace shows {first} lazy compiles on a first visit"
        page.wait_for_function("navigator.serviceWorker.controller !== null",
                               timeout=ENGINE_BOOT_MS)  # fmt: skip
        repeats = []
        for _ in range(REPEATS):
            page.wait_for_timeout(WAIT_MS)
            repeats.append(lazy_compiles(browser, page, f"{site.url}/"))
            if repeats[-1] < REUSED:
                break
        context.close()
    assert repeats[-1] < REUSED, f"lazy compiles: first visit {first}, repeat visits {repeats}"
