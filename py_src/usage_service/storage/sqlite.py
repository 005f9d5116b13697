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

An fsync per event would cap the service at the disk's fsyncs per second, so writes are
committed in groups: the writes that arrive while one group is being committed wait and
go together in the next transaction, one fsync for all of them (each in its own
savepoint, so one failing statement fails only its own request). No request is answered
before the commit that holds its write.
"""

from __future__ import annotations

import asyncio
import fcntl
import re
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from .base import Params, Row, SqlStore

_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_Write = tuple[str, Params, "asyncio.Future[list[Row]]"]


class SqliteStore(SqlStore):
    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._writes: list[_Write] = []
        self._writer: asyncio.Task[None] | None = None

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
        if _WRITE.match(sql) is None:
            return await self._run_in_worker([(sql, params)], atomic=False)
        future: asyncio.Future[list[Row]] = asyncio.get_running_loop().create_future()
        self._writes.append((sql, params, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._commit_groups())
        return await future

    async def _commit_groups(self) -> None:
        loop = asyncio.get_running_loop()
        while self._writes:
            group, self._writes = self._writes, []
            statements = [(sql, params) for sql, params, _ in group]
            try:
                outcomes = await loop.run_in_executor(self._executor, self._run_group, statements)
            except Exception as exc:  # the whole group failed (busy, disk full, …)
                outcomes = [exc] * len(group)
            for (_, _, future), outcome in zip(group, outcomes, strict=True):
                if future.done():  # its request was cancelled
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def _run_group(self, statements: list[tuple[str, Params]]) -> list[list[Row] | Exception]:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        outcomes: list[list[Row] | Exception] = []
        try:
            for sql, params in statements:
                connection.execute("SAVEPOINT one_write")
                try:
                    outcomes.append(connection.execute(sql, params).fetchall())
                except sqlite3.Error as exc:
                    connection.execute("ROLLBACK TO one_write")
                    outcomes.append(exc)
                connection.execute("RELEASE one_write")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return outcomes

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
