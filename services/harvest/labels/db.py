"""Database engine and schema migration for the labels service (SQLite by default, PostgreSQL too)."""

from __future__ import annotations

from pathlib import Path

from harvest.common.database import make_engine, session_factory
from harvest.common.database import migrate as migrate_schema

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

__all__ = ["MIGRATIONS", "make_engine", "migrate", "session_factory"]


def migrate(url: str) -> None:
    """Bring the labels schema to the newest revision (idempotent; run at service start)."""
    migrate_schema(url, MIGRATIONS)
