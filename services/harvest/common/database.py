"""SQL engines and Alembic migrations shared by the services that keep a database (labels owns users,
projects and annotations; storage keeps its image index). SQLite by default, PostgreSQL in deployments.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

#: A pooled server connection unused for longer than this is checked (one round trip) before it is handed out.
IDLE_PING_S = 1.0
_IDLE_SINCE = "harvest_idle_since"


def make_engine(url: str, *, echo: bool = False, pool_size: int = 20, idle_ping_s: float = IDLE_PING_S,
                autocommit: bool = False) -> Engine:
    """An engine with the settings each backend needs for many concurrent writers (`autocommit`: PostgreSQL
    connections that never open a transaction, for single-statement writes)."""
    if url.startswith("sqlite"):
        database = url.split(":///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    # LIFO: the connection used last is used next, so under load the same few PostgreSQL backends serve
    # (warm caches, statements prepared) and the rest stay idle.
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True,
                           **options)
    ping_idle_connections(engine, idle_ping_s)
    return engine


def ping_idle_connections(engine: Engine, idle_s: float) -> None:
    """Check a pooled connection before use only when it sat idle for `idle_s` or more.

    SQLAlchemy's `pool_pre_ping` checks on every checkout: one extra round trip per request, which was a
    third of the labels service's database waits under 32 annotators. A database restart or an outage
    lasts longer than `idle_s`, so the connections it killed have idled since their last use and are
    checked; a connection dropped within `idle_s` of its last use (a backend killed just then, a fast
    failover) fails its next statement instead, that call gets an error, and SQLAlchemy invalidates the
    connection like any disconnect. Raising InvalidatePoolError makes the pool replace this connection
    and every older one, then retry the checkout (SQLAlchemy's documented custom-ping pattern).
    """

    @event.listens_for(engine, "checkin")
    def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_s:
            return  # a new connection, or one just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(f"pooled connection is gone: {exc}") from exc
            raise


def migrate(url: str, script_location: Path) -> None:
    """Bring the schema under `script_location` to its newest revision (idempotent; run at start)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def run_alembic_env(metadata: MetaData, version_table: str = "alembic_version") -> None:
    """The body of every service's Alembic `env.py`: run migrations online (or offline as SQL).

    Batch mode because SQLite cannot ALTER most things (it rebuilds tables instead); a version table
    per service so several services can share one PostgreSQL database.
    """
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    config = context.config
    options = {"target_metadata": metadata, "render_as_batch": True, "version_table": version_table}
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
