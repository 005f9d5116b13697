"""Remotion's own usage client, ``@remotion/licensing`` (4.0.398, the version
``@remotion/webcodecs`` 4.0.398 bundles, and 4.0.529, the newest 4.0.x), unmodified, run
by node against the service on loopback, on SQLite and on PostgreSQL. The only change to
the client is its ``fetch``, pointed at this service instead of remotion.pro."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import postgres
from test_usage_api import create_key
from usage_service import create_app
from usage_service.server import ServiceThread

database_url = postgres.database_url
postgres_server = postgres.postgres_server
CLIENT = Path(__file__).parent / "js" / "remotion_licensing_client.mjs"
OLD, NEW = "remotion-licensing-4-0-398", "remotion-licensing-4-0-529"


def run_client(package: str, url: str, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """The client's answers, one per call: ``{"ok": value}`` or ``{"error": message}``."""
    script = json.dumps([{"call": call, "options": options} for call, options in calls])
    done = subprocess.run(
        ["node", str(CLIENT), package, url, script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=CLIENT.parent,
    )
    assert done.returncode == 0, done.stderr
    answers: list[Any] = json.loads(done.stdout.splitlines()[-1])
    return answers


@pytest.fixture
def service_url(database_url: str) -> Iterator[str]:
    with ServiceThread(create_app(database_url)) as service:
        yield service.url


def register(event: str, key: str | None, host: str | None, **extra: Any) -> tuple[str, Any]:
    return "registerUsageEvent", {
        "event": event,
        "apiKey": key,
        "host": host,
        "succeeded": True,
        **extra,
    }


def billable(classification: str = "billable") -> dict[str, Any]:
    return {"ok": {"billable": classification == "billable", "classification": classification}}


def counts(billable: int = 0, development: int = 0, failed: int = 0) -> dict[str, int]:
    return {"billable": billable, "development": development, "failed": failed}


@pytest.mark.parametrize("package", [OLD, NEW])
def test_register_usage_event_from_the_real_client(
    package: str, service_url: str, database_url: str
) -> None:
    public, secret = create_key(database_url)
    web = "webcodec-conversion" if package == OLD else "web-render"
    calls = [
        register(web, public, "https://shop.example"),
        register(web, public, "https://shop.example:443"),  # one site: the default port
        register(web, public, "http://localhost:3000"),
        register(web, public, "https://shop.example", succeeded=False),
        register("webcodec-conversion", public, "https://shop.example"),
        register("cloud-render", public, None),  # a render on a server: no origin
        register("cloud-render", public, "https://shop.example", succeeded=False),
        register(web, None, "https://no-key.example"),  # key-less: counted by origin
        register(web, None, None),
        register(web, secret, "https://shop.example"),
        register(web, "pub_" + "A" * 22, "https://shop.example"),
        ("getUsage", {"apiKey": secret, "since": None}),
        ("getUsage", {"apiKey": secret, "since": {"daysAgo": 90}}),
        ("getUsage", {"apiKey": public}),
    ]
    answers = run_client(package, service_url, calls)
    assert answers[:9] == [
        billable(),
        billable(),
        billable("development"),
        billable("failed"),
        billable(),
        billable(),
        billable("failed"),
        billable(),
        billable(),
    ]
    assert "secret keys must never be used in a browser" in answers[9]["error"]
    assert answers[10] == {"error": "Invalid API key"}
    expected = {
        "webcodecConversions": counts(billable=3, development=1, failed=1),
        "cloudRenders": counts(billable=1, failed=1),
    }
    if package == NEW:
        expected["webRenders"] = expected["webcodecConversions"]
    assert answers[11] == answers[12] == {"ok": expected}
    assert "needs the secret key" in answers[13]["error"]


def test_is_production_and_is_still_from_the_newest_client(
    service_url: str, database_url: str
) -> None:
    public, secret = create_key(database_url)
    calls = [
        register("web-render", public, "https://shop.example", isProduction=False),
        register("web-render", public, "https://shop.example", isProduction=True, isStill=True),
        register("cloud-render", public, None, isProduction=False),
        ("getUsage", {"apiKey": secret}),
    ]
    answers = run_client(NEW, service_url, calls)
    assert answers[:3] == [billable("development"), billable(), billable("development")]
    assert answers[3]["ok"]["webRenders"] == counts(billable=1, development=1)
    assert answers[3]["ok"]["cloudRenders"] == counts(development=1)


def test_each_request_without_an_event_id_counts_once(service_url: str, database_url: str) -> None:
    public, secret = create_key(database_url)
    same = register("webcodec-conversion", public, "https://shop.example")
    answers = run_client(OLD, service_url, [same, same, same, ("getUsage", {"apiKey": secret})])
    assert answers[3]["ok"]["webcodecConversions"] == counts(billable=3)


def test_a_key_with_allowed_domains_refuses_other_hosts(
    service_url: str, database_url: str
) -> None:
    public, secret = create_key(database_url, ("shop.example",))
    calls = [
        register("web-render", public, "https://shop.example"),
        register("web-render", public, "https://other.example"),
        register("cloud-render", public, None),
        ("getUsage", {"apiKey": secret}),
    ]
    answers = run_client(NEW, service_url, calls)
    assert answers[0] == billable()
    assert "not among the domains this API key allows" in answers[1]["error"]
    assert "the event has no host" in answers[2]["error"]
    assert answers[3]["ok"]["webRenders"] == counts(billable=1)
