"""Turning the Train form's choices into a SubmitJobRequest, and jobs into rows and numbers to show.

Pure functions, so the form's logic is tested without Streamlit or servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harvest.v1 import common_pb2, scheduler_pb2

BACKENDS = {"default": scheduler_pb2.BACKEND_UNSPECIFIED, "local": scheduler_pb2.BACKEND_LOCAL,
            "slurm": scheduler_pb2.BACKEND_SLURM, "kubeflow": scheduler_pb2.BACKEND_KUBEFLOW}
TERMINAL = {scheduler_pb2.JOB_STATE_SUCCEEDED, scheduler_pb2.JOB_STATE_FAILED, scheduler_pb2.JOB_STATE_CANCELLED}


@dataclass
class TrainChoices:
    """What the form collected; None/empty/0 means "the preset's value"."""

    preset: str = "quick"
    kind: int = scheduler_pb2.JOB_KIND_SSL_TRAINING  # or JOB_KIND_SELF_SUPERVISED_PRETRAINING
    init_model_id: str = ""  # a registered model (backbone or classifier) to start from
    algorithm: str = ""
    backbone: str = ""
    steps: int | None = None
    global_batch_size: int | None = None
    backend: str = "default"
    nodes: int = 0
    gpus_per_node: int = 0
    time_limit_min: int = 0
    display_name: str = ""
    validation_fraction: float | None = None
    overrides: dict[str, str] = field(default_factory=dict)


def submit_request(project_id: str, choices: TrainChoices, *, validate_only: bool = False,
                   request_id: str = "") -> scheduler_pb2.SubmitJobRequest:
    """The request the scheduler receives: freeze the current labels now, preset plus explicit changes."""
    freeze = common_pb2.FreezeOptions()
    if choices.validation_fraction is not None:
        freeze.validation_fraction = choices.validation_fraction
    request = scheduler_pb2.SubmitJobRequest(
        project_id=project_id, freeze_now=freeze, kind=choices.kind, init_model_id=choices.init_model_id,
        preset=choices.preset, algorithm=choices.algorithm,
        backbone=choices.backbone, backend=BACKENDS[choices.backend], display_name=choices.display_name,
        overrides=choices.overrides, validate_only=validate_only, request_id=request_id,
        resources=common_pb2.Resources(nodes=choices.nodes, gpus_per_node=choices.gpus_per_node,
                                       time_limit_s=choices.time_limit_min * 60))
    if choices.steps:
        request.steps = choices.steps
    if choices.global_batch_size:
        request.global_batch_size = choices.global_batch_size
    return request


def state_name(state: int) -> str:
    return scheduler_pb2.JobState.Name(state).removeprefix("JOB_STATE_")


def fraction_done(job: scheduler_pb2.Job) -> float:
    """Progress in [0, 1]: steps done over total; 1 when SUCCEEDED even without a last progress update."""
    if job.state == scheduler_pb2.JOB_STATE_SUCCEEDED:
        return 1.0
    total = job.progress.total_steps
    return min(job.progress.step / total, 1.0) if total else 0.0


def eta_words(seconds: float) -> str:
    if seconds <= 0:
        return "unknown"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def job_row(job: scheduler_pb2.Job) -> dict[str, object]:
    return {"job": job.display_name or job.job_id, "state": state_name(job.state), "preset": job.preset,
            "algorithm": job.algorithm, "backend": scheduler_pb2.Backend.Name(job.backend).removeprefix("BACKEND_"),
            "progress": f"{fraction_done(job):.0%}", "img/s": round(job.progress.images_per_second, 1),
            "GPUs": job.progress.gpu_count, "id": job.job_id}


def curves(events: list[scheduler_pb2.JobEvent]) -> dict[str, dict[int, float]]:
    """Metric series by name (step → value) from WatchJob metric events; later points replace earlier."""
    series: dict[str, dict[int, float]] = {}
    for event in events:
        if event.WhichOneof("event") != "metric":
            continue
        for name, value in event.metric.values.items():
            key = f"{event.metric.phase}/{name}" if event.metric.phase == "eval" else name
            series.setdefault(key, {})[event.metric.step] = value
    return series
