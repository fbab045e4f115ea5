"""The labels service's hot single-statement writes run on a PostgreSQL pool of their own: psycopg drops
a connection's prepared statements whenever a ROLLBACK runs on it (every read session ends with one), so
on a shared pool the label write was planned again and again. Its own pool keeps them prepared, and is
closed with the service's engine."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import select, text

from harvest.labels.db import Database, make_engine, migrate
from harvest.labels.models import Project

pytestmark = pytest.mark.integration

HOT = text("SELECT CAST(:x AS integer) + 41")


def _prepared(database: Database) -> list[str]:
    with database.statement_connection() as connection:
        return list(connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars())


def test_hot_statements_stay_prepared_across_read_sessions(postgres_url: str) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    database = Database(engine)
    try:
        for _ in range(6):  # psycopg prepares a statement on its 5th execution on a connection
            with database.statement_connection() as connection:
                assert connection.execute(HOT, {"x": 1}).scalar_one() == 42
        for _ in range(3):  # read sessions end in ROLLBACK on their own connections
            with database.read() as session:
                session.execute(select(Project.id)).all()
        assert any("+ 41" in statement for statement in _prepared(database))
    finally:
        engine.dispose()


def test_disposing_the_engine_closes_the_statement_pool_too(postgres_url: str) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    database = Database(engine)
    with database.statement_connection() as connection:
        connection.execute(HOT, {"x": 1})
    with database.read() as session:
        session.execute(select(Project.id)).all()
    name = engine.url.database
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")

    def connections() -> int:
        with psycopg.connect(admin, autocommit=True) as probe:
            row = probe.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                                "pg_backend_pid() AND backend_type = 'client backend'", (name,)).fetchone()
            return int(row[0]) if row else 0

    def settles_at(count: int) -> bool:
        """Backends exit a moment after their client closes: poll for a while."""
        deadline = time.monotonic() + 10
        while connections() != count and time.monotonic() < deadline:
            time.sleep(0.05)
        return connections() == count

    assert settles_at(2)  # one in each pool
    engine.dispose()
    assert settles_at(0)
