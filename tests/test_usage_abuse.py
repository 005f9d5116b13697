"""The usage service under abuse: floods of one public key, spoofed proxy headers, hostile
bodies, headers and query strings, stalled connections, credential guessing; and its
housekeeping (origin normalisation, key-less retention, admin paging). Real HTTP on
loopback; the service's own counts and tables are checked after every refusal."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import postgres
from test_usage_api import NOW, TRACK, USAGE, Events, create_key
from usage_service import create_app
from usage_service.rate_limit import RateLimit, client_network
from usage_service.server import ServiceThread
from usage_service.storage import UsageEvent, open_store

database_url = postgres.database_url
postgres_server = postgres.postgres_server
ADMIN = "/api/admin/origins"
Start = Callable[..., tuple[httpx.Client, ServiceThread]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/usage.sqlite3"


@pytest.fixture
def start() -> Iterator[Start]:
    """``start(url, thread_options, **create_app_options)``: a service and its client."""
    running: list[tuple[httpx.Client, ServiceThread]] = []

    def run(url: str, thread: dict[str, Any] | None = None, **options: Any) -> Any:
        service = ServiceThread(create_app(url, **options), **(thread or {})).start()
        running.append((httpx.Client(base_url=service.url, timeout=10), service))
        return running[-1]

    yield run
    for client, service in running:
        client.close()
        service.stop()


def test_a_flood_from_many_networks_does_not_starve_another_network(
    start: Start, sqlite_url: str
) -> None:
    public, secret = create_key(sqlite_url)
    client, _ = start(
        sqlite_url,
        {"forwarded_allow_ips": "127.0.0.1"},
        ip_limit=RateLimit(20, 100),
        key_limit=RateLimit(0.1, 8),
    )
    event = Events()

    async def flood() -> list[int]:
        async with httpx.AsyncClient(
            base_url=str(client.base_url),
            timeout=60,
            limits=httpx.Limits(max_connections=20),
        ) as attacker:
            sends = [
                attacker.post(
                    TRACK,
                    json=event(apiKey=public),
                    headers={"X-Forwarded-For": f"198.51.100.{network}"},
                )
                for network in range(30)
                for _ in range(12)
            ]
            return [response.status_code for response in await asyncio.gather(*sends)]

    statuses = asyncio.run(flood())
    # Each network gets its burst of 8 (and a token every 10 s); the rest is refused.
    assert statuses.count(429) >= 30 * 2 and set(statuses) == {200, 429}
    site = {"X-Forwarded-For": "203.0.113.7"}
    mine = [client.post(TRACK, json=event(apiKey=public), headers=site) for _ in range(8)]
    assert [response.status_code for response in mine] == [200] * 8
    counted = client.post(USAGE, json={"apiKey": secret}).json()["webcodecConversions"]
    assert counted["billable"] == statuses.count(200) + 8


def test_without_a_trusted_proxy_a_spoofed_forwarded_header_is_ignored(
    start: Start, sqlite_url: str
) -> None:
    client, _ = start(sqlite_url, ip_limit=RateLimit(1, 10))
    event = Events()
    statuses = [
        client.post(
            TRACK, json=event(), headers={"X-Forwarded-For": f"192.0.2.{number}"}
        ).status_code
        for number in range(20)
    ]
    assert statuses == [200] * 10 + [429] * 10


def test_ipv6_clients_share_a_bucket_per_64() -> None:
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:bbbb::9")
    assert client_network("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_network("192.0.2.1") != client_network("192.0.2.2")


def test_a_key_ceiling_holds_across_networks(start: Start, sqlite_url: str) -> None:
    public, _ = create_key(sqlite_url)
    client, _ = start(
        sqlite_url, {"forwarded_allow_ips": "127.0.0.1"}, key_ceiling=RateLimit(0.1, 5)
    )
    event = Events()
    statuses = [
        client.post(
            TRACK, json=event(apiKey=public), headers={"X-Forwarded-For": f"198.51.100.{n}"}
        ).status_code
        for n in range(8)
    ]
    assert statuses == [200] * 5 + [429] * 3


DEEP = b'{"event": ' + b"[" * 5000 + b"]" * 5000 + b"}"
HOSTILE_REGISTER: list[tuple[str, bytes, dict[str, str], int]] = [
    ("deep nesting", DEEP, {}, 400),
    ("huge float", b'{"event": 1e999}', {}, 400),
    ("huge integer", b'{"since": ' + b"9" * 1500 + b"}", {}, 400),
    ("bad content length", b"{}", {"Content-Length": "²"}, 400),
]


@pytest.mark.parametrize("path", [TRACK, USAGE])
@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [case[1:] for case in HOSTILE_REGISTER],
    ids=[case[0] for case in HOSTILE_REGISTER],
)
def test_hostile_bodies_are_refused_with_json_4xx(
    start: Start,
    database_url: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    client, service = start(database_url, max_body_bytes=16_384)
    if "Content-Length" in headers:
        answer = raw_request(service.url, f"POST {path}", headers, body)
        assert answer.startswith(b"HTTP/1.1 4"), answer[:100]
    else:
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == status, response.text
        assert response.json()["success"] is False
    assert postgres.stored_event_ids(database_url) == []


def raw_request(url: str, request_line: str, headers: dict[str, str], body: bytes) -> bytes:
    """Send bytes httpx would refuse to send; the raw answer."""
    host, port = url.removeprefix("http://").split(":")
    head = f"{request_line} HTTP/1.1\r\nHost: {host}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode("utf-8") + b"\r\n" + body)
        return connection.recv(65536)


def test_hostile_credentials_and_queries_are_4xx(start: Start, database_url: str) -> None:
    _, secret = create_key(database_url)
    client, _ = start(database_url, admin_token="operator-token")
    non_ascii = {"Authorization": "Bearer t\u00e9st".encode()}
    assert client.get(ADMIN, headers=non_ascii).status_code == 401  # type: ignore[arg-type]
    assert client.get("/api/dashboard/usage", headers=non_ascii).status_code == 401  # type: ignore[arg-type]
    bearer = {"Authorization": f"Bearer {secret}"}
    for query in ("days=%C2%B2", "days=%EF%BC%95", "days=-1", "days=1e3", "days=" + "9" * 50):
        response = client.get(f"/api/dashboard/usage?{query}", headers=bearer)
        assert response.status_code == 400 and "days must be" in response.json()["error"]
    admin = {"Authorization": "Bearer operator-token"}
    for query in ("limit=0", "limit=%C2%B2", "offset=-5", "limit=100000"):
        response = client.get(f"{ADMIN}?{query}", headers=admin)
        assert response.status_code == 400, query
    for since in (1.5, "9" * 30, -(10**30)):
        response = client.post(USAGE, json={"apiKey": secret, "since": since})
        assert 400 <= response.status_code < 500
    assert postgres.stored_event_ids(database_url) == []


def test_the_host_must_be_the_pages_origin(start: Start, database_url: str) -> None:
    client, _ = start(database_url)
    event = Events()
    for origin, host in (
        ("https://evil.example", "https://victim.example"),
        ("https://victim.example", None),
        ("not an origin", "https://victim.example"),
        ("null", "https://victim.example"),
    ):
        response = client.post(TRACK, json=event(host=host), headers={"Origin": origin})
        assert response.status_code == 403, (origin, response.text)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert postgres.stored_event_ids(database_url) == []
    for origin, host in (
        ("https://victim.example", "https://victim.example:443"),
        ("null", "file://"),
        ("null", "null"),
    ):
        response = client.post(TRACK, json=event(host=host), headers={"Origin": origin})
        assert response.status_code == 200, (origin, response.text)


def test_origins_are_normalised_before_they_are_counted(start: Start, sqlite_url: str) -> None:
    client, _ = start(sqlite_url, admin_token="op")
    event = Events()
    for host, classification in (
        ("https://example.com:443", "billable"),
        ("https://EXAMPLE.com", "billable"),
        ("http://0x7f000001", "development"),
        ("http://127.1:80", "development"),
        ("http://[2001:DB8:0:0:0:0:0:1]", "billable"),
        ("https://b\u00fccher.example", "billable"),
    ):
        response = client.post(TRACK, json=event(host=host))
        assert response.json()["classification"] == classification, host
    listing = client.get(ADMIN, headers={"Authorization": "Bearer op"}).json()["origins"]
    assert sorted(row["origin"] for row in listing) == [
        "http://127.0.0.1",
        "http://[2001:db8::1]",
        "https://example.com",
        "https://xn--bcher-kva.example",
    ]


def test_logins_are_rate_limited(start: Start, sqlite_url: str) -> None:
    client, _ = start(sqlite_url, admin_token="right", login_limit=RateLimit(0.1, 5))
    guesses = [
        client.get(ADMIN, headers={"Authorization": f"Bearer guess-{n}"}).status_code
        for n in range(5)
    ]
    assert guesses == [401] * 5
    limited = client.get(ADMIN, headers={"Authorization": "Bearer right"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    dashboard = client.get("/api/dashboard/usage", headers={"Authorization": "Bearer sec_x"})
    assert dashboard.status_code == 429


def test_a_stalled_body_or_head_is_cut_off(start: Start, sqlite_url: str) -> None:
    _, service = start(sqlite_url, {"head_timeout": 1.0}, body_timeout=1.0)
    host, port = service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        began = time.monotonic()
        connection.sendall(
            f"POST {TRACK} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            'Content-Length: 200\r\n\r\n{"event":'.encode()
        )
        answer = receive_all(connection)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert b"did not arrive within 1 seconds" in answer
        assert time.monotonic() - began < 5
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        began = time.monotonic()
        connection.sendall(f"POST {TRACK} HTTP/1.1\r\nHost: {host}\r\n".encode())
        for _ in range(10):  # a byte now and then does not keep the connection
            time.sleep(0.3)
            try:
                connection.sendall(b"X")
            except OSError:
                break
        assert receive_all(connection) == b""
        assert time.monotonic() - began < 5


def receive_all(connection: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_keyless_events_are_kept_for_a_limited_time(start: Start, sqlite_url: str) -> None:
    public, _ = create_key(sqlite_url)
    day_ms = 86_400_000

    async def old_events() -> None:
        store = open_store(sqlite_url)
        for number, key in enumerate((None, None, public)):
            at = int(NOW * 1000) - (40 + number) * day_ms
            await store.record(
                UsageEvent(f"old-{number:06d}", "webcodec-conversion", key, "https://a.example",
                           True, "billable", at)
            )  # fmt: skip
        await store.record(
            UsageEvent("recent-0001", "webcodec-conversion", None, "https://a.example",
                       True, "billable", int(NOW * 1000) - 10 * day_ms)
        )  # fmt: skip
        await store.close()

    asyncio.run(old_events())
    start(sqlite_url, keep_keyless_days=30, clock=lambda: NOW)
    # The sweep runs beside the service from its start: on a loaded machine it may not
    # have run yet when the service first answers.
    deadline = time.monotonic() + 30
    while (kept := postgres.stored_event_ids(sqlite_url)) != ["old-000002", "recent-0001"]:
        assert time.monotonic() < deadline, kept
        time.sleep(0.1)


def test_the_admin_list_comes_in_pages(start: Start, database_url: str) -> None:
    clock = [NOW]
    client, _ = start(database_url, admin_token="op", clock=lambda: clock[0])
    event = Events()
    for number in range(5):
        clock[0] = NOW + number
        client.post(TRACK, json=event(host=f"https://site{number}.example"))
    admin = {"Authorization": "Bearer op"}
    seen, offset = [], 0
    while offset is not None:
        page = client.get(f"{ADMIN}?limit=2&offset={offset}", headers=admin).json()
        assert len(page["origins"]) <= 2
        seen += [row["origin"] for row in page["origins"]]
        offset = page["next_offset"]
    assert seen == [f"https://site{number}.example" for number in (4, 3, 2, 1, 0)]
    assert json.loads(client.get(ADMIN, headers=admin).text)["next_offset"] is None
