"""Benchmark: the usage service under load, on SQLite and on PostgreSQL.

For each backend it starts ``python -m usage_service serve`` (uvicorn, one process, the
default rate limits, ``--forwarded-allow-ips 127.0.0.1``) on a free loopback port, creates
a key, and drives ``register-usage-point`` with ``--clients`` concurrent keep-alive
connections (a bare asyncio HTTP/1.1 client, each event with a fresh ``eventId``, each
request from one of 10,000 client networks named in ``X-Forwarded-For``, as through a
load balancer) for ``--seconds``. It prints events/s and the p50/p99 latency, then the
loss check: the key's ``get-usage`` count must equal the number of events the service
answered 200 for (no accepted event lost, none counted twice).

Then the crash run: the same load, and ``kill -9`` of the service half-way; the service is
started again on the same database and every event that had been answered 200 must be
there.

PostgreSQL is a throw-away server (``tests/postgres.py``) with its default durability
(fsync on); SQLite runs in WAL mode with ``synchronous=FULL``. The load generator shares
the machine's cores with the service, so the figures are a floor, not a ceiling.

Run: ``.venv/bin/python build_scripts/bench_usage.py [--seconds 10] [--clients 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from postgres import PostgresServer, stored_event_ids  # noqa: E402

TRACK = "/api/track/register-usage-point"


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    unanswered: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    accepted_ids: list[str] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    lost = False
    with tempfile.TemporaryDirectory() as folder:
        lost |= bench("sqlite", f"sqlite:///{folder}/bench.sqlite3", args)
        lost |= crash("sqlite", f"sqlite:///{folder}/crash.sqlite3", args)
    with PostgresServer.start(durable=True) as server:
        lost |= bench("postgresql", server.create_database(), args)
        lost |= crash("postgresql", server.create_database(), args)
    return 1 if lost else 0


def _start_service(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "usage_service",
            "serve",
            "--port",
            str(port),
            "--db",
            database_url,
            "--forwarded-allow-ips",
            "127.0.0.1",
            "--static",
            str(REPO),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url, server)
    return server, url


def crash(name: str, database_url: str, args: argparse.Namespace) -> bool:
    """Load, ``kill -9`` half-way, restart: True if an acknowledged event is missing."""
    keys = _service_command("keys", "create", "--name", "crash", "--db", database_url)
    pair = json.loads(keys.stdout)
    server, url = _start_service(database_url)
    killer = threading.Timer(args.seconds / 2, os.kill, (server.pid, signal.SIGKILL))
    killer.start()
    try:
        load = asyncio.run(_drive(url, pair["public_key"], args.clients, args.seconds))
    finally:
        killer.join()
        server.wait(timeout=30)
    server, url = _start_service(database_url)  # recovery (SQLite replays its WAL)
    server.terminate()
    server.wait(timeout=30)
    stored = set(stored_event_ids(database_url))
    missing = len(set(load.accepted_ids) - stored)
    print(
        f"{name:>10}: kill -9 after {args.seconds / 2:.1f} s: {load.accepted} acknowledged, "
        f"{load.unanswered} cut off, {missing} acknowledged events missing after restart"
    )
    return missing > 0


def bench(name: str, database_url: str, args: argparse.Namespace) -> bool:
    """Run one backend; True if an accepted event went missing."""
    keys = _service_command("keys", "create", "--name", "bench", "--db", database_url)
    pair = json.loads(keys.stdout)
    server, url = _start_service(database_url)
    try:
        started, server_cpu, client_cpu = time.perf_counter(), _cpu(server.pid), time.process_time()
        load = asyncio.run(_drive(url, pair["public_key"], args.clients, args.seconds))
        elapsed = time.perf_counter() - started
        server_cpu, client_cpu = _cpu(server.pid) - server_cpu, time.process_time() - client_cpu
        counted = httpx.post(f"{url}/api/track/get-usage", json={"apiKey": pair["secret_key"]})
        billable = counted.json()["webcodecConversions"]["billable"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = sorted(load.latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    lost = billable < load.accepted or billable > load.accepted + load.unanswered
    print(
        f"{name:>10}: {load.accepted / elapsed:7.0f} events/s accepted, "
        f"p50 {statistics.median(latencies) * 1000:6.1f} ms, p99 {p99 * 1000:6.1f} ms, "
        f"{args.clients} clients, {elapsed:.1f} s; accepted {load.accepted}, "
        f"refused {load.refused or 0}, unanswered {load.unanswered}; "
        f"counted {billable}: {'LOST EVENTS' if lost else 'none lost'}; CPU seconds: "
        f"service {server_cpu:.1f}, load generator {client_cpu:.1f}"
    )
    return lost


async def _drive(url: str, public_key: str, clients: int, seconds: float) -> Load:
    load = Load()
    deadline = time.perf_counter() + seconds
    port = int(url.rsplit(":", 1)[1])
    await asyncio.gather(*(_one_client(port, public_key, deadline, load) for _ in range(clients)))
    return load


async def _one_client(port: int, public_key: str, deadline: float, load: Load) -> None:
    """One keep-alive HTTP/1.1 connection sending events back to back.

    A bare asyncio stream client, because httpx spends about 10 ms of CPU per request at
    this concurrency: with it the benchmark measured the load generator, not the service.
    """
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        load.unanswered += 1
        return
    try:
        while time.perf_counter() < deadline:
            event_id = uuid.uuid4().hex
            body = json.dumps(
                {
                    "event": "webcodec-conversion",
                    "apiKey": public_key,
                    "host": "https://bench.example",
                    "succeeded": True,
                    "eventId": event_id,
                }
            ).encode()
            network = random.randrange(10_000)
            head = (
                f"POST {TRACK} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"X-Forwarded-For: 10.{network // 256}.{network % 256}.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            sent = time.perf_counter()
            try:
                writer.write(head.encode() + body)
                status = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError):
                load.unanswered += 1
                return
            load.latencies.append(time.perf_counter() - sent)
            if status == 200:
                load.accepted += 1
                load.accepted_ids.append(event_id)
            else:
                load.refused[status] = load.refused.get(status, 0) + 1
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; its status code."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head[0].split()[1])


def _service_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "usage_service", *args], capture_output=True, text=True, check=True
    )


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.options(url + TRACK, timeout=1)
            return
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the usage service did not start") from None
            time.sleep(0.1)


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
