"""Celery tasks of the scheduler: short, idempotent, and only ever calling the core.

`submit(job_id)` launches or adopts, `poll()` (periodic, Celery beat) advances every active job,
`cancel(job_id)` carries out a cancellation. The core is built once per worker process from settings.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from harvest.scheduler.celery_app import app

_core: Any = None
_lock = threading.Lock()


def core() -> Any:
    """The worker's scheduler core (built on first use, from the same settings as the service)."""
    global _core
    with _lock:
        if _core is None:
            from harvest.common.home import load_auth_settings
            from harvest.common.server import ServerConfig
            from harvest.common.settings import HomeSettings
            from harvest.scheduler.dispatch import CeleryDispatcher
            from harvest.scheduler.service import build_scheduler

            home = HomeSettings().home
            server = ServerConfig()
            _core = build_scheduler(home, CeleryDispatcher(app), auth=load_auth_settings(home),
                                    endpoints=server.endpoints, tls=server.tls, check_membership=False).core
        return _core


@app.task(name="harvest.ping")
def ping(payload: str = "") -> dict[str, str | int]:
    """Echo with the worker's identity: proves the broker round trip (used by health checks and tests)."""
    return {"payload": payload, "host": socket.gethostname(), "pid": os.getpid()}


@app.task(name="harvest.scheduler.submit")
def submit(job_id: str) -> str:
    """Launch a QUEUED job on its backend, or adopt the one an earlier attempt launched."""
    return str(core().launch(job_id))


@app.task(name="harvest.scheduler.poll")
def poll() -> dict[str, int]:
    """Advance every active job from its backend's status and its metrics."""
    return dict(core().poll())


@app.task(name="harvest.scheduler.cancel")
def cancel(job_id: str) -> None:
    """Cancel a job on its backend and record it once the backend confirms."""
    core().cancel_on_backend(job_id)
