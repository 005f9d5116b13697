"""A throw-away PostgreSQL server for the usage-service tests and benchmark, the fixtures
that run a test on both backends, and a reader of the stored event ids.

It runs the machine's own ``initdb`` and ``postgres`` (Debian's ``postgresql`` package puts
them in ``/usr/lib/postgresql/VERSION/bin``) on a temporary data folder and a free
loopback port, and stops it at the end. PostgreSQL refuses to run as root, so as root both
run as the ``postgres`` user (``runuser``) on a folder that user owns. Missing binaries
fail the tests that need the server: the PostgreSQL backend is never silently untested.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from usage_service.storage import open_store


class PostgresServer:
    """``with PostgresServer.start() as server: server.create_database()``."""

    def __init__(self, bin_dir: Path, folder: Path, port: int, run_as: list[str]) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.port = port
        self._run_as = run_as
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def start(cls, *, durable: bool = False) -> PostgresServer:
        """Start a server; ``durable=False`` turns fsync off (tests need speed, not safety)."""
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        if not versions:
            pytest.fail(
                "PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin/postgres):"
                " apt-get install postgresql"
            )
        bin_dir = Path(versions[-1]).parent
        folder = Path(tempfile.mkdtemp(prefix="usage-pg-"))
        run_as: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(folder, account.pw_uid, account.pw_gid)
            run_as = ["runuser", "-u", "postgres", "--"]
        server = cls(bin_dir, folder, _free_port(), run_as)
        server._init_and_run(durable)
        return server

    def _init_and_run(self, durable: bool) -> None:
        data = self.folder / "data"
        subprocess.run(
            [
                *self._run_as,
                str(self.bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        settings = ["-c", "max_connections=200"]
        if not durable:
            settings += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        subprocess.run(
            [
                *self._run_as,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-l",
                str(self.folder / "log"),
                "-o",
                " ".join(
                    ["-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.folder), *settings]
                ),
                "start",
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def restart(self) -> None:
        """Stop the server (``fast``: open connections are cut) and start it again (with a
        log file: a server left holding our output pipe would make ``run`` wait for ever)."""
        subprocess.run(
            [*self._run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"),
             "-l", str(self.folder / "log"), "-m", "fast", "-w", "restart"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def create_database(self) -> str:
        """A new empty database on this server; its URL."""
        name = f"usage_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        subprocess.run(
            [
                *self._run_as,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with PostgresServer.start() as server:
        yield server


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on each backend: the tests that take it run on both."""
    return fresh_database(request, tmp_path)


def fresh_database(request: pytest.FixtureRequest, folder: Path) -> str:
    """A new database for ``request.param`` (a name in ``BACKENDS``); its URL."""
    if request.param == "sqlite":
        return f"sqlite:///{folder}/usage.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


def stored_event_ids(url: str) -> list[str]:
    """Every event id in the usage database at ``url`` (either backend), sorted: what the
    tests and the benchmark check stored events against, read past the service."""

    async def read() -> list[str]:
        store = open_store(url)
        try:
            rows = await store._query("SELECT event_id FROM usage_events ORDER BY event_id")
        finally:
            await store.close()
        return [str(row[0]) for row in rows]

    return asyncio.run(read())
