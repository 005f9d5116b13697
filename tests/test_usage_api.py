"""The usage service over real HTTP on loopback (uvicorn in a thread, httpx), on SQLite and
on PostgreSQL: every test that takes ``database_url`` runs once per backend."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import postgres
from usage_service import create_app
from usage_service.rate_limit import RateLimit
from usage_service.server import ServiceThread
from usage_service.storage import open_store
from usage_service.track import UNAVAILABLE

TRACK = "/api/track/register-usage-point"
USAGE = "/api/track/get-usage"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC).timestamp()
DAY = 86_400.0
Service = Callable[..., httpx.Client]
database_url = postgres.database_url
postgres_server = postgres.postgres_server


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    """``service(**create_app_options)``: a running service and a client for it."""
    threads: list[ServiceThread] = []
    clients: list[httpx.Client] = []

    def start(**options: Any) -> httpx.Client:
        options.setdefault("ip_limit", None)
        options.setdefault("key_limit", None)
        thread = ServiceThread(create_app(database_url, **options)).start()
        threads.append(thread)
        clients.append(httpx.Client(base_url=thread.url, timeout=10))
        return clients[-1]

    yield start
    for client in clients:
        client.close()
    for thread in threads:
        thread.stop()


@pytest.fixture(scope="module", params=postgres.BACKENDS)
def shared_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """One service per backend for the tests that change nothing (refused requests)."""
    url = postgres.fresh_database(request, tmp_path_factory.mktemp("shared"))
    with (
        ServiceThread(create_app(url, ip_limit=None)) as thread,
        httpx.Client(base_url=thread.url) as client,
    ):
        yield client


def create_key(url: str, domains: tuple[str, ...] = (), revoke: bool = False) -> tuple[str, str]:
    async def run() -> tuple[str, str]:
        store = open_store(url)
        await store.migrate()
        keys = await store.create_key("test site", domains)
        if revoke:
            await store.revoke_key(keys[0])
        await store.close()
        return keys

    return asyncio.run(run())


class Events:
    """Builds event bodies with fresh ids."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **fields: Any) -> dict[str, Any]:
        self.count += 1
        body = {
            "event": "webcodec-conversion",
            "apiKey": None,
            "host": "https://example.com",
            "succeeded": True,
            "eventId": f"event-{self.count:08d}",
        }
        return body | fields


CLASSIFICATION_TABLE = [
    ("https://example.com", True, "billable"),
    ("https://www.example.co.uk:8443", True, "billable"),
    ("http://app.example.test:8123", True, "billable"),
    ("https://site.example", True, "billable"),
    ("http://8.8.8.8", True, "billable"),
    ("http://[2001:4860::8888]:80", True, "billable"),
    ("https://localhostify.com", True, "billable"),
    ("http://100.64.0.1", True, "billable"),
    ("https://example.com", False, "failed"),
    ("http://localhost:5173", False, "failed"),
    ("http://localhost:5173", True, "development"),
    ("http://LOCALHOST", True, "development"),
    ("http://app.localhost:3000", True, "development"),
    ("http://printer.local", True, "development"),
    ("http://127.0.0.1:8000", True, "development"),
    ("http://127.8.9.10", True, "development"),
    ("http://[::1]:8000", True, "development"),
    ("http://[::ffff:127.0.0.1]", True, "development"),
    ("http://10.1.2.3", True, "development"),
    ("http://172.16.0.1", True, "development"),
    ("http://172.31.255.255", True, "development"),
    ("http://172.32.0.1", True, "billable"),
    ("http://192.168.1.20:8080", True, "development"),
    ("http://169.254.1.1", True, "development"),
    ("http://[fe80::1]", True, "development"),
    ("http://[fd12:3456::1]", True, "development"),
    ("http://0.0.0.0:8000", True, "development"),
    ("file://", True, "development"),
    ("null", True, "development"),
]


def test_classifies_every_kind_of_host(service: Service) -> None:
    client, event = service(), Events()
    for host, succeeded, expected in CLASSIFICATION_TABLE:
        response = client.post(TRACK, json=event(host=host, succeeded=succeeded))
        assert response.status_code == 200, (host, response.text)
        assert response.json() == {
            "success": True,
            "billable": expected == "billable",
            "classification": expected,
        }, host


BAD_PAYLOADS: list[tuple[str, Any, int, str]] = [
    ("not json", b"{event:", 400, "not valid JSON"),
    ("array", b"[1, 2]", 400, "must be a JSON object"),
    ("not utf-8", b'{"event": "\xff"}', 400, "not UTF-8"),
    ("duplicate field", b'{"event": "a", "event": "b"}', 400, "duplicate field"),
    ("NaN", b'{"succeeded": NaN}', 400, "NaN is not JSON"),
    ("missing host", {"host": ...}, 400, "missing field(s): host"),
    ("unknown field", {"userAgent": "x"}, 400, "unknown field(s): userAgent"),
    ("event type", {"event": 5}, 400, "event must be a string, not a number"),
    ("unknown event", {"event": "render"}, 400, "event must be one of webcodec-conversion"),
    ("apiKey type", {"apiKey": 12}, 400, "apiKey must be a string, not a number"),
    ("apiKey length", {"apiKey": "pub_" + "a" * 100}, 400, "apiKey is longer than 80"),
    ("succeeded string", {"succeeded": "true"}, 400, "succeeded must be a boolean, not a string"),
    ("succeeded number", {"succeeded": 1}, 400, "succeeded must be a boolean, not a number"),
    ("succeeded null", {"succeeded": None}, 400, "succeeded must be a boolean, not null"),
    ("eventId short", {"eventId": "abc"}, 400, "eventId must be 8 to 100 characters"),
    ("eventId chars", {"eventId": "abc def ghi"}, 400, "eventId must be 8 to 100 characters"),
    ("eventId type", {"eventId": ["x"]}, 400, "eventId must be a string, not an array"),
    ("host type", {"host": {}}, 400, "host must be a string, not an object"),
    ("host path", {"host": "https://example.com/page"}, 400, "host must be an origin"),
    ("host slash", {"host": "https://example.com/"}, 400, "host must be an origin"),
    ("host query", {"host": "https://example.com?x"}, 400, "host must be an origin"),
    ("host user", {"host": "https://me@example.com"}, 400, "host must be an origin"),
    ("host scheme", {"host": "ftp://example.com"}, 400, "host must be an origin"),
    ("host bare", {"host": "example.com"}, 400, "host must be an origin"),
    ("host empty", {"host": ""}, 400, "host must be an origin"),
    ("host port", {"host": "https://example.com:65536"}, 400, "port 65536, past 65535"),
    ("host port zero", {"host": "https://example.com:0"}, 400, "host must be an origin"),
    ("host ipv4", {"host": "http://300.1.2.3"}, 400, "malformed IPv4 address"),
    ("host ipv6", {"host": "http://[zz::1]"}, 400, "host must be an origin"),
    ("host ipv6 bad", {"host": "http://[1:2:3]"}, 400, "malformed IPv6 address"),
    ("host label", {"host": "http://a..b"}, 400, "invalid domain name"),
    ("host dash", {"host": "http://-a.com"}, 400, "invalid domain name"),
    ("host long", {"host": "https://" + "a" * 300}, 400, "host is longer than 300"),
]


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [case[1:] for case in BAD_PAYLOADS],
    ids=[case[0] for case in BAD_PAYLOADS],
)
def test_refuses_bad_payloads_with_a_clear_message(
    shared_client: httpx.Client, change: Any, status: int, message: str
) -> None:
    if isinstance(change, bytes):
        body = change
    else:
        fields = Events()() | change
        body = json.dumps({k: v for k, v in fields.items() if v is not ...}).encode()
    response = shared_client.post(TRACK, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["success"] is False
    assert message in response.json()["error"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_refuses_wrong_content_type_and_method(service: Service) -> None:
    client = service()
    form = client.post(TRACK, data={"event": "x"})
    assert form.status_code == 415 and "application/json" in form.json()["error"]
    assert client.get(TRACK).status_code == 405


def test_caps_the_body_size_while_reading(service: Service) -> None:
    client = service(max_body_bytes=512)
    declared = client.post(TRACK, content=b"x" * 513, headers={"Content-Type": "text/plain"})
    assert declared.status_code == 413 and "larger than 512 bytes" in declared.json()["error"]

    def endless() -> Iterator[bytes]:
        yield b'{"event": "'
        for _ in range(10_000):
            yield b"x" * 1000

    streamed = client.post(TRACK, content=endless())
    assert streamed.status_code == 413
    small = client.post(TRACK, json=Events()(), headers={"Content-Type": "text/plain"})
    assert small.status_code == 200


def test_a_storage_failure_answers_503_with_cors(service: Service, database_url: str) -> None:
    client = service()
    assert client.post(TRACK, json=Events()()).status_code == 200

    async def break_storage() -> None:
        store = open_store(database_url)
        await store._query("DROP TABLE usage_events")
        await store.close()

    asyncio.run(break_storage())
    response = client.post(TRACK, json=Events()(eventId="after-the-drop"))
    assert response.status_code == 503
    assert response.json() == {"success": False, "error": UNAVAILABLE}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_answers_the_cors_preflight_for_any_origin(service: Service) -> None:
    response = service().options(
        TRACK,
        headers={
            "Origin": "https://some-site.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def usage(client: httpx.Client, secret: str, **fields: Any) -> dict[str, int]:
    response = client.post(USAGE, json={"apiKey": secret, **fields})
    assert response.status_code == 200, response.text
    return dict(response.json()["counts"]["webcodec-conversion"])


def test_counts_a_retried_event_once(service: Service, database_url: str) -> None:
    public, secret = create_key(database_url)
    client, event = service(), Events()
    body = event(apiKey=public)
    first = client.post(TRACK, json=body)
    again = client.post(TRACK, json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert usage(client, secret)["billable"] == 1
    changed = client.post(TRACK, json=body | {"succeeded": False})
    assert changed.status_code == 409 and "eventId" in changed.json()["error"]
    other_key = client.post(TRACK, json=body | {"apiKey": None})
    assert other_key.status_code == 409
    assert usage(client, secret) == {"billable": 1, "development": 0, "failed": 0}


def test_counts_concurrent_copies_of_one_event_once(
    service: Service,
    database_url: str,
) -> None:
    public, secret = create_key(database_url)
    client = service()
    body = Events()(apiKey=public, host="http://localhost:1234")

    async def send_copies() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(client.base_url)) as concurrent:
            return await asyncio.gather(*(concurrent.post(TRACK, json=body) for _ in range(20)))

    responses = asyncio.run(send_copies())
    assert {response.status_code for response in responses} == {200}
    assert {response.json()["classification"] for response in responses} == {"development"}
    assert usage(client, secret)["development"] == 1


def test_refuses_a_secret_key_in_the_browser(service: Service, database_url: str) -> None:
    _, secret = create_key(database_url)
    response = service().post(TRACK, json=Events()(apiKey=secret))
    assert response.status_code == 400
    assert "secret keys must never be used in a browser" in response.json()["error"]


def test_refuses_unknown_and_revoked_keys(service: Service, database_url: str) -> None:
    revoked, revoked_secret = create_key(database_url, revoke=True)
    client, event = service(), Events()
    for key in (revoked, "pub_" + "A" * 22, "not-a-key"):
        response = client.post(TRACK, json=event(apiKey=key))
        assert response.status_code == 401
        assert response.json() == {"success": False, "error": "Invalid API key"}
    assert client.post(USAGE, json={"apiKey": revoked_secret}).status_code == 401


def test_a_key_accepts_only_its_allowed_domains(service: Service, database_url: str) -> None:
    public, secret = create_key(database_url, ("example.com", "*.example.org"))
    client, event = service(), Events()
    for host in ("https://example.com", "http://example.com:8080", "https://a.b.example.org"):
        assert client.post(TRACK, json=event(apiKey=public, host=host)).status_code == 200
    for host in (
        "https://example.org",
        "https://evil-example.com",
        "https://example.com.evil",
        "http://localhost",
        "null",
    ):
        response = client.post(TRACK, json=event(apiKey=public, host=host))
        assert response.status_code == 403, host
        assert "not among the domains this API key allows" in response.json()["error"]
    assert usage(client, secret)["billable"] == 3


def test_records_events_without_a_key_by_origin(service: Service, database_url: str) -> None:
    public, secret = create_key(database_url)
    client, event = service(admin_token="operator"), Events()
    for _ in range(3):
        assert client.post(TRACK, json=event(host="https://no-key.example")).status_code == 200
    client.post(TRACK, json=event(host="https://no-key.example", succeeded=False))
    client.post(TRACK, json=event(apiKey=public, host="https://keyed.example"))
    assert usage(client, secret) == {"billable": 1, "development": 0, "failed": 0}
    response = client.get("/api/admin/origins", headers={"Authorization": "Bearer operator"})
    rows = {row["origin"]: row for row in response.json()["origins"]}
    assert rows["https://no-key.example"]["has_key"] is False
    assert rows["https://no-key.example"]["billable"] == 3
    assert rows["https://no-key.example"]["failed"] == 1
    assert rows["https://keyed.example"]["has_key"] is True


def test_limits_requests_per_address(service: Service) -> None:
    client, event = service(ip_limit=RateLimit(per_second=0.2, burst=3)), Events()
    statuses = [client.post(TRACK, json=event()).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = client.post(TRACK, json=event())
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "too many requests" in limited.json()["error"]
    assert limited.headers["Access-Control-Allow-Origin"] == "*"
    assert limited.headers["Access-Control-Expose-Headers"] == "Retry-After"


def test_limits_requests_per_key(service: Service, database_url: str) -> None:
    public, _ = create_key(database_url)
    other, _ = create_key(database_url)
    client, event = service(key_limit=RateLimit(per_second=0.2, burst=2)), Events()
    statuses = [client.post(TRACK, json=event(apiKey=public)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.post(TRACK, json=event(apiKey=other)).status_code == 200
    assert client.post(TRACK, json=event(apiKey=None)).status_code == 200


def test_get_usage_counts_since_a_time(service: Service, database_url: str) -> None:
    public, secret = create_key(database_url)
    other, _ = create_key(database_url)
    clock = [NOW - 40 * DAY]
    client, event = service(clock=lambda: clock[0]), Events()
    client.post(TRACK, json=event(apiKey=public))
    clock[0] = NOW
    for body in (
        event(apiKey=public),
        event(apiKey=public),
        event(apiKey=public, host="http://localhost:3000"),
        event(apiKey=public, succeeded=False),
        event(apiKey=other),
        event(),
    ):
        assert client.post(TRACK, json=body).status_code == 200
    assert usage(client, secret) == {"billable": 2, "development": 1, "failed": 1}
    assert usage(client, secret, since="2026-02-01T00:00:00Z")["billable"] == 3
    assert usage(client, secret, since=int((NOW - 89 * DAY) * 1000))["billable"] == 3
    assert usage(client, secret, since="2026-03-20T11:00:00")["billable"] == 2
    # Clients compute since from their own clock: a minute of skew either way is fine.
    assert usage(client, secret, since=int((NOW - 90 * DAY - 30) * 1000))["billable"] == 3
    assert usage(client, secret, since=int((NOW + 2) * 1000))["billable"] == 0
    assert usage(client, secret, since=None)["billable"] == 2
    response = client.post(USAGE, json={"apiKey": secret})
    assert response.json()["since"] == datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"since": int((NOW - 91 * DAY) * 1000)}, 400, "more than 90 days ago"),
        ({"since": "2025-01-01"}, 400, "more than 90 days ago"),
        ({"since": int((NOW + DAY) * 1000)}, 400, "in the future"),
        ({"since": int((NOW + 61) * 1000)}, 400, "in the future"),
        ({"since": int((NOW - 90 * DAY - 61) * 1000)}, 400, "more than 90 days ago"),
        ({"since": "last week"}, 400, "ISO 8601"),
        ({"since": True}, 400, "ISO 8601"),
        ({"until": 5}, 400, "unknown field(s): until"),
        ({"apiKey": "pub_" + "a" * 22}, 400, "needs the secret key"),
        ({"apiKey": "sec_" + "a" * 43}, 401, "Invalid API key"),
        ({"apiKey": None}, 400, "apiKey must be a string"),
    ],
)
def test_get_usage_refuses_bad_queries(
    service: Service,
    database_url: str,
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    _, secret = create_key(database_url)
    response = service(clock=lambda: NOW).post(USAGE, json={"apiKey": secret} | body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_dashboard_shows_days_and_origins_to_the_secret_key(
    service: Service,
    database_url: str,
) -> None:
    public, secret = create_key(database_url)
    clock = [NOW - 2 * DAY]
    client, event = service(clock=lambda: clock[0]), Events()
    client.post(TRACK, json=event(apiKey=public, host="https://a.example"))
    clock[0] = NOW
    client.post(TRACK, json=event(apiKey=public, host="https://a.example", succeeded=False))
    client.post(TRACK, json=event(apiKey=public, host="http://localhost:8000"))
    response = client.get(
        "/api/dashboard/usage?days=3", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    report = response.json()
    assert report["key"] == {"name": "test site", "public_key": public}
    assert report["days"] == [
        {"day": "2026-03-18", "billable": 1, "development": 0, "failed": 0},
        {"day": "2026-03-19", "billable": 0, "development": 0, "failed": 0},
        {"day": "2026-03-20", "billable": 0, "development": 1, "failed": 1},
    ]
    assert report["origins"] == [
        {"origin": "http://localhost:8000", "billable": 0, "development": 1, "failed": 0},
        {"origin": "https://a.example", "billable": 1, "development": 0, "failed": 1},
    ]
    page = client.get("/dashboard")
    assert page.status_code == 200 and "sessionStorage" in page.text
    assert "cookie" not in page.text.lower() and "https://" not in page.text


def test_dashboard_refuses_missing_and_public_keys(service: Service, database_url: str) -> None:
    public, secret = create_key(database_url)
    client = service()
    for headers in ({}, {"Authorization": f"Bearer {public}"}, {"Authorization": secret}):
        response = client.get("/api/dashboard/usage", headers=headers)
        assert response.status_code == 401, headers
    bad_days = client.get(
        "/api/dashboard/usage?days=91", headers={"Authorization": f"Bearer {secret}"}
    )
    assert bad_days.status_code == 400 and "days must be" in bad_days.json()["error"]


def test_operator_view_needs_the_admin_token(service: Service) -> None:
    without = service()
    assert without.get("/admin").status_code == 404
    assert (
        without.get("/api/admin/origins", headers={"Authorization": "Bearer x"}).status_code == 404
    )
    client = service(admin_token="s3cret-operator")
    assert client.get("/admin").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-operator"}):
        assert client.get("/api/admin/origins", headers=headers).status_code == 401
    client.post(TRACK, json=Events()(host="http://192.168.0.5:8000"))
    response = client.get("/api/admin/origins", headers={"Authorization": "Bearer s3cret-operator"})
    (row,) = response.json()["origins"]
    assert row["origin"] == "http://192.168.0.5:8000" and row["development"] == 1
    assert row["first_seen"] == row["last_seen"] and row["first_seen"].endswith("+00:00")


def test_serves_the_site_with_the_mime_types_pyodide_needs(
    service: Service, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    files = {
        "index.html": ("<!doctype html><title>app</title>", "text/html"),
        "engine.mjs": ("export {};", "text/javascript"),
        "pyodide.asm.wasm": ("\0asm", "application/wasm"),
        "pywebcodecs-0.1.0-py3-none-any.whl": ("PK", "application/zip"),
        "engine-config.json": ("{}", "application/json"),
    }
    for name, (text, _) in files.items():
        (site / name).write_text(text)
    client = service(static_dir=str(site))
    for name, (text, media_type) in files.items():
        response = client.get(f"/{name}")
        assert response.status_code == 200 and response.text == text
        assert response.headers["Content-Type"].split(";")[0] == media_type, name
    assert client.get("/").text == files["index.html"][0]
    assert client.post(TRACK, json=Events()()).status_code == 200


def test_stores_no_secret_key_and_no_address(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/at-rest.sqlite3"
    public, secret = create_key(url)
    thread = ServiceThread(create_app(url)).start()
    try:
        with httpx.Client(base_url=thread.url) as client:
            client.post(TRACK, json=Events()(apiKey=public))
            assert usage(client, secret)["billable"] == 1
    finally:
        thread.stop()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("at-rest.sqlite3*"))
    assert public.encode() in stored
    assert secret.encode() not in stored and secret[4:].encode() not in stored
    assert b"127.0.0.1" not in stored


def test_migrations_are_recorded_and_applied_once(database_url: str) -> None:
    async def run() -> tuple[list[int], list[int], list[tuple[object, ...]]]:
        store = open_store(database_url)
        first, second = await store.migrate(), await store.migrate()
        rows = await store._query("SELECT version, name FROM schema_migrations")
        await store.close()
        return first, second, rows

    first, second, rows = asyncio.run(run())
    assert (first, second) == ([1, 2], [])
    assert sorted(tuple(row) for row in rows) == [(1, "initial"), (2, "remotion_fields")]
