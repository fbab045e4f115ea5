"""Pooled PostgreSQL connections are checked only after sitting idle (harvest.common.database): a
connection the server dropped while it idled is replaced before use, and a connection in continuous use
costs no extra round trip (so a drop right after its last use fails that one statement, and the pool then
replaces it)."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from harvest.common import database

pytestmark = pytest.mark.integration


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        assert connection.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


def _engine(url: str, idle_s: float) -> Engine:
    return database.make_engine(url, pool_size=1, idle_ping_s=idle_s)


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_url: str) -> None:
    engine = _engine(postgres_url, idle_s=0.05)
    try:
        first = _backend_pid(engine)
        _terminate(postgres_url, first)
        time.sleep(0.2)
        assert _backend_pid(engine) != first  # no error reached the caller
    finally:
        engine.dispose()


def test_a_connection_just_used_is_not_pinged(postgres_url: str) -> None:
    engine = _engine(postgres_url, idle_s=60)
    try:
        first = _backend_pid(engine)
        _terminate(postgres_url, first)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert _backend_pid(engine) != first  # the failed connection was invalidated and replaced
    finally:
        engine.dispose()
