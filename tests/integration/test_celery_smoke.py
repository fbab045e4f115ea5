"""A real Celery worker (`harvest worker`) on a real Redis broker completes a task round trip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvest.common.settings import BrokerSettings
from harvest.scheduler.celery_app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(redis_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "HARVEST_HOME": str(tmp_path), "HARVEST_BROKER_URL": redis_url,
           "HARVEST_BROKER_RESULT_BACKEND": redis_url}
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "harvest.cli", "worker"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()


def test_task_round_trip_through_redis(worker: subprocess.Popen[bytes], redis_url: str, tmp_path: Path) -> None:
    app = create_app(BrokerSettings(url=redis_url, result_backend=redis_url), home=tmp_path)
    result = app.send_task("harvest.ping", args=["hello"])
    try:
        reply = result.get(timeout=60)
    except Exception:
        print((tmp_path / "worker.log").read_text(errors="replace")[-3000:])
        raise
    assert reply["payload"] == "hello"
    assert reply["pid"] == worker.pid  # solo pool: the task ran in the worker process itself


def test_worker_stops_cleanly_on_sigterm(worker: subprocess.Popen[bytes], redis_url: str, tmp_path: Path) -> None:
    app = create_app(BrokerSettings(url=redis_url, result_backend=redis_url), home=tmp_path)
    assert app.send_task("harvest.ping").get(timeout=60)["pid"] == worker.pid
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
