"""The storage interface: keys and usage events, written once in SQL for both backends.

:class:`SqlStore` holds every query; a backend supplies only how to run one statement and
how to run several in a transaction (:meth:`SqlStore._query`, :meth:`SqlStore._transaction`).
Queries are written with ``?`` placeholders (SQLite's paramstyle); the PostgreSQL backend
rewrites them to ``%s``, so no query may contain a literal ``?`` or ``%``.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TypeVar

from ..keys import hash_secret, new_key_pair
from ..origins import CLASSIFICATIONS
from .migrations import CREATE_TABLE, migrations

Params = Sequence[object]
Row = tuple[object, ...]
DAY_MS = 86_400_000
K = TypeVar("K")
_KEY_COLUMNS = "public_key, name, allowed_domains, created_at, revoked_at"
_EVENT_COLUMNS = (
    "event_id, event, public_key, origin, succeeded, classification, created_at,"
    " is_still, is_production"
)
#: Stored as the origin of an event whose client sent ``host: null`` (never a real origin).
NO_ORIGIN = ""


@dataclass(frozen=True)
class ApiKey:
    public_key: str
    name: str
    allowed_domains: tuple[str, ...]
    created_at: int
    revoked_at: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class UsageEvent:
    """What is stored of one event: no IP address, no user data."""

    event_id: str
    event: str
    public_key: str | None
    origin: str
    succeeded: bool
    classification: str
    created_at: int
    is_still: bool = False
    is_production: bool | None = None

    def _content(self) -> tuple[object, ...]:
        return (
            self.event,
            self.public_key,
            self.origin,
            self.succeeded,
            self.is_still,
            self.is_production,
        )

    def same_content(self, other: UsageEvent) -> bool:
        """Whether a retried event carries what the first copy carried."""
        return self._content() == other._content()


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(CLASSIFICATIONS, 0)


@dataclass
class OriginSummary:
    """One origin in the operator view: ``keyless`` events were sent without a key, and
    ``has_key`` says whether any event was sent with one (an origin can have both)."""

    origin: str
    counts: dict[str, int] = field(default_factory=zero_counts)
    first_seen: int = 0
    last_seen: int = 0
    has_key: bool = False
    keyless: int = 0


class SqlStore(ABC):
    """Keys and events over a SQL connection; see the module docstring."""

    @abstractmethod
    async def _query(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one statement; its rows (empty for statements without a result)."""

    @abstractmethod
    async def _transaction(self, statements: list[tuple[str, Params]]) -> None:
        """Run statements atomically."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def _migration_lock(self) -> AbstractAsyncContextManager[None]:
        """Held while migrating, across processes: ``serve --workers N`` starts N processes
        on one database at once, and without it two of them would apply the same step."""

    async def migrate(self) -> list[int]:
        """Apply the pending migrations; the versions applied."""
        async with self._migration_lock():
            await self._query(CREATE_TABLE)
            done = {row[0] for row in await self._query("SELECT version FROM schema_migrations")}
            applied = []
            for step in migrations():
                if step.version in done:
                    continue
                record = (
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
                )
                statements: list[tuple[str, Params]] = [(sql, ()) for sql in step.statements]
                statements.append((record, (step.version, step.name, _now_ms())))
                await self._transaction(statements)
                applied.append(step.version)
            return applied

    async def create_key(self, name: str, allowed_domains: Sequence[str]) -> tuple[str, str]:
        """A new ``(public_key, secret_key)``; only the secret's hash is kept."""
        public_key, secret_key = new_key_pair()
        await self._query(
            "INSERT INTO api_keys (public_key, secret_hash, name, allowed_domains, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                public_key,
                hash_secret(secret_key),
                name,
                json.dumps(list(allowed_domains)),
                _now_ms(),
            ),
        )
        return public_key, secret_key

    async def revoke_key(self, public_key: str) -> ApiKey | None:
        """Revoke a key (idempotent); None if there is no such key."""
        rows = await self._query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE public_key = ?"
            f" RETURNING {_KEY_COLUMNS}",
            (_now_ms(), public_key),
        )
        return _api_key(rows[0]) if rows else None

    async def keys(self) -> list[ApiKey]:
        rows = await self._query(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at")
        return [_api_key(row) for row in rows]

    async def key_by_public(self, public_key: str) -> ApiKey | None:
        rows = await self._query(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE public_key = ?", (public_key,)
        )
        return _api_key(rows[0]) if rows else None

    async def key_by_secret(self, secret_key: str) -> ApiKey | None:
        rows = await self._query(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?",
            (hash_secret(secret_key),),
        )
        return _api_key(rows[0]) if rows else None

    async def record(self, event: UsageEvent) -> UsageEvent:
        """Store ``event`` unless its id is known; the stored event either way."""
        inserted = await self._query(
            f"INSERT INTO usage_events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            (
                event.event_id,
                event.event,
                event.public_key,
                event.origin,
                int(event.succeeded),
                event.classification,
                event.created_at,
                int(event.is_still),
                None if event.is_production is None else int(event.is_production),
            ),
        )
        if inserted:
            return event
        rows = await self._query(
            f"SELECT {_EVENT_COLUMNS} FROM usage_events WHERE event_id = ?", (event.event_id,)
        )
        (event_id, kind, public_key, origin, succeeded, classification, created_at, still, prod) = (
            rows[0]
        )
        return UsageEvent(
            str(event_id),
            str(kind),
            None if public_key is None else str(public_key),
            str(origin),
            bool(succeeded),
            str(classification),
            _int(created_at),
            bool(still),
            None if prod is None else bool(prod),
        )

    async def forget_keyless_before(self, before_ms: int) -> int:
        """Delete the events sent without a key before a time; how many were deleted."""
        rows = await self._query(
            "DELETE FROM usage_events WHERE public_key IS NULL AND created_at < ?"
            " RETURNING event_id",
            (before_ms,),
        )
        return len(rows)

    async def counts(self, public_key: str, since_ms: int) -> dict[str, dict[str, int]]:
        """``{event: {classification: count}}`` for a key since a time."""
        rows = await self._query(
            "SELECT event, classification, COUNT(*) FROM usage_events"
            " WHERE public_key = ? AND created_at >= ? GROUP BY event, classification",
            (public_key, since_ms),
        )
        result: dict[str, dict[str, int]] = {}
        for event, classification, count in rows:
            result.setdefault(str(event), zero_counts())[str(classification)] = _int(count)
        return result

    async def counts_by_day(self, public_key: str, since_ms: int) -> dict[int, dict[str, int]]:
        """``{day number since the epoch (UTC): {classification: count}}``."""
        rows = await self._query(
            f"SELECT created_at / {DAY_MS} AS day, classification, COUNT(*) FROM usage_events"
            " WHERE public_key = ? AND created_at >= ? GROUP BY day, classification",
            (public_key, since_ms),
        )
        return _group(rows, _int)

    async def counts_by_origin(self, public_key: str, since_ms: int) -> dict[str, dict[str, int]]:
        rows = await self._query(
            "SELECT origin, classification, COUNT(*) FROM usage_events"
            " WHERE public_key = ? AND created_at >= ? GROUP BY origin, classification",
            (public_key, since_ms),
        )
        return _group(rows, str)

    async def origins(self, limit: int, offset: int = 0) -> list[OriginSummary]:
        """One page of every origin seen, keyed or not, most recently seen first."""
        sums = ", ".join(
            f"SUM(CASE WHEN classification = '{name}' THEN 1 ELSE 0 END)"
            for name in CLASSIFICATIONS
        )
        rows = await self._query(
            f"SELECT origin, {sums}, MIN(created_at), MAX(created_at),"
            " MAX(CASE WHEN public_key IS NULL THEN 0 ELSE 1 END),"
            " SUM(CASE WHEN public_key IS NULL THEN 1 ELSE 0 END)"
            " FROM usage_events GROUP BY origin ORDER BY MAX(created_at) DESC, origin"
            " LIMIT ? OFFSET ?",
            (limit, offset),
        )
        summaries = []
        for origin, *counts, first, last, keyed, keyless in rows:
            summaries.append(
                OriginSummary(
                    str(origin),
                    dict(zip(CLASSIFICATIONS, map(_int, counts), strict=True)),
                    _int(first),
                    _int(last),
                    bool(keyed),
                    _int(keyless),
                )
            )
        return summaries

    async def origin_totals(self) -> tuple[int, int]:
        """How many origins were ever seen, and how many of them sent an event without a
        key: the operator view's summary, over every page of origins."""
        rows = await self._query(
            "SELECT COUNT(*), COALESCE(SUM(keyless), 0) FROM (SELECT origin,"
            " MAX(CASE WHEN public_key IS NULL THEN 1 ELSE 0 END) AS keyless"
            " FROM usage_events GROUP BY origin) AS per_origin"
        )
        origins, with_keyless = rows[0]
        return _int(origins), _int(with_keyless)


def _group(rows: list[Row], key: Callable[[object], K]) -> dict[K, dict[str, int]]:
    result: dict[K, dict[str, int]] = {}
    for group, classification, count in rows:
        result.setdefault(key(group), zero_counts())[str(classification)] = _int(count)
    return result


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _api_key(row: Row) -> ApiKey:
    public_key, name, allowed_domains, created_at, revoked_at = row
    return ApiKey(
        str(public_key),
        str(name),
        tuple(json.loads(str(allowed_domains))),
        _int(created_at),
        None if revoked_at is None else _int(revoked_at),
    )


def _now_ms() -> int:
    return int(time.time() * 1000)
