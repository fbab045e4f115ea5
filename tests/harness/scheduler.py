"""Scheduler test helpers: a scripted launcher, a test principal, and a core on a given database."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from harvest.common.auth import Principal, Role
from harvest.common.database import session_factory
from harvest.common.objectstore import LocalObjectStore
from harvest.common.peers import Caller
from harvest.scheduler.core import SchedulerCore
from harvest.scheduler.dispatch import RecordingDispatcher
from harvest.scheduler.jobs import JobStore
from harvest.scheduler.launchers.base import Launcher, LaunchStatus, Phase, Rendered
from harvest.scheduler.service import open_jobs_database
from harvest.scheduler.settings import SchedulerSettings
from harvest.scheduler.spec import JobSpec


@dataclass
class ScriptedLauncher(Launcher):
    """A backend whose answers the test sets; counts every submission (thread-safe)."""

    name: str = "local"
    submitted: list[str] = field(default_factory=list)
    statuses: dict[str, LaunchStatus] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    log_text: bytes = b""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def render(self, job: JobSpec) -> Rendered:
        return Rendered("command", " ".join(job.training_argv()))

    def submit(self, job: JobSpec, rendered: Rendered) -> str:
        with self.lock:
            self.submitted.append(job.job_name)
            return f"ext-{len(self.submitted)}"

    def find(self, job: JobSpec) -> str | None:
        with self.lock:
            return f"ext-{self.submitted.index(job.job_name) + 1}" if job.job_name in self.submitted else None

    def status(self, job: JobSpec, external_id: str) -> LaunchStatus:
        return self.statuses.get(job.job_id, LaunchStatus(Phase.PENDING))

    def cancel(self, job: JobSpec, external_id: str) -> None:
        self.cancelled.append(external_id)
        self.statuses[job.job_id] = LaunchStatus(Phase.CANCELLED)

    def logs(self, job: JobSpec, external_id: str, offset: int = 0, node: str = "") -> bytes:
        return self.log_text[offset:]


def caller(user: str = "u1", role: Role = Role.EXPERT) -> Caller:
    return Caller(Principal(user, user, role, f"tok-{user}", 2e9), "token")


def scripted_core(url: str, root: Path, **settings: object) -> tuple[SchedulerCore, ScriptedLauncher,
                                                                      RecordingDispatcher]:
    launcher = ScriptedLauncher()
    dispatcher = RecordingDispatcher()
    engine = open_jobs_database(url)
    core = SchedulerCore(JobStore(session_factory(engine)), {"local": launcher}, LocalObjectStore(root / "store"),
                         SchedulerSettings(**settings), dispatcher)  # type: ignore[arg-type]
    return core, launcher, dispatcher
