"""gRPC layer of the scheduler service: translates messages and nothing else (the core does the work;
errors it raises become status codes in the server bootstrap)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import grpc
import yaml

from harvest.common.auth import caller_token, current_principal
from harvest.common.errors import InvalidArgument
from harvest.common.peers import Caller
from harvest.common.server import Register, registrar
from harvest.common.timestamps import to_timestamp
from harvest.scheduler import presets
from harvest.scheduler.core import JobView, SchedulerCore, SubmitRequest
from harvest.scheduler.jobs import Event, JobFilter
from harvest.scheduler.spec import ResourceSpec
from harvest.scheduler.states import State
from harvest.training.config import PRESETS, load_config
from harvest.v1 import common_pb2, scheduler_pb2, scheduler_pb2_grpc

BACKENDS = {scheduler_pb2.BACKEND_LOCAL: "local", scheduler_pb2.BACKEND_SLURM: "slurm",
            scheduler_pb2.BACKEND_KUBEFLOW: "kubeflow"}
BACKEND_NUMBERS = {name: number for number, name in BACKENDS.items()}
RESOURCE_FIELDS = ("nodes", "gpus_per_node", "cpus_per_node", "memory_mib", "time_limit_s", "partition", "account",
                   "qos", "namespace", "processes_per_node")


def _caller(context: grpc.ServicerContext) -> Caller:
    return Caller(current_principal(), caller_token(context.invocation_metadata()))


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    """The scheduler service's RPCs over its core."""

    def __init__(self, core: SchedulerCore) -> None:
        self.core = core

    def SubmitJob(self, request: scheduler_pb2.SubmitJobRequest, context: grpc.ServicerContext) -> Any:
        if request.backend and request.backend not in BACKENDS:
            raise InvalidArgument(f"unknown backend {request.backend}")
        data = request.WhichOneof("data")
        submit = SubmitRequest(
            project_id=request.project_id, snapshot_id=request.snapshot_id if data == "snapshot_id" else "",
            freeze_now=request.freeze_now if data == "freeze_now" else None, kind=request.kind, preset=request.preset,
            algorithm=request.algorithm, backbone=request.backbone,
            steps=request.steps if request.HasField("steps") else None,
            global_batch_size=request.global_batch_size if request.HasField("global_batch_size") else None,
            overrides=dict(request.overrides), backend=BACKENDS.get(request.backend, ""),
            resources={f: getattr(request.resources, f) for f in RESOURCE_FIELDS},
            init_model_id=request.init_model_id, display_name=request.display_name, request_id=request.request_id,
            validate_only=request.validate_only)
        return scheduler_pb2.SubmitJobResponse(job=job_message(self.core.submit_job(_caller(context), submit)))

    def GetJob(self, request: scheduler_pb2.GetJobRequest, context: grpc.ServicerContext) -> Any:
        return scheduler_pb2.GetJobResponse(job=job_message(self.core.get_job(_caller(context), request.job_id)))

    def ListJobs(self, request: scheduler_pb2.ListJobsRequest, context: grpc.ServicerContext) -> Any:
        size = request.page.page_size or common_pb2.LIMIT_DEFAULT_PAGE_SIZE
        if size < 0 or size > common_pb2.LIMIT_MAX_PAGE_SIZE:
            raise InvalidArgument(f"page_size must be between 1 and {common_pb2.LIMIT_MAX_PAGE_SIZE}")
        if request.backend and request.backend not in BACKENDS:
            raise InvalidArgument(f"unknown backend {request.backend}")
        where = JobFilter(states=[State(s) for s in request.states if s], kind=request.kind,
                          backend=BACKENDS.get(request.backend, ""), created_by=request.created_by,
                          created_after=request.created_after.ToDatetime(dt.UTC)
                          if request.HasField("created_after") else None, snapshot_id=request.snapshot_id)
        views, token, total = self.core.list_jobs(_caller(context), where, request.project_id, size,
                                                  request.page.page_token)
        return scheduler_pb2.ListJobsResponse(jobs=[job_message(v, summary=True) for v in views],
                                              page=common_pb2.PageInfo(next_page_token=token, total_size=total))

    def CancelJob(self, request: scheduler_pb2.CancelJobRequest, context: grpc.ServicerContext) -> Any:
        view = self.core.cancel_job(_caller(context), request.job_id, request.reason)
        return scheduler_pb2.CancelJobResponse(job=job_message(view))

    def WatchJob(self, request: scheduler_pb2.WatchJobRequest, context: grpc.ServicerContext) -> Iterator[Any]:
        for item in self.core.watch(_caller(context), request.job_id, request.after_sequence, request.skip_metrics,
                                    context.is_active):
            if isinstance(item, JobView):
                now = to_timestamp(dt.datetime.now(dt.UTC))
                yield scheduler_pb2.JobEvent(sequence=item.row.last_sequence, time=now, job=job_message(item))
            else:
                yield event_message(item)

    def GetJobLogs(self, request: scheduler_pb2.GetJobLogsRequest, context: grpc.ServicerContext) -> Iterator[Any]:
        offset = request.offset if request.HasField("offset") else None
        for text, position in self.core.logs(_caller(context), request.job_id, request.tail_lines, offset,
                                             request.follow, request.node, context.is_active):
            yield scheduler_pb2.GetJobLogsResponse(text=text, next_offset=position)

    def ListPresets(self, request: scheduler_pb2.ListPresetsRequest, context: grpc.ServicerContext) -> Any:
        default_backend = BACKEND_NUMBERS[self.core.backends[0]]
        response = scheduler_pb2.ListPresetsResponse(backends=[BACKEND_NUMBERS[b] for b in self.core.backends],
                                                     algorithms=list(presets.ALGORITHMS),
                                                     backbones=list(presets.BACKBONES))
        for name in PRESETS:
            config = load_config(name)
            response.presets.add(name=name, description=presets.DESCRIPTIONS.get(name, ""),
                                 kind=scheduler_pb2.JOB_KIND_SSL_TRAINING, algorithm=config.algorithm.name,
                                 backbone=config.model.arch, steps=config.train.steps,
                                 global_batch_size=config.train.batch_size, backend=default_backend,
                                 resources=resources_message(presets.DEFAULT_RESOURCES[name]),
                                 config_yaml=presets.resolve(name).config_yaml)
        for name in presets.PRETRAIN_PRESETS:
            resolved = presets.resolve(name, task=presets.PRETRAIN)
            settings = yaml.safe_load(resolved.config_yaml)
            response.presets.add(name=name, description=presets.PRETRAIN_DESCRIPTIONS.get(name, ""),
                                 kind=scheduler_pb2.JOB_KIND_SELF_SUPERVISED_PRETRAINING, algorithm=resolved.algorithm,
                                 backbone=resolved.backbone, steps=resolved.total_steps,
                                 global_batch_size=settings["train"]["batch_size"], backend=default_backend,
                                 resources=resources_message(resolved.resources), config_yaml=resolved.config_yaml)
        return response


def resources_message(spec: ResourceSpec) -> common_pb2.Resources:
    return common_pb2.Resources(**{f: getattr(spec, f) for f in RESOURCE_FIELDS})


def job_message(view: JobView, summary: bool = False) -> scheduler_pb2.Job:
    row = view.row
    job = scheduler_pb2.Job(
        job_id=row.job_id, project_id=row.project_id, snapshot_id=row.snapshot_id, kind=row.kind, preset=row.preset,
        algorithm=row.algorithm, backbone=row.backbone, overrides=row.overrides or {},
        backend=BACKEND_NUMBERS.get(row.backend, 0), resources=resources_message(ResourceSpec(**row.resources)),
        init_model_id=row.init_model_id, display_name=row.display_name, job_name=row.job_name,
        external_id=row.external_id, state=row.state, queue_position=view.queue_position,
        restart_count=row.restart_count, error_message=row.error_message, log_tail=row.log_tail,
        model_id=row.model_id, run_dir=row.run_dir, resolved_config=row.resolved_config,
        rendered_spec="" if summary else row.rendered_spec, created_by=row.created_by,
        last_sequence=row.last_sequence, note=row.registration_note)
    for name, value in (("created_at", row.created_at), ("started_at", row.started_at),
                        ("finished_at", row.finished_at)):
        stamp = to_timestamp(value)
        if stamp is not None:
            getattr(job, name).CopyFrom(stamp)
    if row.progress:
        job.progress.CopyFrom(progress_message(row.progress))
    if not summary:
        job.transitions.extend(transition_message(e) for e in view.transitions)
    return job


def progress_message(progress: dict[str, Any]) -> scheduler_pb2.JobProgress:
    message = scheduler_pb2.JobProgress(
        step=int(progress.get("step", 0)), total_steps=int(progress.get("total_steps", 0)),
        images_per_second=float(progress.get("images_per_second", 0.0)), eta_s=float(progress.get("eta_s", 0.0)),
        gpu_count=int(progress.get("gpu_count", 0)), world_size=int(progress.get("world_size", 0)),
        latest_metrics={k: float(v) for k, v in (progress.get("latest_metrics") or {}).items()})
    if progress.get("updated_at"):
        message.updated_at.FromSeconds(int(progress["updated_at"]))
    return message


def transition_message(event: Event) -> scheduler_pb2.StateTransition:
    return scheduler_pb2.StateTransition(from_state=int(event.payload.get("from", 0)),
                                         to_state=int(event.payload["to"]), time=to_timestamp(event.time),
                                         reason=str(event.payload.get("reason", "")))


def event_message(event: Event) -> scheduler_pb2.JobEvent:
    message = scheduler_pb2.JobEvent(sequence=event.sequence, time=to_timestamp(event.time))
    if event.kind == "transition":
        message.transition.CopyFrom(transition_message(event))
    elif event.kind == "progress":
        message.progress.CopyFrom(progress_message(event.payload))
    else:
        payload = event.payload
        message.metric.CopyFrom(scheduler_pb2.MetricPoint(step=int(payload["step"]), phase=str(payload["phase"]),
                                                          values={k: float(v) for k, v in payload["values"].items()}))
        message.metric.time.FromSeconds(int(payload.get("time", 0)))
    return message


def register_scheduler(core: SchedulerCore) -> Register:
    return registrar(scheduler_pb2_grpc, "SchedulerService", SchedulerServicer(core))
