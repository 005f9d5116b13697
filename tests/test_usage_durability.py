"""The service as a real deployment runs it: an acknowledged event survives ``kill -9`` of
``serve`` and a PostgreSQL restart under load, and ``--workers 4`` on one fresh
PostgreSQL database starts cleanly (migrations take turns), counts every event once and
divides the rate limits."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import postgres
from test_usage_api import TRACK, USAGE, create_key
from usage_service import create_app
from usage_service.server import ServiceThread
from usage_service.storage import open_store

database_url = postgres.database_url
postgres_server = postgres.postgres_server


class Served:
    """``python -m usage_service serve`` as a subprocess."""

    def __init__(self, database: str, folder: Path, *options: str) -> None:
        self.port = postgres._free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "usage_service", "serve", "--port", str(self.port),
                 "--db", database, *options],
                stdout=log, stderr=subprocess.STDOUT, cwd=folder,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.options(self.url + TRACK, timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start:\n{self.log.read_text()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in started:
        server.stop()


def event(public_key: str | None) -> dict[str, object]:
    return {
        "event": "webcodec-conversion",
        "apiKey": public_key,
        "host": "https://durable.example",
        "succeeded": True,
        "eventId": uuid.uuid4().hex,
    }


def test_an_acknowledged_event_survives_kill_9(
    database_url: str, tmp_path: Path, served: list[Served]
) -> None:
    public, _ = create_key(database_url)
    server = Served(database_url, tmp_path, "--ip-limit", "off", "--key-limit", "off")
    served.append(server)
    acknowledged: list[str] = []

    async def load() -> None:
        async def client() -> None:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                while True:
                    body = event(public)
                    try:
                        response = await http.post(TRACK, json=body)
                    except httpx.TransportError:
                        return  # the service is gone
                    if response.status_code == 200:
                        acknowledged.append(str(body["eventId"]))
                    if len(acknowledged) >= 150 and server.process.poll() is None:
                        os.kill(server.process.pid, signal.SIGKILL)

        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(8))), timeout=120)

    asyncio.run(load())
    server.process.wait(timeout=30)
    assert server.process.returncode == -signal.SIGKILL
    stored = set(postgres.stored_event_ids(database_url))
    assert len(acknowledged) >= 150
    assert set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} acknowledged lost"


def test_four_workers_on_one_fresh_postgresql_database(
    postgres_server: postgres.PostgresServer, tmp_path: Path, served: list[Served]
) -> None:
    database = postgres_server.create_database()  # empty: the workers migrate it together
    server = Served(
        database, tmp_path, "--workers", "4", "--ip-limit", "8/40", "--key-limit", "off"
    )
    served.append(server)
    deadline = time.monotonic() + 60
    while server.log.read_text().count("Application startup complete") < 4:
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.2)
    log = server.log.read_text()
    assert "Traceback" not in log and "rror" not in log, log
    public, secret = create_key(database)

    async def send(count: int, fresh_connections: bool) -> list[int]:
        limits = httpx.Limits(max_keepalive_connections=0 if fresh_connections else 20)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
            bodies = [event(public) for _ in range(count)]
            answers = await asyncio.gather(*(http.post(TRACK, json=body) for body in bodies))
            return [answer.status_code for answer in answers]

    began = time.monotonic()
    statuses = asyncio.run(send(100, fresh_connections=True))
    elapsed = time.monotonic() - began
    accepted = statuses.count(200)
    # 40 of burst and 8/s across the four processes together, not 40 in each.
    assert set(statuses) <= {200, 429} and 10 <= accepted <= 40 + 8 * elapsed + 4, accepted
    # The flood emptied this address's bucket: the read waits its turn like any client.
    for _ in range(20):
        answer = httpx.post(server.url + USAGE, json={"apiKey": secret}, timeout=30)
        if answer.status_code != 429:
            break
        time.sleep(float(answer.headers.get("Retry-After", "1")))
    assert answer.status_code == 200, answer.text
    assert answer.json()["webcodecConversions"]["billable"] == accepted
    migrations = asyncio.run(applied_migrations(database))
    assert migrations == [1, 2]


async def applied_migrations(url: str) -> list[int]:
    store = open_store(url)
    rows = await store._query("SELECT version FROM schema_migrations ORDER BY version")
    await store.close()
    return [int(str(row[0])) for row in rows]


@pytest.mark.parametrize("trusted", [True, False])
def test_serve_trusts_forwarded_addresses_only_from_named_proxies(
    trusted: bool, tmp_path: Path, served: list[Served]
) -> None:
    proxy = ["--forwarded-allow-ips", "127.0.0.1"] if trusted else []
    database = f"sqlite:///{tmp_path}/usage.sqlite3"
    server = Served(database, tmp_path, "--ip-limit", "0.1/2", *proxy)
    served.append(server)
    statuses = [
        httpx.post(
            server.url + TRACK,
            json=event(public_key=None),
            headers={"X-Forwarded-For": f"198.51.100.{client}"},
        ).status_code
        for client in (1, 2)
        for _ in range(3)
    ]
    expected = [200, 200, 429] * 2 if trusted else [200, 200, 429, 429, 429, 429]
    assert statuses == expected


def test_serve_refuses_a_bad_worker_count(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "usage_service", "serve", "--workers", "0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and "at least 1" in done.stderr


def test_a_postgresql_restart_under_load_loses_no_event(tmp_path: Path) -> None:
    """Events refused while the database restarts get 503; a client that retries them (as
    the engine's does) ends with every event counted once."""
    with postgres.PostgresServer.start() as database_server:
        database = database_server.create_database()
        public, secret = create_key(database)
        app = create_app(database, ip_limit=None, key_limit=None, key_ceiling=None)
        statuses: list[int] = []

        async def deliver(http: httpx.AsyncClient, body: dict[str, object]) -> None:
            for _ in range(200):
                try:
                    response = await http.post(TRACK, json=body)
                except httpx.TransportError:
                    statuses.append(0)
                else:
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        return
                    assert response.status_code == 503, response.text
                await asyncio.sleep(0.1)
            raise AssertionError("an event was never accepted")

        async def load(url: str) -> None:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                bodies = [event(public) for _ in range(240)]
                for start in range(0, len(bodies), 8):
                    if start == 80:
                        await asyncio.to_thread(database_server.restart)
                    await asyncio.gather(*(deliver(http, b) for b in bodies[start : start + 8]))

        with ServiceThread(app) as service:
            asyncio.run(asyncio.wait_for(load(service.url), timeout=120))
            usage = httpx.post(service.url + USAGE, json={"apiKey": secret}, timeout=30).json()
    assert 503 in statuses
    assert usage["webcodecConversions"]["billable"] == 240
