"""Fault tests with a real Celery worker on real Redis submitting to the real Slurm cluster: a worker killed
between sbatch and recording the job, and 50 concurrent submissions. Jobs are submitted held (`--hold`),
so the cluster's queue is what is counted and nothing trains."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from harvest.training.datasets import TORCHVISION_IO
from harvest.v1 import scheduler_pb2 as S
from tests.harness.scheduler_stack import Stack, scheduler_stack
from tests.harness.servers import RedisServer
from tests.harness.slurm import SlurmCluster, slurm_cluster  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]
HELD = {"HARVEST_SLURM_EXTRA_SBATCH_ARGS": json.dumps(["--hold"])}


@pytest.fixture(scope="module")
def stack(slurm_cluster: SlurmCluster, redis_server: RedisServer,  # noqa: F811
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with scheduler_stack(tmp_path_factory.mktemp("scheduler-faults"), slurm_cluster, f"{redis_server.url}/6") as s:
        yield s


def names_of(stack: Stack, jobs: list[S.Job]) -> Counter[str]:
    wanted = {j.job_name for j in jobs}
    return Counter(name for name in stack.squeue_names() if name in wanted)


def test_worker_killed_after_sbatch_before_recording_is_adopted_not_resubmitted(stack: Stack) -> None:
    worker = stack.start_worker(HARVEST_SCHEDULER_FAULT="kill-after-submit", **HELD)
    job = stack.submit(steps=5)
    assert worker.wait(timeout=60) == -9, stack.worker_log()  # the fault hook fired right after sbatch
    assert names_of(stack, [job]) == {job.job_name: 1}  # Slurm has it ...
    assert stack.job(job.job_id).state == S.JOB_STATE_QUEUED and not stack.job(job.job_id).external_id  # ... we don't
    stack.start_worker(**HELD)
    adopted = stack.wait(job.job_id, lambda j: j.state == S.JOB_STATE_SUBMITTED, timeout=60, what="was adopted")
    assert adopted.transitions[-1].reason.startswith("adopted slurm")
    assert names_of(stack, [job]) == {job.job_name: 1}  # squeue shows one
    assert stack.cluster.job(adopted.external_id)["JobName"] == job.job_name  # type: ignore[index]
    stack.stop_worker()


def test_fifty_concurrent_submissions_launch_fifty_jobs_once_each(stack: Stack) -> None:
    stack.start_worker(**HELD)
    with ThreadPoolExecutor(max_workers=10) as pool:
        jobs = list(pool.map(lambda i: stack.submit(steps=5, request_id=f"fifty-{i}"), range(50)))
    with ThreadPoolExecutor(max_workers=10) as pool:  # clients retrying their submissions change nothing
        again = list(pool.map(lambda i: stack.submit(steps=5, request_id=f"fifty-{i}"), range(50)))
    assert [j.job_id for j in again] == [j.job_id for j in jobs]
    assert len({j.job_id for j in jobs}) == 50
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [stack.job(j.job_id).state for j in jobs]
        if all(s == S.JOB_STATE_SUBMITTED for s in states):
            break
        time.sleep(0.5)
    assert Counter(states) == {S.JOB_STATE_SUBMITTED: 50}, stack.worker_log()
    assert names_of(stack, jobs) == {j.job_name: 1 for j in jobs}  # none duplicated, none lost
    externals = {stack.job(j.job_id).external_id for j in jobs}
    assert len(externals) == 50
    stack.stop_worker()
