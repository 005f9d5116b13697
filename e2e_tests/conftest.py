"""Fixtures for the end-to-end tests: the built site, one shared Chromium, the engine page.

Everything is real: Debian's Chromium with its WebCodecs, Pyodide from the built site,
HTTP on loopback. The built site must exist (``build_scripts/setup.sh`` builds it); a
missing site is a failure, never a skip.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from pywebcodecs_host.browser import launch_options  # noqa: E402
from pywebcodecs_host.headless import HeadlessEngine  # noqa: E402
from time_limits import limit_time  # noqa: E402

#: The built site under test: ``$PYWEBCODECS_STATIC`` (a build of its own, so that work on
#: the tree does not change the site under a running test), else ``static/``.
STATIC = Path(os.environ.get("PYWEBCODECS_STATIC") or REPO / "static")
#: Booting Pyodide and converting a few seconds of media in Chromium takes well under a
#: minute; five leave room for a loaded 2-core machine and the first test's browser start.
E2E_TEST_SECONDS = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    limit_time(items, Path(__file__).resolve().parent, E2E_TEST_SECONDS)


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Terminal commands run by any test (the CLI's, the README's) keep Chromium's profile
    in one folder of the test session, never in the home folder's cache
    (``$PYWEBCODECS_CACHE``; the commands inherit the environment)."""
    monkeypatch.setenv("PYWEBCODECS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def static_dir() -> Path:
    if not (STATIC / "runner.html").exists():
        pytest.fail("static/ is not built: run build_scripts/setup.sh (the test command does)")
    return STATIC


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def engine(static_dir: Path, browser: Browser) -> Iterator[HeadlessEngine]:
    with HeadlessEngine(static_dir, browser=browser) as engine:
        yield engine
