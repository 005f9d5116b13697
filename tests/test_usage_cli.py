"""The ``keys`` and ``serve`` commands, run as ``python -m usage_service`` subprocesses on
both backends, and through :func:`usage_service.cli.register` as the main CLI uses it."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import postgres
from usage_service.cli import register

database_url = postgres.database_url
postgres_server = postgres.postgres_server
TRACK = "/api/track/register-usage-point"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "usage_service", *args], capture_output=True, text=True, timeout=60
    )


def test_keys_create_list_and_revoke(database_url: str) -> None:
    created = run(
        "keys",
        "create",
        "--name",
        "Shop",
        "--allow-domain",
        "shop.example",
        "--allow-domain",
        "*.shop.example",
        "--db",
        database_url,
    )
    assert created.returncode == 0, created.stderr
    pair = json.loads(created.stdout)
    assert pair["public_key"].startswith("pub_") and pair["secret_key"].startswith("sec_")
    listed = run("keys", "list", "--db", database_url)
    (key,) = json.loads(listed.stdout)
    assert key["public_key"] == pair["public_key"] and key["name"] == "Shop"
    assert key["allowed_domains"] == ["shop.example", "*.shop.example"]
    assert key["revoked_at"] is None and "secret_key" not in key
    assert pair["secret_key"] not in listed.stdout
    revoked = run("keys", "revoke", pair["public_key"], "--db", database_url)
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["revoked"] is True
    assert json.loads(run("keys", "list", "--db", database_url).stdout)[0]["revoked_at"]


def test_keys_commands_refuse_bad_input(tmp_path: Path) -> None:
    db = str(tmp_path / "keys.sqlite3")
    bad_domain = run("keys", "create", "--name", "x", "--allow-domain", "https://a.com", "--db", db)
    assert bad_domain.returncode == 2 and "https://a.com" in bad_domain.stderr
    unknown = run("keys", "revoke", "pub_nothing", "--db", db)
    assert unknown.returncode == 1 and "no key pub_nothing" in unknown.stderr
    assert run("keys", "create", "--db", db).returncode == 2


def test_keys_use_the_database_from_the_environment(tmp_path: Path) -> None:
    env_db = tmp_path / "from-env.sqlite3"
    process = subprocess.run(
        [sys.executable, "-m", "usage_service", "keys", "create", "--name", "env"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PYWEBCODECS_DB": str(env_db), "PATH": "/usr/bin:/bin"},
    )
    assert process.returncode == 0, process.stderr
    assert env_db.exists() and not (tmp_path / "pywebcodecs-usage.sqlite3").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[str]:
    """``serve`` as a subprocess with a site and an admin token; its URL."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<title>converter</title>")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "usage_service",
            "serve",
            "--port",
            str(port),
            "--db",
            database_url,
            "--static",
            str(tmp_path / "site"),
            "--admin-token",
            "op-token",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
    yield url
    process.terminate()
    _, log = process.communicate(timeout=30)
    assert b"Finished server process" in log  # a graceful shutdown (uvicorn re-raises SIGTERM)


def test_serve_runs_the_site_and_accepts_keys_made_by_the_cli(
    serve: str, database_url: str
) -> None:
    pair = json.loads(run("keys", "create", "--name", "live", "--db", database_url).stdout)
    assert httpx.get(serve).text == "<title>converter</title>"
    event = {
        "event": "webcodec-conversion",
        "apiKey": pair["public_key"],
        "host": "https://live.example",
        "succeeded": True,
        "eventId": "cli-event-1",
    }
    assert httpx.post(serve + TRACK, json=event).json()["classification"] == "billable"
    counts = httpx.post(serve + "/api/track/get-usage", json={"apiKey": pair["secret_key"]})
    assert counts.json()["counts"]["webcodec-conversion"]["billable"] == 1
    run("keys", "revoke", pair["public_key"], "--db", database_url)
    assert httpx.post(serve + TRACK, json=event | {"eventId": "cli-event-2"}).status_code == 401
    admin = httpx.get(serve + "/api/admin/origins", headers={"Authorization": "Bearer op-token"})
    assert admin.json()["origins"][0]["origin"] == "https://live.example"


def test_register_adds_the_commands_to_another_parser() -> None:
    parser = argparse.ArgumentParser(prog="pywebcodecs")
    register(parser.add_subparsers(dest="command", required=True))
    create = parser.parse_args(["keys", "create", "--name", "n", "--allow-domain", "a.example"])
    assert (create.name, create.allow_domain, create.db) == ("n", ["a.example"], None)
    serve = parser.parse_args(["serve", "--port", "9000", "--ip-limit", "off"])
    assert (serve.host, serve.port, serve.ip_limit) == ("127.0.0.1", 9000, None)
    for args in (create, serve, parser.parse_args(["keys", "list"])):
        assert callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--key-limit", "0/0"])
