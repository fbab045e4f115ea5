"""`harvest demo` against a running `harvest up`: a newcomer's first run goes through the whole loop (upload
real digits, label a few, train, register, score the pool) and says where to look; run again it does nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from harvest.client import HarvestClient
from harvest.common.settings import EndpointSettings
from harvest.demo import DEMO_MARKER, DEMO_PROJECT
from harvest.v1 import common_pb2, labels_pb2, scheduler_pb2
from tests.e2e.conftest import RunningPlatform

pytestmark = pytest.mark.e2e


def _demo(platform: RunningPlatform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harvest.cli", "demo", *args], env=platform.env, text=True,
                          capture_output=True, timeout=600)


def test_demo_runs_the_whole_loop_once(platform: RunningPlatform) -> None:
    done = _demo(platform, "--images-per-class", "20", "--steps", "30", "--if-new")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uploaded 200 PNG files: 200 stored" in done.stdout
    assert "labeled 40 images (4 per class)" in done.stdout
    assert "pool scored" in done.stdout and f":{platform.ports['ui']}" in done.stdout
    assert re.search(r"validation accuracy \d+\.\d%", done.stdout) and "SUCCEEDED" in done.stdout, done.stdout

    endpoints = EndpointSettings(**{f"{name}_address": platform.address(name)
                                    for name in ("storage", "labels", "scheduler", "inference")})
    with HarvestClient(endpoints, token=platform.admin_token) as client:
        project = next(p for p in client.labels.ListProjects(labels_pb2.ListProjectsRequest()).projects
                       if p.name == DEMO_PROJECT)
        stats = client.labels.GetProjectStats(labels_pb2.GetProjectStatsRequest(project_id=project.project_id))
        assert (stats.items, stats.labeled) == (200, 40)
        jobs = client.scheduler.ListJobs(scheduler_pb2.ListJobsRequest(project_id=project.project_id)).jobs
        assert [j.state for j in jobs] == [scheduler_pb2.JOB_STATE_SUCCEEDED] and jobs[0].model_id
        unlabeled = client.labels.ListItems(labels_pb2.ListItemsRequest(
            project_id=project.project_id, page=common_pb2.PageRequest(page_size=5),
            filter=labels_pb2.ItemFilter(label=labels_pb2.LABEL_FILTER_UNLABELED))).items
        assert unlabeled and all(i.HasField("prediction") for i in unlabeled)
    assert (platform.home / DEMO_MARKER).read_text().strip() == project.project_id

    again = _demo(platform, "--if-new")
    assert again.returncode == 0 and "exists already" in again.stdout
