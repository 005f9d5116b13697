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

    def same_content(self, other: UsageEvent) -> bool:
        """Whether a retried event carries what the first copy carried."""
        mine = (self.event, self.public_key, self.origin, self.succeeded)
        return mine == (other.event, other.public_key, other.origin, other.succeeded)


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(CLASSIFICATIONS, 0)


@dataclass
class OriginSummary:
    """One origin in the operator view."""

    origin: str
    counts: dict[str, int] = field(default_factory=zero_counts)
    first_seen: int = 0
    last_seen: int = 0
    has_key: bool = False


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

    async def migrate(self) -> list[int]:
        """Apply the pending migrations; the versions applied."""
        await self._query(CREATE_TABLE)
        done = {row[0] for row in await self._query("SELECT version FROM schema_migrations")}
        applied = []
        for step in migrations():
            if step.version in done:
                continue
            record = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
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
            "INSERT INTO usage_events (event_id, event, public_key, origin, succeeded,"
            " classification, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            (
                event.event_id,
                event.event,
                event.public_key,
                event.origin,
                int(event.succeeded),
                event.classification,
                event.created_at,
            ),
        )
        if inserted:
            return event
        rows = await self._query(
            "SELECT event_id, event, public_key, origin, succeeded, classification, created_at"
            " FROM usage_events WHERE event_id = ?",
            (event.event_id,),
        )
        (event_id, kind, public_key, origin, succeeded, classification, created_at) = rows[0]
        return UsageEvent(
            str(event_id),
            str(kind),
            None if public_key is None else str(public_key),
            str(origin),
            bool(succeeded),
            str(classification),
            _int(created_at),
        )

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

    async def origins(self) -> list[OriginSummary]:
        """Every origin ever seen, keyed or not, most recently seen first."""
        rows = await self._query(
            "SELECT origin, classification, COUNT(*), MIN(created_at), MAX(created_at),"
            " MAX(CASE WHEN public_key IS NULL THEN 0 ELSE 1 END)"
            " FROM usage_events GROUP BY origin, classification"
        )
        summaries: dict[str, OriginSummary] = {}
        for origin, classification, count, first, last, keyed in rows:
            summary = summaries.setdefault(
                str(origin), OriginSummary(str(origin), first_seen=_int(first))
            )
            summary.counts[str(classification)] = _int(count)
            summary.first_seen = min(summary.first_seen, _int(first))
            summary.last_seen = max(summary.last_seen, _int(last))
            summary.has_key = summary.has_key or bool(keyed)
        return sorted(summaries.values(), key=lambda summary: -summary.last_seen)


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
