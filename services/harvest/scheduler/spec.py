"""What to run, independent of where: the pure data a launcher renders into a script or manifest.

Built by the core from a job row; launchers see nothing else (no database, no Celery), which is what makes
`Launcher.render` a pure function tests can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """Resolved resources (preset defaults filled in)."""

    nodes: int = 1
    gpus_per_node: int = 0
    processes_per_node: int = 1
    cpus_per_node: int = 2
    memory_mib: int = 0
    time_limit_s: int = 3600
    partition: str = ""
    account: str = ""
    qos: str = ""
    namespace: str = ""

    @property
    def world_size(self) -> int:
        return self.nodes * self.processes_per_node


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One training job as the launchers see it."""

    job_id: str
    job_name: str  # `harvest-<job_id>`: how a retried submission finds what an earlier attempt launched
    project_id: str
    snapshot_id: str
    preset: str
    training_args: tuple[str, ...]  # `section.field=value` overrides for `--set`
    resources: ResourceSpec
    env: dict[str, str] = field(default_factory=dict)
    task: str = "train"  # or "pretrain": self-supervised pretraining of a backbone

    @property
    def run_dir(self) -> str:
        return f"runs/{self.job_id}"

    def training_argv(self) -> list[str]:
        """Arguments of `python -m harvest.training` (after the module name)."""
        argv = ["--task", self.task] if self.task != "train" else []
        argv += ["--snapshot", self.snapshot_id, "--config", self.preset, "--run-dir", self.run_dir]
        for override in self.training_args:
            argv += ["--set", override]
        return argv


def job_name(job_id: str) -> str:
    return f"harvest-{job_id}"
