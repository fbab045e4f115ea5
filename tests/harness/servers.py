"""Real servers for the integration tests: Redis, PostgreSQL and an S3 endpoint (moto's server).

Each is installed (Debian packages, only when missing) and started when not already running; what
the harness started it also stops. A server that cannot be started fails the tests that need it with
the reason: never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install-system-deps.sh"


#: Real servers this session used, for the closing summary (so a CI log shows what the tests ran against).
SERVERS_USED: dict[str, str] = {}


class HarnessError(RuntimeError):
    """A server could not be provided; the message says why and what was tried."""


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_port(port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.1)
    raise HarnessError(f"{what} did not open port {port} within {timeout_s:.0f}s")


def install_packages(*packages: str) -> None:
    result = subprocess.run(["bash", str(INSTALL), *packages], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise HarnessError(f"installing {' '.join(packages)} failed:\n{result.stdout}\n{result.stderr}")


def require(provider: str, factory):  # type: ignore[no-untyped-def]
    """Run a server factory, turning a HarnessError into a test failure that names the server."""
    try:
        return factory()
    except HarnessError as exc:
        pytest.fail(f"{provider} unavailable, so this test cannot run: {exc}", pytrace=False)


# --- Redis -------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes] | None
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def version(self) -> str:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            return f"Redis {client.info('server')['redis_version']}"
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis() -> RedisServer:
    """A private redis-server on a free port (clean state, nothing persisted)."""
    if not shutil.which("redis-server"):
        install_packages("redis-server")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="harvest-redis-"))
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, 15, "redis-server")
    except HarnessError:
        process.kill()
        raise
    return RedisServer(port, process, workdir)


# --- PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    started_cluster: str | None  # "VERSION NAME" when the harness started it

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def version(self) -> str:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres") as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"

    def stop(self) -> None:
        if self.started_cluster:
            version, name = self.started_cluster.split()
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop"],
                           capture_output=True, timeout=60)


def start_postgres() -> PostgresServer:
    """The host's PostgreSQL (installed and its cluster started when missing).

    Override with HARVEST_TEST_PG_HOST/PORT/USER to use another server.
    """
    host = os.environ.get("HARVEST_TEST_PG_HOST", "127.0.0.1")
    port = int(os.environ.get("HARVEST_TEST_PG_PORT", "5432"))
    user = os.environ.get("HARVEST_TEST_PG_USER", "postgres")
    started = None
    if not port_open(port, host):
        if not shutil.which("pg_ctlcluster"):
            install_packages("postgresql")
        clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.split("\n")
        clusters = [line.split() for line in clusters if line.strip()]
        if not clusters:
            raise HarnessError("PostgreSQL is installed but has no cluster (pg_createcluster was not run)")
        version, name, cluster_port = clusters[0][0], clusters[0][1], int(clusters[0][2])
        _ensure_trust_auth(version, name)
        result = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0 and "already running" not in result.stderr:
            raise HarnessError(f"pg_ctlcluster start failed: {result.stderr.strip()}")
        port = cluster_port
        wait_port(port, 30, "PostgreSQL")
        started = f"{version} {name}"
    server = PostgresServer(host, port, user, started)
    try:
        server.admin("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - reported as a harness failure
        raise HarnessError(f"cannot connect to PostgreSQL at {host}:{port} as {user}: {exc}") from exc
    return server


def _ensure_trust_auth(version: str, name: str) -> None:
    """Local test clusters: trust loopback connections (the test user has no password)."""
    hba = Path(f"/etc/postgresql/{version}/{name}/pg_hba.conf")
    if hba.exists() and "# harvest-test" not in hba.read_text():
        rules = "# harvest-test\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
        hba.write_text(rules + hba.read_text())


@contextmanager
def fresh_database(server: PostgresServer) -> Iterator[str]:
    """A new, empty database for one test; dropped afterwards."""
    name = f"harvest_test_{uuid.uuid4().hex[:12]}"
    server.admin(f'CREATE DATABASE "{name}"')
    try:
        yield server.url(name)
    finally:
        server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- S3 (moto's server on loopback) ----------------------------------------------------------------


@dataclass
class S3Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def reset(self) -> None:
        import urllib.request

        request = urllib.request.Request(f"http://{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback
            pass

    def version(self) -> str:
        from importlib.metadata import version

        return version("moto")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_s3() -> S3Server:
    """moto's S3-compatible HTTP server in its own process (no MinIO binary can be installed here), so
    the object store is a separate server as in a deployment, not a thread sharing the tests' GIL."""
    import importlib.util
    import sys

    if importlib.util.find_spec("moto.server") is None:
        raise HarnessError("moto[server] is not installed in this environment")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 30, "moto server")
    except HarnessError:
        process.kill()
        raise
    return S3Server("127.0.0.1", port, process)
