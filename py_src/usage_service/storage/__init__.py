"""Storage backends chosen by URL: ``sqlite:///path``, a plain path, or ``postgresql://…``."""

from __future__ import annotations

from .base import ApiKey, OriginSummary, SqlStore, UsageEvent

__all__ = ["ApiKey", "OriginSummary", "SqlStore", "UsageEvent", "open_store"]


def open_store(url: str) -> SqlStore:
    """The backend for ``url`` (not yet migrated: call :meth:`SqlStore.migrate`)."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    if url.startswith("sqlite://"):
        # sqlite:///relative.db and sqlite:////absolute.db, as in SQLAlchemy URLs.
        return _sqlite(url.removeprefix("sqlite://").removeprefix("/"))
    if "://" in url:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://…")
    return _sqlite(url)


def _sqlite(path: str) -> SqlStore:
    from .sqlite import SqliteStore

    return SqliteStore(path)
