"""The PostgreSQL backend (psycopg 3, async), with a small connection pool of its own.

``psycopg_pool`` is a separate distribution that may be missing, and the service needs
only this much of a pool: at most ``size`` connections, opened on demand, reused LIFO, and
a connection that is broken or was left inside a transaction (a cancelled request) is
closed instead of reused. After a database restart each idle connection fails once (the
request gets a 503 and the client retries) and is replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.pq import TransactionStatus

from .base import Params, Row, SqlStore

#: The ``pg_advisory_lock`` key that serialises migrations ("pywebcodecs" in ASCII, cut
#: to 63 bits): processes starting together on a fresh database take turns.
MIGRATION_LOCK = int.from_bytes(b"pywebcod", "big") >> 1


class PostgresStore(SqlStore):
    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self._url = url
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[psycopg.AsyncConnection] = []

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        async with self._slots:
            if self._idle:
                connection = self._idle.pop()
            else:
                connection = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            try:
                yield connection
            finally:
                reusable = connection.info.transaction_status == TransactionStatus.IDLE
                if reusable and not connection.closed:
                    self._idle.append(connection)
                else:
                    await connection.close()

    async def _query(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection() as connection:
            cursor = await connection.execute(_paramstyle(sql), params)
            return await cursor.fetchall() if cursor.description else []

    async def _transaction(self, statements: list[tuple[str, Params]]) -> None:
        async with self._connection() as connection, connection.transaction():
            for sql, params in statements:
                await connection.execute(_paramstyle(sql), params)

    @asynccontextmanager
    async def _migration_lock(self) -> AsyncIterator[None]:
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as lock:
            await lock.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                yield
            finally:
                await lock.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()


def _paramstyle(sql: str) -> str:
    return sql.replace("?", "%s")
