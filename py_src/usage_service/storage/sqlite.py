"""The embedded backend: one SQLite file (stdlib :mod:`sqlite3`) in WAL mode.

One connection, used only by one dedicated worker thread: statements are serialised (which
is what SQLite does with writes anyway) and the event loop never waits on disk. WAL lets
the ``keys`` commands of another process read and write while the service runs, and
``busy_timeout`` makes them wait for each other instead of failing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor

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
            connection.execute("PRAGMA synchronous=NORMAL")
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

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
