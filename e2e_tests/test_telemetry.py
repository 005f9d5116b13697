"""Usage telemetry end to end: the page and the usage service on one origin, real Chromium,
real HTTP, a real SQLite database; the service's own counts are the oracle. Also Remotion's
own ``@remotion/webcodecs`` 4.0.398, unmodified, reporting to this service."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route
from playwright.sync_api import Error as PlaywrightError

from oracle import FIXTURES, REPO
from pywebcodecs_host.browser import launch_options
from usage_keys import create_key
from usage_service.app import create_app
from usage_service.server import ServiceThread

ENDPOINT = "**/api/track/register-usage-point"
BOOT_MS = 120_000
CONVERT_MS = 240_000
COUNT_OUTBOX = """() => new Promise((resolve) => {
  const open = indexedDB.open("pywebcodecs-usage", 1);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains("pending")) { db.close(); resolve(0); return; }
    const count = db.transaction("pending").objectStore("pending").count();
    count.onsuccess = () => { db.close(); resolve(count.result); };
  };
  open.onerror = () => resolve(-1);
})"""


@dataclass
class UsageSite:
    url: str
    database: str
    public_key: str
    secret_key: str

    def usage(self) -> dict[str, int]:
        response = httpx.post(f"{self.url}/api/track/get-usage",
                              json={"apiKey": self.secret_key})  # fmt: skip
        response.raise_for_status()
        return dict(response.json()["counts"]["webcodec-conversion"])

    def wait_for_usage(self, expected: dict[str, int], timeout: float = 30) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            counts = self.usage()
            if all(counts.get(k, 0) >= v for k, v in expected.items()):
                return counts
            if time.monotonic() > deadline:
                return counts
            time.sleep(0.2)


@pytest.fixture
def usage_site(static_dir: Path, tmp_path: Path) -> Iterator[UsageSite]:
    database = f"sqlite:///{tmp_path / 'usage.sqlite3'}"
    keys = create_key(database)
    app = create_app(database, static_dir=str(static_dir), ip_limit=None, key_limit=None)
    with ServiceThread(app) as service:
        yield UsageSite(service.url, database, keys["public_key"], keys["secret_key"])


def usage_events_sent(page: Page) -> list[dict[str, Any]]:
    """A list that collects the usage events ``page`` posts, to any service."""
    events: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            events.append(json.loads(r.post_data or "{}"))
            if r.url.endswith("/register-usage-point") and r.method == "POST"
            else None
        ),
    )
    return events


def open_app(context: BrowserContext, url: str, api_key: str) -> tuple[Page, list[dict[str, Any]]]:
    """The app page, engine ready, with the key set; the list collects usage events sent."""
    page = context.new_page()
    events = usage_events_sent(page)
    page.goto(f"{url}/index.html")
    page.wait_for_selector("body[data-engine=ready]", timeout=BOOT_MS)
    page.evaluate("(key) => { document.body.dataset.apiKey = key; }", api_key)
    return page, events


def convert(page: Page, path: Path) -> str:
    """Choose ``path``, convert it to WebM, and return the status line at the end."""
    page.set_input_files("#file-input", str(path))
    page.wait_for_selector("#info-body table")
    page.click("#convert")
    page.wait_for_function(
        "['Done.', 'Cancelled.'].includes(document.querySelector('#status').textContent)"
        " || document.querySelector('#status').className === 'error'",
        timeout=CONVERT_MS,
    )
    return page.inner_text("#status")


WORKER_CONVERT = """(apiKey) => new Promise((resolve) => {
  const worker = new Worker("./convert-worker.mjs", { type: "module" });
  const file = document.querySelector("#file-input").files[0];
  worker.onmessage = ({ data }) => {
    if (data.progress) return;
    resolve({ ok: data.ok, error: data.error ?? null,
              frames: data.summary ? data.summary.video_frames : 0,
              size: data.blob ? data.blob.size : 0 });
  };
  worker.onerror = (e) => resolve({ ok: false, error: String(e.message) });
  worker.postMessage({ id: 1, file, container: "webm", videoCodec: "vp8", apiKey });
})"""


def convert_in_worker(page: Page, path: Path, api_key: str) -> dict[str, Any]:
    """Convert ``path`` with the engine in a module Web Worker (no window there)."""
    page.set_input_files("#file-input", str(path))
    answer: dict[str, Any] = page.evaluate(WORKER_CONVERT, api_key)
    return answer


def test_a_conversion_sends_one_event_with_the_page_origin(
    browser: Browser, usage_site: UsageSite
) -> None:
    context = browser.new_context()
    page, events = open_app(context, usage_site.url, usage_site.public_key)
    assert convert(page, FIXTURES / "frames.webm") == "Done."
    counts = usage_site.wait_for_usage({"development": 1})
    context.close()
    assert counts == {"billable": 0, "development": 1, "failed": 0}
    assert len(events) == 1
    (event,) = events
    assert event["host"] == usage_site.url
    assert event["succeeded"] is True and event["apiKey"] == usage_site.public_key
    assert event["event"] == "webcodec-conversion" and len(event["eventId"]) >= 32
    assert set(event) == {"event", "apiKey", "host", "succeeded", "eventId"}  # no user data


def test_a_failed_conversion_is_counted_as_failed(browser: Browser, usage_site: UsageSite,
                                                  tmp_path: Path) -> None:  # fmt: skip
    garbage = tmp_path / "garbage.webm"
    garbage.write_bytes(b"\x1a\x45\xdf\xa3" + b"\xff" * 500)
    context = browser.new_context()
    page, _ = open_app(context, usage_site.url, usage_site.public_key)
    answer = convert_in_worker(page, garbage, usage_site.public_key)
    counts = usage_site.wait_for_usage({"failed": 1})
    context.close()
    assert not answer["ok"] and "garbage.webm" in answer["error"]
    assert counts == {"billable": 0, "development": 0, "failed": 1}


@pytest.mark.parametrize("outage", ["down", "error-500", "rate-limited-429", "hanging"])
def test_an_event_outlives_a_broken_service(browser: Browser, usage_site: UsageSite,
                                            outage: str) -> None:  # fmt: skip
    """The conversion never waits for the service; the event waits in the outbox until the
    service answers again, and is then counted once."""
    context = browser.new_context()
    held: list[Route] = []

    def broken(route: Route) -> None:
        if outage == "down":
            route.abort("connectionrefused")
        elif outage == "error-500":
            route.fulfill(status=500, body="internal error")
        elif outage == "rate-limited-429":
            route.fulfill(status=429, headers={"Retry-After": "1"}, body="{}")
        else:
            held.append(route)  # not answered until the service "comes back"

    context.route(ENDPOINT, broken)
    page, _ = open_app(context, usage_site.url, usage_site.public_key)
    assert convert(page, FIXTURES / "frames.webm") == "Done."
    assert page.inner_text("#result-size")
    page.wait_for_function(f"({COUNT_OUTBOX})().then((n) => n === 1)", timeout=30_000)
    if outage == "hanging":  # the event is sent, and the conversion finished while it hangs
        pump_until(page, lambda: bool(held))
    assert usage_site.usage()["development"] == 0
    context.unroute(ENDPOINT)
    for route in held:  # those the page's 10 s time-out has not given up on yet
        with contextlib.suppress(PlaywrightError):
            route.abort("connectionreset")
    counts = usage_site.wait_for_usage({"development": 1}, timeout=90)
    page.wait_for_function(f"({COUNT_OUTBOX})().then((n) => n === 0)", timeout=30_000)
    context.close()
    assert counts == {"billable": 0, "development": 1, "failed": 0}


def test_an_event_outlives_a_locked_database(browser: Browser, usage_site: UsageSite) -> None:
    """The SQLite write lock is held for 10 s from before the conversion: the service
    answers 503 (busy) to the event, which is retried and counted once afterwards."""
    path = usage_site.database.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, timeout=1, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")
    released = threading.Timer(10.0, locker.rollback)
    statuses: list[int] = []
    context = browser.new_context()
    page, _ = open_app(context, usage_site.url, usage_site.public_key)
    page.on(
        "response",
        lambda r: statuses.append(r.status) if r.url.endswith("/register-usage-point") else None,
    )
    released.start()
    try:
        assert convert(page, FIXTURES / "frames.webm") == "Done."
        pump_until(page, lambda: usage_site.usage()["development"] >= 1, timeout=90)
        page.wait_for_timeout(1000)  # time for a second (wrong) count to show
        counts = usage_site.usage()
    finally:
        released.join()
        context.close()
        locker.close()
    assert 503 in statuses and statuses[-1] == 200
    assert counts == {"billable": 0, "development": 1, "failed": 0}


def pump_until(page: Page, condition: Callable[[], bool], timeout: float = 30) -> None:
    """Wait for ``condition`` inside Playwright calls: the sync API runs route handlers and
    event listeners only then."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(200)


REMOTION_PAGE = Path(__file__).parent.parent / "tests" / "js" / "remotion_webcodecs_page.html"
REMOTION_HOST = "https://www.remotion.pro"


def test_remotions_own_webcodecs_reports_to_this_service(
    browser: Browser, usage_site: UsageSite
) -> None:
    """``convertMedia()`` of the unmodified ``@remotion/webcodecs`` 4.0.398 (which posts its
    usage event to remotion.pro, with no eventId) converts in Chromium; its request is
    routed to this service and counted, and ``getUsage`` shows it."""
    context = browser.new_context()
    files = {
        "/remotion/page.html": REMOTION_PAGE,
        "/remotion/input.webm": FIXTURES / "frames.webm",
    }

    def site(route: Route) -> None:
        path = "/" + route.request.url.split("/", 3)[3].split("?")[0]
        if path.startswith("/remotion/node_modules/"):
            file = REPO / path.removeprefix("/remotion/")
        else:
            file = files[path]
        kind = {".html": "text/html", ".mjs": "text/javascript", ".webm": "video/webm"}
        context_type = kind[file.suffix]
        route.fulfill(status=200, body=file.read_bytes(), headers={"Content-Type": context_type})

    def to_this_service(route: Route) -> None:
        url = route.request.url.replace(REMOTION_HOST, usage_site.url)
        route.fulfill(response=route.fetch(url=url))

    context.route(f"{usage_site.url}/remotion/**", site)
    context.route(f"{REMOTION_HOST}/api/track/**", to_this_service)
    page = context.new_page()
    sent = usage_events_sent(page)
    page.goto(f"{usage_site.url}/remotion/page.html")
    usage_answer = f"{REMOTION_HOST}/api/track/register-usage-point"
    with page.expect_response(usage_answer, timeout=CONVERT_MS) as answered:
        size = page.evaluate("(key) => window.convertWithRemotion(location.origin"
                             " + '/remotion/input.webm', key)", usage_site.public_key)  # fmt: skip
    assert answered.value.status == 200
    counts = usage_site.usage()
    context.close()
    assert size > 1000
    assert sent == [
        {
            "event": "webcodec-conversion",
            "apiKey": usage_site.public_key,
            "host": usage_site.url,
            "succeeded": True,
        }
    ]
    assert counts == {"billable": 0, "development": 1, "failed": 0}


def test_a_public_origin_is_counted_billable(playwright: Playwright,
                                             usage_site: UsageSite) -> None:  # fmt: skip
    port = usage_site.url.rsplit(":", 1)[1]
    origin = f"http://app.example.test:{port}"
    browser = playwright.chromium.launch(**launch_options([  # type: ignore[arg-type]
        "--host-resolver-rules=MAP app.example.test 127.0.0.1",
        f"--unsafely-treat-insecure-origin-as-secure={origin}",
    ]))  # fmt: skip
    try:
        page, events = open_app(browser.new_context(), origin, usage_site.public_key)
        assert convert(page, FIXTURES / "frames.webm") == "Done."
        counts = usage_site.wait_for_usage({"billable": 1})
    finally:
        browser.close()
    assert counts == {"billable": 1, "development": 0, "failed": 0}
    assert events[0]["host"] == origin


def test_a_conversion_in_a_worker_is_counted(browser: Browser, usage_site: UsageSite) -> None:
    context = browser.new_context()
    page, _ = open_app(context, usage_site.url, usage_site.public_key)
    answer = convert_in_worker(page, FIXTURES / "frames.webm", usage_site.public_key)
    counts = usage_site.wait_for_usage({"development": 1})
    context.close()
    assert answer["ok"], answer
    assert answer["frames"] == 100 and answer["size"] > 0
    assert counts == {"billable": 0, "development": 1, "failed": 0}


def test_an_event_raised_offline_arrives_when_back_online(
    browser: Browser, usage_site: UsageSite
) -> None:
    context = browser.new_context()
    page, _ = open_app(context, usage_site.url, usage_site.public_key)
    page.set_input_files("#file-input", str(FIXTURES / "frames.webm"))
    page.wait_for_selector("#info-body table")
    context.set_offline(True)
    assert convert(page, FIXTURES / "frames.webm") == "Done."
    page.wait_for_function(f"({COUNT_OUTBOX})().then((n) => n === 1)", timeout=30_000)
    assert usage_site.usage()["development"] == 0
    context.set_offline(False)
    counts = usage_site.wait_for_usage({"development": 1})
    context.close()
    assert counts["development"] == 1
