"""Training jobs through gRPC SubmitJob on the real 2-node Slurm cluster, launched and followed by a real
Celery worker (Redis broker): success with streamed metrics, cancellation, requeue and node failure."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from harvest.common.auth import Role
from harvest.common.runs import RunReader
from harvest.training.datasets import TORCHVISION_IO
from harvest.v1 import scheduler_pb2
from tests.harness.scheduler_stack import Stack, rpc_code, scheduler_stack
from tests.harness.servers import RedisServer
from tests.harness.slurm import SlurmCluster, slurm_cluster  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]
S = scheduler_pb2


@pytest.fixture(scope="module")
def stack(slurm_cluster: SlurmCluster, redis_server: RedisServer,  # noqa: F811
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with scheduler_stack(tmp_path_factory.mktemp("scheduler-slurm"), slurm_cluster, f"{redis_server.url}/5") as s:
        s.start_worker()
        yield s


def watch(stack: Stack, job_id: str, events: list[S.JobEvent], after: int = 0) -> threading.Thread:
    def run() -> None:
        for event in stack.client().scheduler.WatchJob(S.WatchJobRequest(job_id=job_id, after_sequence=after),
                                                       timeout=300):
            events.append(event)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def ranks_left(run_dir: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f"--run-dir {run_dir}" in line]


def test_two_node_job_runs_to_succeeded_with_metrics_streamed_by_watch(stack: Stack) -> None:
    job = stack.submit(steps=30)
    assert job.state == S.JOB_STATE_QUEUED and job.job_name == f"harvest-{job.job_id}"
    events: list[S.JobEvent] = []
    watcher = watch(stack, job.job_id, events)
    watcher.join(timeout=240)
    assert not watcher.is_alive(), stack.worker_log()
    assert events[0].WhichOneof("event") == "job"
    sequences = [e.sequence for e in events[1:]]
    assert sequences == list(range(1, len(sequences) + 1))  # from 1, without gaps
    states = [e.transition.to_state for e in events if e.WhichOneof("event") == "transition"]
    assert states == [S.JOB_STATE_QUEUED, S.JOB_STATE_SUBMITTED, S.JOB_STATE_RUNNING, S.JOB_STATE_SUCCEEDED]
    metric_steps = [e.metric.step for e in events if e.WhichOneof("event") == "metric" and e.metric.phase == "train"]
    assert metric_steps and metric_steps[-1] == 30 and metric_steps == sorted(set(metric_steps))
    assert any("loss" in e.metric.values for e in events if e.WhichOneof("event") == "metric")
    # Inference is not running in this stack: the job stays SUCCEEDED and says plainly why no model is shown.
    final = stack.wait(job.job_id, lambda j: bool(j.note), timeout=90)
    assert final.state == S.JOB_STATE_SUCCEEDED and "not registered yet" in final.note and not final.model_id
    assert final.progress.step == 30 and final.progress.world_size == 2 and final.external_id.isdigit()
    assert final.started_at.seconds and final.finished_at.seconds >= final.started_at.seconds
    node = stack.cluster.job(final.external_id)
    assert node is not None and node["NumNodes"] == "2"
    # The log of rank 1 (second node) is readable alone.
    text = "".join(r.text for r in stack.client().scheduler.GetJobLogs(S.GetJobLogsRequest(job_id=job.job_id,
                                                                                            node="1")))
    assert text and all(line.startswith("1: ") for line in text.splitlines())


def test_cancel_ends_a_running_job_and_leaves_no_process(stack: Stack) -> None:
    job = stack.submit(steps=5000)
    stack.wait(job.job_id, lambda j: j.state == S.JOB_STATE_RUNNING and j.progress.step > 0, what="ran")
    reply = stack.client().scheduler.CancelJob(S.CancelJobRequest(job_id=job.job_id, reason="wrong labels")).job
    assert reply.state in (S.JOB_STATE_RUNNING, S.JOB_STATE_CANCELLED)
    done = stack.wait(job.job_id, lambda j: j.state == S.JOB_STATE_CANCELLED, timeout=60, what="cancelled")
    assert done.transitions[-1].reason == "wrong labels"
    deadline = time.monotonic() + 20
    while ranks_left(f"runs/{job.job_id}") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ranks_left(f"runs/{job.job_id}") == []
    assert stack.cluster.job(done.external_id)["JobState"] == "CANCELLED"  # type: ignore[index]
    again = stack.client().scheduler.CancelJob(S.CancelJobRequest(job_id=job.job_id)).job
    assert again.state == S.JOB_STATE_CANCELLED


def start_now(stack: Stack, external_id: str) -> None:
    """Skip Slurm's requeue delay (~120 s): StartTime=now, repeated until the job left PENDING (an update made
    while the requeue is still completing does not stick)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fields = stack.cluster.job(external_id) or {}
        if fields.get("JobState") not in ("PENDING", "REQUEUED", "COMPLETING", "REQUEUE_HOLD"):
            return
        if fields.get("JobState") == "PENDING":
            stack.cluster.run(["scontrol", "update", f"jobid={external_id}", "StartTime=now"], check=False)
        time.sleep(1)


def wait_for_stale_steps(external_id: str, timeout_s: float = 60) -> None:
    """The "failed" node never really died: its slurmstepd of the first attempt may still be cleaning up.
    The requeued attempt reuses the step id (<job>.0), and launched beside the stale step daemon it is
    killed with it, which no real node failure does. Wait until this single host runs no step of the job."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stale = subprocess.run(["pgrep", "-f", rf"slurmstepd: \[{external_id}\.[0-9]"], capture_output=True)
        if stale.returncode != 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"the first attempt's step daemons of job {external_id} did not exit")


def wait_node_idle(stack: Stack, node: str, timeout_s: float = 60) -> None:
    """A node set down and resumed is first IDLE+NOT_RESPONDING or COMPLETING while slurmctld and its slurmd
    settle the old allocation; an attempt started on it meanwhile can be killed by that clean-up (seen in
    about one run in five), which a real replacement node would not do. Wait until it is plainly IDLE."""
    deadline = time.monotonic() + timeout_s
    state = ""
    while time.monotonic() < deadline:
        line = stack.cluster.run(["scontrol", "show", "node", "-o", node], check=False).stdout
        state = next((field.split("=", 1)[1] for field in line.split() if field.startswith("State=")), "")
        if state == "IDLE":
            return
        time.sleep(0.2)
    raise AssertionError(f"node {node} did not become IDLE (last state {state!r})")


def kill_job_on_node(external_id: str, node: str) -> int:
    """SIGKILL what the job runs on `node` (its tasks and their step daemon), as the node's death would.

    A node set down with scontrol is still alive here: its step daemon went on for seconds (reporting to
    an srun that had gone) and sent the step's end after slurmctld had requeued the job. slurmctld ignores
    that message for a pending job and keeps the old step, and the next attempt's srun then waited forever
    ("step creation temporarily disabled: Requested nodes are busy"), which a real failed node never causes.
    """
    wanted = {f"SLURMD_NODENAME={node}".encode(), f"SLURM_JOB_ID={external_id}".encode()}
    tasks: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = set((entry / "environ").read_bytes().split(b"\0"))
            except OSError:
                continue
            if wanted <= environ:
                tasks.add(int(entry.name))
    doomed = set(tasks)
    for pid in tasks:
        try:
            parent = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if (Path("/proc") / str(parent) / "cmdline").read_bytes().startswith(b"slurmstepd"):
                doomed.add(parent)
        except (OSError, ValueError, IndexError):
            continue
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(doomed)


def _interrupt_and_resume(stack: Stack, interrupt: list[str], restore: list[str] | None,
                          dead_node: str | None = None) -> None:
    job = stack.submit(steps=600)
    run_dir = f"runs/{job.job_id}"
    reader = RunReader(stack.store, run_dir)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        checkpoint = reader.latest_checkpoint()
        if checkpoint is not None and checkpoint.step >= 30:
            break
        time.sleep(0.2)
    running = stack.wait(job.job_id, lambda j: j.state == S.JOB_STATE_RUNNING, what="ran")
    done_before = max(r["step"] for r in reader.metrics() if r["kind"] == "train")
    stack.cluster.run([part.replace("{id}", running.external_id) for part in interrupt])
    if dead_node:
        assert kill_job_on_node(running.external_id, dead_node) > 0
    preempted = stack.wait(job.job_id, lambda j: j.restart_count == 1, timeout=60, what="was requeued")
    wait_for_stale_steps(running.external_id)
    if restore:
        stack.cluster.run(restore, check=False)  # ReturnToService=2 may have brought it back already
        wait_node_idle(stack, "n2")
        wait_for_stale_steps(running.external_id)
    start_now(stack, running.external_id)
    finished = stack.wait(job.job_id, lambda j: j.state in (S.JOB_STATE_SUCCEEDED, S.JOB_STATE_FAILED), timeout=240,
                          what="finished")
    assert finished.state == S.JOB_STATE_SUCCEEDED, finished.error_message + finished.log_tail
    states = [t.to_state for t in finished.transitions]
    assert states[:3] == [S.JOB_STATE_QUEUED, S.JOB_STATE_SUBMITTED, S.JOB_STATE_RUNNING]
    assert S.JOB_STATE_PREEMPTED in states and states[-1] == S.JOB_STATE_SUCCEEDED
    reason = next(t.reason for t in finished.transitions if t.to_state == S.JOB_STATE_PREEMPTED)
    resumed_from = int(reason.rsplit("step ", 1)[1])
    recomputed = done_before - resumed_from
    assert resumed_from >= 30 and recomputed < done_before, (done_before, resumed_from)
    assert preempted.restart_count == 1 and finished.restart_count == 1
    log = (stack.root / "logs" / f"{finished.job_name}.log").read_text()
    assert "harvest: attempt 2" in log
    assert reader.latest_checkpoint().step == 600  # type: ignore[union-attr]


def test_requeued_job_is_preempted_then_resumes_from_its_checkpoint(stack: Stack) -> None:
    _interrupt_and_resume(stack, ["scontrol", "requeue", "{id}"], None)


def test_job_survives_a_node_set_down_mid_run(stack: Stack) -> None:
    try:
        _interrupt_and_resume(stack, ["scontrol", "update", "nodename=n2", "state=down", "reason=harvest-test"],
                              ["scontrol", "update", "nodename=n2", "state=resume"], dead_node="n2")
    finally:
        stack.cluster.run(["scontrol", "update", "nodename=n2", "state=resume"], check=False)


def test_rpcs_validate_input_and_membership(stack: Stack) -> None:
    outsider = stack.labels.user("eve", Role.EXPERT)
    job = stack.submit(steps=5, validate_only=True)
    assert "#SBATCH --nodes=2" in job.rendered_spec and not job.job_id.startswith("harvest")
    scheduler = stack.client().scheduler
    bad = [
        (lambda: scheduler.SubmitJob(S.SubmitJobRequest(snapshot_id="x")), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: scheduler.SubmitJob(S.SubmitJobRequest(project_id=stack.project_id, snapshot_id="nope")),
         grpc.StatusCode.NOT_FOUND),
        (lambda: scheduler.SubmitJob(S.SubmitJobRequest(project_id=stack.project_id, snapshot_id=stack.snapshot_id,
                                                        preset="huge")), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: scheduler.GetJob(S.GetJobRequest(job_id="missing")), grpc.StatusCode.NOT_FOUND),
        (lambda: scheduler.ListJobs(S.ListJobsRequest(page={"page_token": "x"})), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stack.client(outsider).scheduler.SubmitJob(S.SubmitJobRequest(
            project_id=stack.project_id, snapshot_id=stack.snapshot_id)), grpc.StatusCode.PERMISSION_DENIED),
    ]
    for call, code in bad:
        assert rpc_code(call) == code
    listed = scheduler.ListJobs(S.ListJobsRequest()).jobs
    assert listed and all(j.project_id == stack.project_id for j in listed)
    assert stack.client(outsider).scheduler.ListJobs(S.ListJobsRequest()).jobs == []  # sees none of them
    some = listed[0].job_id
    assert rpc_code(lambda: stack.client(outsider).scheduler.GetJob(S.GetJobRequest(job_id=some))) == \
        grpc.StatusCode.PERMISSION_DENIED
    presets = scheduler.ListPresets(S.ListPresetsRequest())
    training = [p.name for p in presets.presets if p.kind == S.JOB_KIND_SSL_TRAINING]
    pretraining = {p.name: p for p in presets.presets if p.kind == S.JOB_KIND_SELF_SUPERVISED_PRETRAINING}
    assert training == ["quick", "standard", "hpc"]
    assert list(pretraining) == ["quick", "quick_dino", "standard", "hpc", "hpc_dino"]
    assert pretraining["hpc_dino"].algorithm == "dino" and pretraining["hpc_dino"].resources.nodes == 4
    assert list(presets.backends) == [S.BACKEND_SLURM]
