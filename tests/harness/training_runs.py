"""Runs of the training program under torchrun (2 gloo processes on CPU), as a job would run it.

A `Workspace` holds a LocalObjectStore with real snapshots (PNG images + manifest) and starts
`python -m torch.distributed.run ... -m harvest.training` as a subprocess against it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.common.runs import RunReader

BASE = ["train.batch_size=8", "algorithm.uratio=2", "data.resolution=16", "model.width=8", "model.norm=group",
        "train.deterministic=true", "optim.lr=0.3", "algorithm.threshold=0.5", "train.flush_seconds=0",
        "train.log_every=5", "train.eval_every=1000", "dist.cpu_threads=1"]


@dataclass
class Workspace:
    root: Path
    store: LocalObjectStore
    snapshot: str
    truth: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "HARVEST_STORE_BACKEND": "local", "HARVEST_STORE_LOCAL_ROOT": str(self.root / "store"),
                "HARVEST_TRAINING_CACHE_DIR": str(self.root / "cache"),
                "HARVEST_TRAINING_WORK_DIR": str(self.root / "work"), "HARVEST_LOG_FORMAT": "text"}

    def command(self, nproc: int, run_dir: str, overrides: list[str], snapshot: str | None = None) -> list[str]:
        sets = [arg for o in [*BASE, f"data.unlabeled_truth={self.truth}", *overrides] for arg in ("--set", o)]
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                "-m", "harvest.training", "--snapshot", snapshot or self.snapshot, "--config", "quick",
                "--run-dir", run_dir, *sets]

    def train(self, nproc: int, run_dir: str, overrides: list[str], snapshot: str | None = None,
              check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(self.command(nproc, run_dir, overrides, snapshot), env=self.env(), text=True,
                              capture_output=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"training failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done

    def final(self, run_dir: str) -> dict[str, object]:
        ref = RunReader(self.store, run_dir).latest_checkpoint()
        assert ref is not None, f"no checkpoint in {run_dir}"
        return torch.load(RunReader(self.store, run_dir).download_checkpoint(ref, self.root / "final.pt"),
                          weights_only=False)


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Largest absolute difference between two state dicts with the same keys (0 for empty ones)."""
    assert a.keys() == b.keys()
    return max(((a[k].double() - b[k].double()).abs().max().item() for k in a if a[k].numel()), default=0.0)


def wait_for_step(workspace: Workspace, run_dir: str, step: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        if any(r.get("step", 0) >= step for r in RunReader(workspace.store, run_dir).metrics()):
            return
        time.sleep(0.05)
    raise AssertionError(f"run did not reach step {step} (exit code {process.poll()})")
