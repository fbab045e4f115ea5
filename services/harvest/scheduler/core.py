"""The scheduler core: jobs from a Train request to a finished model, over the jobs store and launchers.

Two sides. The RPC side (`submit_job`, `get_job`, `list_jobs`, `cancel_job`, `watch`, `logs`) validates,
checks membership with the caller's token, records, and asks the dispatcher (Celery in deployments) to
act. The background side (`launch`, `poll`, `cancel_on_backend`) is what the Celery tasks call: each is
short and idempotent, and the job row, not the broker, says what is done. The servicer and the tasks are
thin over this class; it imports nothing of gRPC or Celery.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml
from sqlalchemy.exc import IntegrityError

from harvest.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from harvest.common.objectstore import ObjectStore, check_key
from harvest.common.peers import Caller
from harvest.common.runs import RunReader
from harvest.common.snapshots import manifest_key
from harvest.inference import package as packages
from harvest.scheduler import presets
from harvest.scheduler.jobs import Event, JobFilter, JobStore
from harvest.scheduler.labels_link import LabelsLink
from harvest.scheduler.launchers.base import Launcher, LauncherError, LaunchStatus, Phase
from harvest.scheduler.models import JobRow
from harvest.scheduler.registration import ModelRegistrar
from harvest.scheduler.settings import SchedulerSettings
from harvest.scheduler.spec import JobSpec, ResourceSpec, job_name
from harvest.scheduler.states import ACTIVE, State

log = logging.getLogger(__name__)

KINDS = {0: 1, 1: 1, 2: 2}  # unspecified means SSL training; 2: self-supervised pretraining
#: Model config fields that decide the shape of a network's weights, per architecture.
SHAPE_FIELDS: dict[str, tuple[str, ...]] = {"small_cnn": ("arch", "width", "norm"), "resnet18": ("arch", "small_stem"),
                                            "resnet50": ("arch", "small_stem")}
PRETRAINING = 2
LOG_TAIL_LINES = 100
MAX_LOG_MESSAGE = 1024 * 1024
SUBMIT_ATTEMPTS = 3


class Dispatcher(Protocol):
    """How the RPC side asks background work to happen (Celery tasks in deployments)."""

    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    project_id: str
    snapshot_id: str = ""
    freeze_now: Any = None  # common_pb2.FreezeOptions, passed through to labels untouched
    kind: int = 0
    preset: str = ""
    algorithm: str = ""
    backbone: str = ""
    steps: int | None = None
    global_batch_size: int | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    backend: str = ""
    resources: dict[str, Any] = field(default_factory=dict)
    init_model_id: str = ""
    display_name: str = ""
    request_id: str = ""
    validate_only: bool = False


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as shown to a user."""

    row: JobRow
    transitions: list[Event]
    queue_position: int


class SchedulerCore:
    def __init__(self, jobs: JobStore, launchers: dict[str, Launcher], store: ObjectStore,
                 settings: SchedulerSettings, dispatcher: Dispatcher, labels: LabelsLink | None = None,
                 registrar: ModelRegistrar | None = None, job_env: dict[str, str] | None = None) -> None:
        self.jobs = jobs
        self.launchers = launchers
        self.store = store
        self.settings = settings
        self.dispatcher = dispatcher
        self.labels = labels
        self.registrar = registrar
        self.job_env = dict(job_env or {})

    @property
    def backends(self) -> list[str]:
        return [b for b in self.settings.backends if b in self.launchers]

    # == RPC side ===========================================================================================
    def submit_job(self, caller: Caller, request: SubmitRequest) -> JobView:
        if not request.project_id:
            raise InvalidArgument("project_id is required")
        if len(request.request_id) > 64:
            raise InvalidArgument("request_id must be at most 64 characters")
        if len(request.display_name) > 256:
            raise InvalidArgument("display_name must be at most 256 characters")
        if request.kind not in KINDS:
            raise InvalidArgument(f"unknown job kind {request.kind}")
        backend = request.backend or self.backends[0]
        if backend not in self.backends:
            raise InvalidArgument(f"backend {backend!r} is not enabled here; enabled: {', '.join(self.backends)}")
        if not request.snapshot_id and request.freeze_now is None:
            raise InvalidArgument("give snapshot_id (an existing snapshot) or freeze_now (freeze the labels now)")
        if request.request_id and not request.validate_only:
            earlier = self.jobs.find_request(caller.principal.user_id, request.request_id)
            if earlier is not None:
                self._check_member(caller, earlier.project_id)
                return self.view(earlier)
        self._check_project(caller, request.project_id)
        task = presets.PRETRAIN if request.kind == PRETRAINING else presets.TRAIN
        resolved = presets.resolve(request.preset, algorithm=request.algorithm, backbone=request.backbone,
                                   steps=request.steps, global_batch_size=request.global_batch_size,
                                   overrides=request.overrides, resources=request.resources,
                                   max_nodes=self.settings.max_nodes, max_gpus=self.settings.max_gpus_per_node,
                                   task=task)
        if request.init_model_id:
            start = self._init_weights(request.project_id, request.init_model_id, resolved)
            resolved = presets.resolve(request.preset, algorithm=request.algorithm, backbone=request.backbone,
                                       steps=request.steps, global_batch_size=request.global_batch_size,
                                       overrides=request.overrides, resources=request.resources,
                                       max_nodes=self.settings.max_nodes, max_gpus=self.settings.max_gpus_per_node,
                                       init_weights_key=start, task=task)
        if backend == "local" and resolved.resources.nodes != 1:
            raise InvalidArgument(f"the local backend runs on one node; resources.nodes is {resolved.resources.nodes}"
                                  " (choose slurm or kubeflow for several nodes)")
        if request.snapshot_id:
            self._check_snapshot(request.project_id, request.snapshot_id)
        job_id = uuid.uuid4().hex
        row = JobRow(job_id=job_id, project_id=request.project_id, snapshot_id=request.snapshot_id,
                     kind=KINDS[request.kind], preset=resolved.preset, algorithm=resolved.algorithm,
                     backbone=resolved.backbone, overrides=dict(request.overrides),
                     training_args=list(resolved.training_args), backend=backend,
                     resources=_resources_dict(resolved.resources), init_model_id=request.init_model_id,
                     display_name=request.display_name, job_name=job_name(job_id), run_dir=f"runs/{job_id}/",
                     resolved_config=resolved.config_yaml, total_steps=resolved.total_steps,
                     request_id=request.request_id or job_id, created_by=caller.principal.user_id,
                     progress={}, metric_steps={}, external_id="", state=int(State.QUEUED))
        if request.validate_only:
            row.snapshot_id = request.snapshot_id or "<frozen at submission>"
            row.rendered_spec = self.launchers[backend].render(self.spec(row)).text
            row.snapshot_id = request.snapshot_id
            row.display_name = row.display_name or f"{resolved.preset} {resolved.algorithm}"
            return JobView(row, [], 0)
        if request.freeze_now is not None:
            if self.labels is None:
                raise FailedPrecondition("freeze_now needs the labels service, which this scheduler has no link to")
            row.snapshot_id = self.labels.freeze(caller, request.project_id, request.freeze_now)
        row.display_name = row.display_name or (f"{resolved.preset} {resolved.algorithm} "
                                                f"#{self.jobs.count_project(request.project_id) + 1}")
        row.rendered_spec = self.launchers[backend].render(self.spec(row)).text
        row.dispatched_at = time.time()
        try:
            created = self.jobs.create(row)
        except IntegrityError:  # the same request_id raced us: return the first job
            earlier = self.jobs.find_request(caller.principal.user_id, request.request_id)
            if earlier is None:
                raise
            return self.view(earlier)
        self.dispatcher.submit(job_id)
        log.info("job queued", extra={"job_id": job_id, "project_id": row.project_id, "backend": backend})
        return self.view(created)

    def get_job(self, caller: Caller, job_id: str) -> JobView:
        row = self._visible(caller, job_id)
        return self.view(row)

    def view(self, row: JobRow, with_transitions: bool = True) -> JobView:
        transitions = self.jobs.transitions(row.job_id) if with_transitions else []
        return JobView(row, transitions, self.jobs.queue_position(row))

    def list_jobs(self, caller: Caller, where: JobFilter, project_id: str, page_size: int,
                  page_token: str) -> tuple[list[JobView], str, int]:
        offset = _decode_token(page_token)
        if project_id:
            self._check_member(caller, project_id)
            where = JobFilter(**{**_filter_dict(where), "project_ids": [project_id]})
        elif not caller.is_admin:
            projects = self.labels.member_projects(caller) if self.labels is not None else []
            where = JobFilter(**{**_filter_dict(where), "project_ids": projects})
        rows, total = self.jobs.list(where, offset, page_size)
        next_token = _encode_token(offset + len(rows)) if offset + len(rows) < total else ""
        return [self.view(r, with_transitions=False) for r in rows], next_token, total

    def cancel_job(self, caller: Caller, job_id: str, reason: str = "") -> JobView:
        row = self._visible(caller, job_id)
        state = State(row.state)
        why = reason or f"cancelled by {caller.principal.username or caller.principal.user_id}"
        if state == State.CANCELLED:
            return self.view(row)
        if state in (State.SUCCEEDED, State.FAILED):
            raise FailedPrecondition(f"job {job_id} already {state.label}; only queued or running jobs can be "
                                     "cancelled")
        if state == State.QUEUED:
            done = self.jobs.transition(job_id, State.CANCELLED, why, expect={State.QUEUED}, cancel_requested=True,
                                        cancel_reason=why)
            if done is not None:
                return self.view(done)
        row = self.jobs.update(job_id, cancel_requested=True, cancel_reason=why)
        self.dispatcher.cancel(job_id)
        return self.view(self.jobs.get(job_id))

    def watch(self, caller: Caller, job_id: str, after: int, skip_metrics: bool,
              is_active: Callable[[], bool]) -> Iterator[JobView | Event]:
        """The job, then its events after `after`, live, until the event that makes it terminal."""
        if after < 0:
            raise InvalidArgument("after_sequence must not be negative")
        row = self._visible(caller, job_id)
        yield self.view(row)
        sequence = after
        while is_active():
            events = self.jobs.events(job_id, after=sequence)
            for event in events:
                sequence = event.sequence
                if skip_metrics and event.kind == "metric":
                    continue
                yield event
                if event.kind == "transition" and State(event.payload["to"]).terminal:
                    return
            if not events:
                row = self.jobs.get(job_id)
                if State(row.state).terminal and sequence >= row.last_sequence:
                    return
                time.sleep(self.settings.watch_interval_s)

    def logs(self, caller: Caller, job_id: str, tail_lines: int, offset: int | None, follow: bool, node: str,
             is_active: Callable[[], bool]) -> Iterator[tuple[str, int]]:
        row = self._visible(caller, job_id)
        if tail_lines < 0 or (offset is not None and offset < 0):
            raise InvalidArgument("tail_lines and offset must not be negative")
        if not row.external_id:
            raise FailedPrecondition(f"job {job_id} is {State(row.state).label}: its log exists once it is submitted")
        launcher, spec = self.launchers[row.backend], self.spec(row)
        if offset is None:  # the last complete lines: a line still being written is not one yet
            data = launcher.logs(spec, row.external_id, 0, node)
            complete = data[:data.rfind(b"\n") + 1]
            lines = complete.splitlines(keepends=True)
            position = len(complete) - sum(len(line) for line in lines[-(tail_lines or 200):])
        else:
            position = offset
        while True:
            terminal = State(self.jobs.get(job_id).state).terminal
            data = launcher.logs(spec, row.external_id, position, node)
            complete = data if terminal else data[:data.rfind(b"\n") + 1]
            for start in range(0, len(complete), MAX_LOG_MESSAGE):
                part = complete[start:start + MAX_LOG_MESSAGE]
                position += len(part)
                yield part.decode("utf-8", errors="replace"), position
            if not follow or terminal or not is_active():
                return
            time.sleep(self.settings.watch_interval_s)

    def _visible(self, caller: Caller, job_id: str) -> JobRow:
        if not job_id:
            raise InvalidArgument("job_id is required")
        row = self.jobs.get(job_id)
        self._check_member(caller, row.project_id)
        return row

    def _check_member(self, caller: Caller, project_id: str) -> None:
        if self.labels is not None:
            try:
                self.labels.check_member(caller, project_id)
            except NotFound:
                raise PermissionDenied(f"you are not a member of project {project_id!r}") from None

    def _check_project(self, caller: Caller, project_id: str) -> None:
        if self.labels is None:
            return
        project = self.labels.project(caller, project_id)
        if project.archived:
            raise FailedPrecondition(f"project {project_id!r} is archived; unarchive it to train")

    def _check_snapshot(self, project_id: str, snapshot_id: str) -> None:
        try:
            with self.store.open(manifest_key(snapshot_id)) as handle:
                header = json.loads(handle.readline() or b"{}")
        except (NotFound, InvalidArgument):
            raise NotFound(f"snapshot {snapshot_id!r} does not exist; freeze one (freeze_now) or pick one from "
                           "ListSnapshots") from None
        if header.get("project_id") != project_id:
            raise FailedPrecondition(f"snapshot {snapshot_id!r} belongs to another project; choose one of project "
                                     f"{project_id!r}")

    def _init_weights(self, project_id: str, model_id: str, resolved: presets.Resolved) -> str:
        """The weights key of a registered model (backbone or classifier) of this project whose network has
        the shape this job trains; otherwise a message saying what to choose."""
        prefix = packages.model_prefix(model_id)
        try:
            check_key(prefix + packages.PACKAGE_FILE)
            package = packages.parse(self.store.get(prefix + packages.PACKAGE_FILE), f"model {model_id}")
        except (NotFound, InvalidArgument):
            raise NotFound(f"init_model_id {model_id!r} is not a registered model; pick one from ListModels") from None
        try:
            with self.store.open(manifest_key(package.snapshot_id)) as handle:
                owner = json.loads(handle.readline() or b"{}").get("project_id")
        except (NotFound, InvalidArgument):
            owner = None
        if owner != project_id:
            raise PermissionDenied(f"model {model_id} does not belong to project {project_id}; pick one of its "
                                   "models from ListModels")
        if not self.store.exists(prefix + packages.WEIGHTS_FILE):
            raise FailedPrecondition(f"model {model_id} has no weights ({prefix}{packages.WEIGHTS_FILE} is missing); "
                                     "register its job again or pick another model")
        config = yaml.safe_load(resolved.config_yaml)
        wanted = {k: config["model"].get(k) for k in SHAPE_FIELDS.get(config["model"]["arch"], ("arch",))}
        given = {k: package.network.get(k, wanted[k] if k != "arch" else None) for k in wanted}
        if given != wanted:
            differences = ", ".join(f"model.{k}={given[k]} (this job: {wanted[k]})" for k in wanted
                                    if given[k] != wanted[k])
            raise InvalidArgument(f"model {model_id} cannot initialize this job: its network has {differences}; "
                                  "choose the same backbone and sizes")
        if package.preprocessing.channels != config["data"]["channels"]:
            raise InvalidArgument(f"model {model_id} takes {package.preprocessing.channels}-channel images, this job "
                                  f"{config['data']['channels']}: set overrides data.channels accordingly")
        return prefix + packages.WEIGHTS_FILE

    # == background side (Celery tasks) =====================================================================
    def spec(self, row: JobRow) -> JobSpec:
        return JobSpec(row.job_id, row.job_name, row.project_id, row.snapshot_id, row.preset,
                       tuple(row.training_args), ResourceSpec(**row.resources), self.job_env,
                       presets.PRETRAIN if row.kind == PRETRAINING else presets.TRAIN)

    def launch(self, job_id: str) -> str:
        """Submit a QUEUED job to its backend, or adopt what an earlier attempt submitted. Idempotent."""
        verdict = self.jobs.claim(job_id, time.time(), self.settings.submit_lease_s,
                                  self.settings.max_active_per_project)
        if verdict != "ok":
            return verdict
        row = self.jobs.get(job_id)
        launcher, spec = self.launchers[row.backend], self.spec(row)
        try:
            external = launcher.find(spec)
            adopted = external is not None
            if external is None:
                external = launcher.submit(spec, launcher.render(spec))
                self._fault("kill-after-submit")
        except LauncherError as exc:
            if row.submit_attempts >= SUBMIT_ATTEMPTS:
                self.jobs.transition(job_id, State.FAILED, "the backend refused the job", expect={State.QUEUED},
                                     error_message=f"could not submit to {row.backend}: {exc}")
                return "failed"
            self.jobs.update(job_id, claimed_at=0.0, dispatched_at=0.0)
            log.warning("submission failed; will retry", extra={"job_id": job_id, "error": str(exc)})
            return "retry"
        how = "adopted" if adopted else "submitted as"
        reason = f"{how} {row.backend} {external}" + (" (launched by an earlier attempt)" if adopted else "")
        done = self.jobs.transition(job_id, State.SUBMITTED, reason, expect={State.QUEUED}, external_id=external)
        if done is None:  # cancelled while we were submitting: take it back off the backend
            self.jobs.update(job_id, external_id=external)
            launcher.cancel(spec, external)
            return "cancelled"
        log.info("job submitted", extra={"job_id": job_id, "external_id": external, "adopted": adopted})
        return "adopted" if adopted else "submitted"

    def _fault(self, point: str) -> None:
        if self.settings.fault == point:
            log.warning("test fault hook: killing this worker", extra={"point": point})
            os.kill(os.getpid(), signal.SIGKILL)

    def poll(self) -> dict[str, int]:
        """Advance every active job from its backend, re-send stranded submissions, retry registrations."""
        counts = {"polled": 0, "dispatched": 0, "registered": 0}
        for row in self.jobs.with_states(ACTIVE):
            try:
                self.advance(row)
            except Exception:  # noqa: BLE001 - one job's trouble must not stop the others
                log.exception("polling a job failed", extra={"job_id": row.job_id})
            counts["polled"] += 1
        now = time.time()
        free: dict[str, int] = {}
        for row in self.jobs.with_states([State.QUEUED]):
            if row.dispatched_at > now - self.settings.redispatch_after_s:
                continue
            if row.project_id not in free:
                free[row.project_id] = self.settings.max_active_per_project - self.jobs.active_count(row.project_id)
            if free[row.project_id] <= 0:
                continue
            free[row.project_id] -= 1
            self.jobs.update(row.job_id, dispatched_at=now)
            self.dispatcher.submit(row.job_id)
            counts["dispatched"] += 1
        if self.registrar is not None:
            for row in self.jobs.with_states([State.SUCCEEDED]):
                if not row.model_id and row.registration_attempts < self.settings.registration_attempts:
                    counts["registered"] += int(self.register(row))
        return counts

    def advance(self, row: JobRow) -> None:
        """One look at the backend: move the state machine and record new progress and metrics."""
        launcher, spec = self.launchers[row.backend], self.spec(row)
        status = launcher.status(spec, row.external_id)
        state = State(row.state)
        if status.restarts > row.restart_count:
            checkpoint = RunReader(self.store, row.run_dir).latest_checkpoint()
            resume = checkpoint.step if checkpoint else 0
            progress = {**row.progress, "step": resume} if row.progress else row.progress
            words = status.message or "requeued by the backend"
            self.jobs.transition(row.job_id, State.PREEMPTED, f"stopped and requeued ({words}); resumes from step "
                                 f"{resume}", restart_count=status.restarts, progress=progress)
            state = State.PREEMPTED
        if status.phase == Phase.PENDING:
            if state == State.PREEMPTED:
                self.jobs.transition(row.job_id, State.SUBMITTED, "waiting for resources to restart")
            return
        if status.phase == Phase.RUNNING:
            if state == State.PREEMPTED:
                self.jobs.transition(row.job_id, State.SUBMITTED, "restarting")
                state = State.SUBMITTED
            if state == State.SUBMITTED:
                where = f" on {', '.join(status.nodes)}" if status.nodes else ""
                self.jobs.transition(row.job_id, State.RUNNING, f"running{where}")
            self._follow(row)
            return
        self._follow(row)
        self._finish(row, spec, launcher, status)

    def _follow(self, row: JobRow) -> None:
        from harvest.scheduler.progress import follow

        records = RunReader(self.store, row.run_dir).metrics()
        current = self.jobs.get(row.job_id)
        r = ResourceSpec(**row.resources)
        update = follow(records, current.metric_steps or {}, current.progress or {}, row.total_steps, r.world_size,
                        r.nodes * r.gpus_per_node)
        if update is not None:
            self.jobs.append(row.job_id, update.events, progress=update.progress, metric_steps=update.metric_steps)

    def _finish(self, row: JobRow, spec: JobSpec, launcher: Launcher, status: LaunchStatus) -> None:
        current = self.jobs.get(row.job_id)
        active = set(ACTIVE)
        if current.cancel_requested and status.phase != Phase.SUCCEEDED:
            self.jobs.transition(row.job_id, State.CANCELLED, current.cancel_reason or "cancelled", expect=active)
            return
        if status.phase == Phase.CANCELLED:
            self.jobs.transition(row.job_id, State.CANCELLED, "cancelled on the backend, outside HARVEST",
                                 expect=active)
            return
        finished = self.store.exists(f"{row.run_dir}model/model.json")
        if status.phase == Phase.SUCCEEDED or (status.phase == Phase.GONE and finished):
            done = self.jobs.transition(row.job_id, State.SUCCEEDED, "training finished; model package written",
                                        expect=active)
            if done is not None and self.registrar is not None:
                self.register(done)
            return
        text = launcher.logs(spec, row.external_id).decode("utf-8", errors="replace")
        tail = "\n".join(text.splitlines()[-LOG_TAIL_LINES:])
        message = failure_message(status, text)
        self.jobs.transition(row.job_id, State.FAILED, message.split("\n")[0], expect=active, error_message=message,
                             log_tail=tail)

    def register(self, row: JobRow) -> bool:
        assert self.registrar is not None
        result = self.registrar.register(row.job_id)
        attempts = row.registration_attempts + 1 if result.retry else self.settings.registration_attempts
        self.jobs.update(row.job_id, model_id=result.model_id, registration_note=result.note,
                         registration_attempts=attempts)
        log.info("model registration", extra={"job_id": row.job_id, "note": result.note})
        return bool(result.model_id)

    def cancel_on_backend(self, job_id: str) -> None:
        """Carry out a requested cancellation (idempotent)."""
        row = self.jobs.get(job_id)
        state = State(row.state)
        if state.terminal:
            return
        if state == State.QUEUED or not row.external_id:
            self.jobs.transition(job_id, State.CANCELLED, row.cancel_reason or "cancelled", expect={State.QUEUED})
            return
        launcher, spec = self.launchers[row.backend], self.spec(row)
        launcher.cancel(spec, row.external_id)
        for _ in range(20):  # the backend usually confirms within a few seconds; the poll catches the rest
            status = launcher.status(spec, row.external_id)
            if status.phase not in (Phase.PENDING, Phase.RUNNING):
                self._finish(self.jobs.get(job_id), spec, launcher, status)
                return
            time.sleep(0.5)


def failure_message(status: LaunchStatus, log_text: str) -> str:
    """Plain words first, then the exception line from the log."""
    lines = [line.split(": ", 1)[-1] if line[:1].isdigit() and ": " in line[:6] else line
             for line in log_text.splitlines()]
    exception = next((line.strip() for line in reversed(lines)
                      if "training failed:" in line or "invalid training config:" in line
                      or line.strip().split(":")[0].endswith(("Error", "Exception"))), "")
    if status.exit_code == 2:
        words = "the training program refused its input (bad config, snapshot or image)"
    elif status.phase == Phase.GONE:
        words = status.message or "the backend lost the job"
    else:
        words = f"training failed: {status.message or 'non-zero exit'}"
    return f"{words}\n{exception}" if exception else words


def _resources_dict(spec: ResourceSpec) -> dict[str, Any]:
    return {k: getattr(spec, k) for k in ResourceSpec.__slots__}  # type: ignore[attr-defined]


def _filter_dict(where: JobFilter) -> dict[str, Any]:
    return {k: getattr(where, k) for k in JobFilter.__slots__}  # type: ignore[attr-defined]


def _encode_token(offset: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"jobs:{offset}".encode()).decode()


def _decode_token(token: str) -> int:
    import base64

    if not token:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix != "jobs" or not number.isdigit():
            raise ValueError(token)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("page_token is not one this server issued; start again without it") from None
