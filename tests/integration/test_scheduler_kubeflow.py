"""The Kubeflow launcher's submit/status/cancel/logs through the real `kubernetes` client against a
recording Kubernetes API stub (no cluster can run here), driven by the scheduler core."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvest.common.database import session_factory
from harvest.common.objectstore import LocalObjectStore
from harvest.common.snapshots import manifest_key
from harvest.scheduler.core import SchedulerCore, SubmitRequest
from harvest.scheduler.dispatch import RecordingDispatcher
from harvest.scheduler.jobs import JobStore
from harvest.scheduler.launchers.kubeflow import KubeflowLauncher
from harvest.scheduler.service import open_jobs_database
from harvest.scheduler.settings import KubeflowSettings, SchedulerSettings
from harvest.scheduler.states import State
from tests.harness.kube_stub import KubeStub
from tests.harness.scheduler import caller

pytestmark = pytest.mark.integration
BASE = "/apis/kubeflow.org/v1/namespaces/ml/pytorchjobs"


@pytest.fixture
def stub() -> Iterator[KubeStub]:
    server = KubeStub().start()
    yield server
    server.stop()


@pytest.fixture
def core(stub: KubeStub, tmp_path: Path) -> SchedulerCore:
    launcher = KubeflowLauncher(KubeflowSettings(api_server=stub.url, namespace="ml"), {"HARVEST_STORE_BACKEND": "s3"})
    store = LocalObjectStore(tmp_path / "store")
    store.put(manifest_key("snap"), json.dumps({"project_id": "p1"}).encode() + b"\n")
    engine = open_jobs_database(f"sqlite:///{tmp_path / 'jobs.db'}")
    return SchedulerCore(JobStore(session_factory(engine)), {"kubeflow": launcher}, store,
                         SchedulerSettings(backends=["kubeflow"]), RecordingDispatcher())


def test_submit_status_cancel_and_logs_go_through_the_kubernetes_api(core: SchedulerCore, stub: KubeStub) -> None:
    job = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap",
                                                  resources={"nodes": 2, "gpus_per_node": 1})).row
    assert core.launch(job.job_id) == "submitted"
    method, path, body = stub.requests[-1]
    assert (method, path) == ("POST", BASE)
    assert body["metadata"]["name"] == job.job_name and body["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] == 1
    assert core.jobs.get(job.job_id).external_id == job.job_name

    stub.set_conditions("ml", job.job_name, "Created", "Running")
    core.poll()
    assert core.jobs.get(job.job_id).state == State.RUNNING
    assert ("GET", f"{BASE}/{job.job_name}", None) in stub.requests

    stub.logs[f"{job.job_name}-master-0"] = "step 1\nstep 2\n"
    assert list(core.logs(caller(), job.job_id, 1, None, False, "", lambda: True)) == [("step 2\n", 14)]

    core.cancel_job(caller(), job.job_id, "stop")
    core.cancel_on_backend(job.job_id)
    assert ("DELETE", f"{BASE}/{job.job_name}") in [(m, p.split("?")[0]) for m, p, _ in stub.requests]
    assert core.jobs.get(job.job_id).state == State.CANCELLED  # the PyTorchJob is gone: cancelled


def test_a_second_submission_adopts_the_existing_pytorchjob(core: SchedulerCore, stub: KubeStub) -> None:
    job = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap")).row
    spec = core.spec(job)
    launcher = core.launchers["kubeflow"]
    launcher.submit(spec, launcher.render(spec))  # an earlier attempt created it, then died
    assert core.launch(job.job_id) == "adopted"
    assert [m for m, p, _ in stub.requests if p == BASE] == ["POST"]  # created once
    assert launcher.submit(spec, launcher.render(spec)) == job.job_name  # 409 Conflict is adoption too


def test_succeeded_and_failed_conditions_finish_the_job(core: SchedulerCore, stub: KubeStub) -> None:
    ok = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap")).row
    bad = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap")).row
    core.launch(ok.job_id)
    core.launch(bad.job_id)
    stub.set_conditions("ml", ok.job_name, "Created", "Running", "Succeeded")
    stub.set_conditions("ml", bad.job_name, "Created", "Failed")
    core.poll()
    assert core.jobs.get(ok.job_id).state == State.SUCCEEDED
    failed = core.jobs.get(bad.job_id)
    assert failed.state == State.FAILED and "failed" in failed.error_message
