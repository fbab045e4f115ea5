"""Session fixtures giving tests real servers; see tests/harness for how each is provided."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.servers import (
    SERVERS_USED,
    PostgresServer,
    RedisServer,
    S3Server,
    fresh_database,
    require,
    start_postgres,
    start_redis,
    start_s3,
)
from tests.harness.slurm import slurm_cluster  # noqa: F401 - re-exported fixture

ROOT = Path(__file__).resolve().parents[1]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SERVERS_USED:
        terminalreporter.section("real servers used")
        for name, where in sorted(SERVERS_USED.items()):
            terminalreporter.write_line(f"{name:12s} {where}")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = require("Redis", start_redis)
    SERVERS_USED["Redis"] = f"{server.version()} at {server.url}"
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A clean Redis database for one test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield f"{redis_server.url}/0"
    client.flushall()
    client.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = require("PostgreSQL", start_postgres)
    SERVERS_USED["PostgreSQL"] = f"{server.version()} at {server.host}:{server.port}"
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (SQLAlchemy URL)."""
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = require("S3 endpoint (moto)", start_s3)
    SERVERS_USED["S3"] = f"moto server {server.version()} at http://{server.endpoint} (minio SDK)"
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> Iterator[tuple[S3Server, str]]:
    """An empty server state and a fresh bucket name (not yet created) for one test."""
    s3_server.reset()
    yield s3_server, f"harvest-test-{uuid.uuid4().hex[:10]}"
    s3_server.reset()
