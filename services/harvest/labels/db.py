"""Database engine, sessions and schema migration for the labels service (SQLite by default, PostgreSQL too).

`Database` hands out two kinds of sessions. A *write* session on SQLite starts with `BEGIN IMMEDIATE`, taking
the write lock before the first read: a deferred transaction that reads an item and then writes it fails
with "database is locked" (SQLITE_BUSY_SNAPSHOT, not retried by the busy timeout) when another writer got in
between, while an immediate one simply queues. Writers of this process also queue on a lock before BEGIN:
SQLite's busy handler waits by sleeping (1, 2, 5 … 100 ms), which under many concurrent annotators turns
into long tail latencies, while a lock hands over the database the moment the previous writer commits. On
PostgreSQL both are ordinary READ COMMITTED transactions; writers lock the rows they change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Insert, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from harvest.common.database import make_engine, session_factory
from harvest.common.database import migrate as migrate_schema

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

__all__ = ["MIGRATIONS", "Database", "make_engine", "migrate", "session_factory"]

_WRITE_OPTION = "harvest_write"


def migrate(url: str) -> None:
    """Bring the labels schema to the newest revision (idempotent; run at service start)."""
    migrate_schema(url, MIGRATIONS)


def _explicit_sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, emit BEGIN, so writes can ask for BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _statement_engine(engine: Engine) -> Engine:
    """On PostgreSQL, a pool of its own, in autocommit, for the hot single-statement writes.

    Why: psycopg drops every prepared statement of a connection whenever a ROLLBACK runs on it, and each
    read session ends with one; on a pool shared with sessions the label write's statement was planned
    again and again (a few ms of server CPU each time for the group statement). Connections that never
    open a transaction never roll back, so their statements stay prepared. Disposed with `engine`.
    Measured in-process (16 threads labeling on PostgreSQL): 0.31 → 0.13 ms of PostgreSQL CPU per write,
    2,560 → 3,018 writes/s.
    """
    if engine.dialect.name != "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    # As many connections as the session pool, which is sized to the serving threads
    # (HARVEST_SERVER_MAX_WORKERS + 4): an overflow connection is closed when returned, so a smaller pool
    # opens a new PostgreSQL connection for most writes under load (8 kept at 16 threads: half the writes/s).
    sizing = {"pool_size": engine.pool.size()} if isinstance(engine.pool, QueuePool) else {}
    statements = make_engine(engine.url.render_as_string(hide_password=False), echo=bool(engine.echo),
                             autocommit=True, **sizing)
    event.listen(engine, "engine_disposed", lambda _engine: statements.dispose())

    @event.listens_for(statements, "connect")
    def _generic_plans(dbapi_connection: Any, _record: Any) -> None:
        # The hot statements look rows up by primary key whatever their parameters, so their generic plan is
        # the right one; PostgreSQL's default would plan the batched write (arrays) anew on every call,
        # ~1.5 ms of server CPU each, because a custom plan of an array statement never looks costlier.
        dbapi_connection.execute("SET plan_cache_mode = force_generic_plan")

    return statements


class Database:
    """Sessions over one engine: `read()` for queries, `write()` for one atomic change."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect == "sqlite":
            _explicit_sqlite_transactions(engine)
        self._write_engine = engine.execution_options(**{_WRITE_OPTION: True})
        self._sqlite_writer = threading.Lock() if self.dialect == "sqlite" else None
        self._autocommit_engine = _statement_engine(engine)
        self._read = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False, autoflush=False)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Plain sessions for code written against a sessionmaker (the user directory)."""
        return self._read

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self._writer_turn(), self._write.begin() as session:
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection in one write transaction (for hand-written statements on the hot path)."""
        with self._writer_turn(), self._write_engine.begin() as connection:
            yield connection

    def _writer_turn(self) -> threading.Lock | nullcontext[None]:
        return self._sqlite_writer if self._sqlite_writer is not None else nullcontext()

    @contextmanager
    def statement_connection(self) -> Iterator[Connection]:
        """A connection where each statement is its own transaction (PostgreSQL autocommit): for writes that
        are one atomic statement, this saves the BEGIN and COMMIT round trips."""
        with self._autocommit_engine.connect() as connection:
            yield connection

    def insert(self, table: Any) -> Insert:
        """An INSERT that supports ON CONFLICT on both backends (`on_conflict_do_nothing/update`)."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    @property
    def locks_rows(self) -> bool:
        """True when `SELECT … FOR UPDATE` is meaningful (SQLite already serializes writers)."""
        return self.dialect == "postgresql"
