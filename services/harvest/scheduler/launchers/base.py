"""The launcher interface every backend implements (after torchx's Scheduler: dryrun/schedule/describe/cancel).

`render` is pure: the rendered script or manifest is a value tests read, exactly what the backend receives.
`submit` hands it over and returns the backend's id; `find` looks a job up by its deterministic name so a
retried submission adopts instead of launching twice; `status` reports what the backend knows.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from typing import Any

from harvest.scheduler.spec import JobSpec


class Phase(enum.Enum):
    """A backend's view of a job, reduced to what the state machine needs."""

    PENDING = "pending"  # accepted, waiting for resources (or requeued, waiting again)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    GONE = "gone"  # the backend no longer knows the job (purged) and left no exit status


@dataclass(frozen=True, slots=True)
class Rendered:
    """What the backend receives: a script, a manifest, or a command line."""

    kind: str  # "sbatch", "pytorchjob", "command"
    text: str
    payload: Any = None  # the structured form (the manifest dict, the argv list)


@dataclass(frozen=True, slots=True)
class LaunchStatus:
    phase: Phase
    restarts: int = 0  # times the backend restarted the job (Slurm requeue, pod restarts)
    exit_code: int | None = None
    message: str = ""  # plain words: "node n2 failed", "exit code 2"
    nodes: tuple[str, ...] = field(default_factory=tuple)
    queue_position: int = 0


class LauncherError(RuntimeError):
    """The backend refused or could not be reached; the message says which and why."""


class Launcher(abc.ABC):
    """One backend."""

    name: str

    @abc.abstractmethod
    def render(self, job: JobSpec) -> Rendered:
        """The script/manifest for `job` (pure: no I/O, same input, same output)."""

    @abc.abstractmethod
    def submit(self, job: JobSpec, rendered: Rendered) -> str:
        """Hand the job to the backend; returns its external id."""

    @abc.abstractmethod
    def find(self, job: JobSpec) -> str | None:
        """The external id of a job the backend already has under `job.job_name`, or None."""

    @abc.abstractmethod
    def status(self, job: JobSpec, external_id: str) -> LaunchStatus:
        """What the backend says about the job now."""

    @abc.abstractmethod
    def cancel(self, job: JobSpec, external_id: str) -> None:
        """Ask the backend to stop the job (idempotent)."""

    @abc.abstractmethod
    def logs(self, job: JobSpec, external_id: str, offset: int = 0, node: str = "") -> bytes:
        """The job's log from byte `offset` (b"" when there is nothing yet)."""
