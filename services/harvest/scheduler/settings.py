"""Scheduler settings: the jobs database, which backends are enabled, limits, and one class per launcher.

Read once at process start (`SchedulerConfig.load()`) and passed down; launchers never read the
environment themselves, so `render` stays a pure function of the job and these values.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BackendName = Literal["local", "slurm", "kubeflow"]


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", case_sensitive=False)


class SchedulerSettings(BaseSettings):
    """Jobs database, enabled backends and per-project limits."""

    model_config = _config("HARVEST_SCHEDULER_")

    db_url: str | None = Field(default=None, description="Jobs database; default sqlite:///$HARVEST_HOME/scheduler.db")
    # NoDecode: the environment gives "slurm,local" (or JSON); without it pydantic-settings insists on JSON.
    backends: Annotated[list[BackendName], NoDecode] = Field(
        default=["local"], description="Enabled backends, comma-separated or JSON; the first is the default.")
    max_active_per_project: int = Field(default=2, ge=1, description="Jobs of one project launched at once.")
    max_nodes: int = Field(default=64, ge=1)
    max_gpus_per_node: int = Field(default=16, ge=0)
    redispatch_after_s: float = Field(default=60.0, gt=0, description="A QUEUED job's submit task is re-sent after "
                                      "this long (a lost broker message never strands a job).")
    submit_lease_s: float = Field(default=120.0, gt=0, description="A worker that began submitting a job holds it "
                                  "this long; after that (it died) another may adopt it.")
    registration_attempts: int = Field(default=30, ge=1, description="Polls that retry model registration.")
    watch_interval_s: float = Field(default=0.5, gt=0, description="How often WatchJob/GetJobLogs look for news.")
    service_token_ttl_s: int = Field(default=300, ge=30, le=900, description="Lifetime of the scheduler's own tokens.")
    fault: str = Field(default="", description="Test-only fault hook: 'kill-after-submit' SIGKILLs the worker right "
                                               "after the backend accepted a job and before the job row records it.")

    @field_validator("backends", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def resolved_db_url(self, home: Path) -> str:
        return self.db_url or f"sqlite:///{home / 'scheduler.db'}"


class JobEnvSettings(BaseSettings):
    """What every launched training process gets, whatever the backend."""

    model_config = _config("HARVEST_JOB_")

    python: str = Field(default=sys.executable, description="Python with `harvest` installed (bare torchrun).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment for the training processes.")
    env_file: str = Field(default="", description="Sourced by Slurm scripts before training (site secrets, e.g. "
                                                  "the S3 keys), so they never appear in a rendered script.")
    rdzv_port: int = Field(default=29400, ge=1024, le=64535,
                           description="c10d rendezvous base port; a Slurm job uses base + job id % 1000.")
    log_dir: Path | None = Field(default=None, description="Where local and Slurm logs go; default "
                                                           "$HARVEST_HOME/jobs (must be shared with Slurm nodes).")


class SlurmSettings(BaseSettings):
    """The Slurm launcher: sbatch locally or over SSH to a login node, optionally inside Apptainer."""

    model_config = _config("HARVEST_SLURM_")

    ssh_host: str = Field(default="", description="user@login-node to run sbatch/squeue/scancel on; empty: here.")
    partition: str = ""
    account: str = ""
    qos: str = ""
    setup: list[str] = Field(default_factory=list, description="Shell lines the batch script runs before "
                             "training, e.g. ['module load apptainer/1.3', 'module load cuda/12.4'].")
    apptainer: bool = Field(default=False, description="Run torchrun inside `apptainer exec --nv IMAGE`.")
    image: str = Field(default="/opt/harvest/harvest.sif", description="The .sif built from apptainer/harvest.def.")
    binds: list[str] = Field(default_factory=lambda: ["/scratch", "/tmp"],
                             description="Paths bound into the container (cache, scratch, the log dir).")
    signal_seconds: int = Field(default=120, ge=10, description="USR2 this long before the time limit.")
    extra_sbatch_args: list[str] = Field(default_factory=list, description="e.g. ['--hold'] or ['--constraint=a100'].")
    use_sacct: bool = Field(default=False, description="Job status from sacct (needs accounting); else scontrol.")
    command_timeout_s: float = Field(default=30.0, gt=0)


class KubeflowSettings(BaseSettings):
    """The Kubeflow launcher: PyTorchJobs through the Kubernetes API."""

    model_config = _config("HARVEST_KUBEFLOW_")

    namespace: str = "harvest"
    image: str = "ghcr.io/harvest/harvest-training:0.1.0"
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    service_account: str = ""
    store_secret: str = Field(default="harvest-store", description="Secret with HARVEST_STORE_* keys (envFrom).")
    backoff_limit: int = Field(default=3, ge=0, description="Restarts (preemptions, node loss) before FAILED.")
    ttl_seconds_after_finished: int = Field(default=86400, ge=0)
    api_server: str = Field(default="", description="API URL; empty: kubeconfig, or in-cluster config.")
    api_token: SecretStr | None = None
    kubeconfig: Path | None = None
    verify_ssl: bool = True
    cache_volume_gib: int = Field(default=50, ge=1, description="emptyDir size limit for the node-local cache.")


@dataclass
class SchedulerConfig:
    """Every scheduler setting, read from the environment once."""

    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    job: JobEnvSettings = field(default_factory=JobEnvSettings)
    slurm: SlurmSettings = field(default_factory=SlurmSettings)
    kubeflow: KubeflowSettings = field(default_factory=KubeflowSettings)

    def log_dir(self, home: Path) -> Path:
        return self.job.log_dir or home / "jobs"
