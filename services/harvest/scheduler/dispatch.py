"""Dispatchers: how the RPC side hands work to the background (Celery by default; inline for tools)."""

from __future__ import annotations

from typing import Any


class CeleryDispatcher:
    """Sends the scheduler's Celery tasks by name (no import of the task module needed)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def submit(self, job_id: str) -> None:
        self._app.send_task("harvest.scheduler.submit", args=[job_id])

    def cancel(self, job_id: str) -> None:
        self._app.send_task("harvest.scheduler.cancel", args=[job_id])


class RecordingDispatcher:
    """Remembers what would have been sent (tests and `validate_only` tooling)."""

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.cancelled: list[str] = []

    def submit(self, job_id: str) -> None:
        self.submitted.append(job_id)

    def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)
