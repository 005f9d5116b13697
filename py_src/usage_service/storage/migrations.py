"""Schema migrations: numbered SQL files, applied in order, recorded in ``schema_migrations``.

``migrations/NNNN_name.sql`` holds statements separated by ``;`` in the SQL both backends
understand (TEXT, BIGINT, INTEGER, no engine-specific types). A step is applied in one
transaction together with its ``schema_migrations`` row, so a step is never half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations"
    " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def migrations() -> list[Migration]:
    """Every step shipped with the package, in version order."""
    steps = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, name = entry.name.removesuffix(".sql").partition("_")
            text = entry.read_text(encoding="utf-8")
            statements = tuple(part.strip() for part in text.split(";") if part.strip())
            steps.append(Migration(int(number), name, statements))
    return sorted(steps, key=lambda step: step.version)
