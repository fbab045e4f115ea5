"""Celery tasks of the scheduler. Each is short and idempotent; the scheduler issue adds submit/poll/cancel."""

from __future__ import annotations

import os
import socket

from harvest.scheduler.celery_app import app


@app.task(name="harvest.ping")
def ping(payload: str = "") -> dict[str, str | int]:
    """Echo with the worker's identity: proves the broker round trip (used by health checks and tests)."""
    return {"payload": payload, "host": socket.gethostname(), "pid": os.getpid()}
