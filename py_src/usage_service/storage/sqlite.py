"""The embedded backend: one SQLite file (stdlib :mod:`sqlite3`) in WAL mode.

One connection, used only by one dedicated worker thread: statements are serialised (which
is what SQLite does with writes anyway) and the event loop never waits on disk. WAL lets
the ``keys`` commands of another process (and the other ``serve --workers``) read and
write while the service runs, and ``busy_timeout`` makes them wait for each other instead
of failing.

``synchronous=FULL``: in WAL mode every commit is fsync'ed to the WAL before it returns,
so an event the service has answered 2xx for survives a killed process, an OS crash and a
power loss. (``NORMAL`` survives a killed process but may lose the last commits on an OS
crash or power loss; that is not good enough for a count someone is billed on.)
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from .base import Params, Row, SqlStore


class SqliteStore(SqlStore):
    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-sqlite")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA foreign_keys=ON")
            self._connection = connection
        return self._connection

    async def _run_in_worker(self, statements: list[tuple[str, Params]], atomic: bool) -> list[Row]:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._run, statements, atomic
        )

    def _run(self, statements: list[tuple[str, Params]], atomic: bool) -> list[Row]:
        connection = self._connect()
        if not atomic:
            sql, params = statements[0]
            return connection.execute(sql, params).fetchall()
        connection.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                connection.execute(sql, params)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return []

    async def _query(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._run_in_worker([(sql, params)], atomic=False)

    async def _transaction(self, statements: list[tuple[str, Params]]) -> None:
        await self._run_in_worker(statements, atomic=True)

    @asynccontextmanager
    async def _migration_lock(self) -> AsyncIterator[None]:
        """An exclusive ``flock`` on ``PATH.migrate-lock`` (released when its file closes,
        also when the process dies)."""
        loop = asyncio.get_running_loop()
        with open(f"{self._path}.migrate-lock", "a") as lock:
            await loop.run_in_executor(None, fcntl.flock, lock, fcntl.LOCK_EX)
            yield

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
