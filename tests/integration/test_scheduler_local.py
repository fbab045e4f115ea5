"""The embedded default backend: torchrun as a subprocess in its own session, with a log file and a pid;
cancelling kills the whole process group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.scheduler.launchers.base import Phase
from harvest.scheduler.launchers.local import LocalLauncher, _group_exists
from harvest.scheduler.spec import JobSpec, ResourceSpec
from harvest.training.datasets import TORCHVISION_IO, ssl_splits, synthetic_shapes, write_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]


def test_local_job_runs_in_its_own_session_and_cancel_kills_the_group(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    images, labels = synthetic_shapes(8, num_classes=4, size=16)
    manifest, _ = write_snapshot(store, images, labels.tolist(), ssl_splits(labels, 2, torch.zeros(32, dtype=bool), 0),
                                 ["n", "e", "s", "w"])
    env = {"HARVEST_STORE_LOCAL_ROOT": str(tmp_path / "store"), "HARVEST_TRAINING_CACHE_DIR": str(tmp_path / "c"),
           "HARVEST_TRAINING_WORK_DIR": str(tmp_path / "w")}
    launcher = LocalLauncher(tmp_path / "jobs", sys.executable, env)
    job = JobSpec("loc1", "harvest-loc1", "p", manifest.snapshot_id, "quick",
                  ("train.steps=100000", "train.batch_size=4", "data.resolution=16", "model.width=4",
                   "algorithm.uratio=1", "dist.cpu_threads=1"), ResourceSpec(nodes=1, processes_per_node=1))
    pid = launcher.submit(job, launcher.render(job))
    assert launcher.find(job) == pid and os.getpgid(int(pid)) == int(pid)  # session leader: its own group
    deadline = time.monotonic() + 60
    while b"decoded snapshot" not in launcher.logs(job, pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert launcher.status(job, pid).phase == Phase.RUNNING
    assert b"decoded snapshot" in launcher.logs(job, pid)
    launcher.cancel(job, pid)
    assert not _group_exists(int(pid))  # torchrun and its rank are gone too
    assert launcher.status(job, pid).phase in (Phase.FAILED, Phase.GONE)
