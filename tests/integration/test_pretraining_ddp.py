"""`python -m harvest.training --task pretrain` under torchrun with 2 gloo processes on CPU, as a job runs it.

Each test writes a real snapshot (PNG images + manifest) into a LocalObjectStore and starts
`python -m torch.distributed.run ... -m harvest.training --task pretrain` as a subprocess. GroupNorm and a
head without BatchNorm keep the objectives exact across process counts on CPU.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import torch

from harvest.common.auth import Principal, Role
from harvest.common.database import make_engine, migrate, session_factory
from harvest.common.objectstore import LocalObjectStore
from harvest.common.peers import Caller
from harvest.common.runs import RunReader
from harvest.inference.links import ProjectInfo
from harvest.inference.package import read_run_package
from harvest.inference.registry import BACKBONE, Registry
from harvest.inference.service import MIGRATIONS
from harvest.training.config import ModelConfig
from harvest.training.datasets import TORCHVISION_IO, ssl_splits, synthetic_shapes, write_snapshot
from harvest.training.models import build_model
from tests.harness.training_runs import Workspace, max_difference, wait_for_step

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]

CLASSES = ["n", "e", "s", "w"]
BASE = ["train.batch_size=16", "data.resolution=16", "model.width=8", "model.norm=group",
        "objective.head_norm=none", "objective.hidden_dim=32", "objective.projection_dim=16", "objective.out_dim=64",
        "optim.warmup_steps=3", "train.deterministic=true", "train.flush_seconds=0", "train.log_every=5",
        "train.eval_every=1000", "train.knn_k=5", "dist.cpu_threads=1"]
#: SimCLR with LARS (the large-batch optimizer), DINO with 2 local crops at 8 px.
OBJECTIVES = {"simclr": ["--config", "quick", "--set", "optim.name=lars", "--set", "optim.lr=1.0"],
              "dino": ["--config", "quick_dino", "--set", "augment.local_crops=2", "--set",
                       "augment.local_resolution=8", "--set", "objective.teacher_temp_warmup_steps=5",
                       "--set", "objective.warmup_teacher_temp=0.02"]}


class PretrainWorkspace(Workspace):
    """The SSL workspace's store and environment, running `--task pretrain` instead."""

    def pretrain_command(self, nproc: int, run_dir: str, objective: str, overrides: list[str]) -> list[str]:
        sets = [arg for o in [*BASE, *overrides] for arg in ("--set", o)]
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                "-m", "harvest.training", "--task", "pretrain", "--snapshot", self.snapshot, "--run-dir", run_dir,
                *OBJECTIVES[objective], *sets]

    def pretrain(self, nproc: int, run_dir: str, objective: str, overrides: list[str]) -> None:
        done = subprocess.run(self.pretrain_command(nproc, run_dir, objective, overrides), env=self.env(),
                              text=True, capture_output=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"pretraining failed ({done.returncode}):\n{done.stderr[-4000:]}")

    def losses(self, run_dir: str) -> list[float]:
        return [r["loss"] for r in RunReader(self.store, run_dir).metrics() if r["kind"] == "train"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PretrainWorkspace]:
    root = tmp_path_factory.mktemp("pretraining")
    store = LocalObjectStore(root / "store")
    images, labels = synthetic_shapes(24, num_classes=4, size=16)
    validation = torch.zeros(len(labels), dtype=torch.bool)
    validation[::6] = True
    manifest, _ = write_snapshot(store, images, labels.tolist(), ssl_splits(labels, 4, validation, 0), CLASSES)
    yield PretrainWorkspace(root, store, manifest.snapshot_id, "")


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_two_ranks_follow_one_rank_with_the_same_global_batch(workspace: PretrainWorkspace, objective: str) -> None:
    steps = ["train.steps=10"]
    workspace.pretrain(1, f"runs/{objective}-1", objective, steps)
    workspace.pretrain(2, f"runs/{objective}-2", objective, steps)
    one, two = workspace.final(f"runs/{objective}-1"), workspace.final(f"runs/{objective}-2")
    assert one["step"] == two["step"] == 10 and two["world_size"] == 2
    assert max_difference(one["student"], two["student"]) < 1e-5  # type: ignore[arg-type]
    assert max_difference(one["objective"], two["objective"]) < 1e-5  # DINO: teacher and centre  # type: ignore[arg-type]
    assert workspace.losses(f"runs/{objective}-1") == pytest.approx(workspace.losses(f"runs/{objective}-2"), abs=1e-5)


def test_sigterm_then_resume_ends_where_an_uninterrupted_run_does(workspace: PretrainWorkspace) -> None:
    overrides = ["train.steps=120", "train.checkpoint_every=100"]
    workspace.pretrain(2, "runs/straight", "dino", overrides)
    process = subprocess.Popen(workspace.pretrain_command(2, "runs/preempted", "dino", overrides), env=workspace.env(),
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_step(workspace, "runs/preempted", 10, process)
    process.send_signal(signal.SIGTERM)  # what Slurm/Kubernetes send before preemption; torchrun forwards it
    output, _ = process.communicate(timeout=90)
    assert process.returncode != 0, output[-3000:]  # torchrun's own code (1 or 143); the job's: next test
    interrupted = RunReader(workspace.store, "runs/preempted").latest_checkpoint()
    assert interrupted is not None and 10 <= interrupted.step < 100, output[-3000:]  # the preemption checkpoint
    workspace.pretrain(2, "runs/preempted", "dino", overrides)
    straight, resumed = workspace.final("runs/straight"), workspace.final("runs/preempted")
    assert resumed["step"] == 120
    for part in ("student", "objective"):
        assert max_difference(straight[part], resumed[part]) == 0.0, part  # type: ignore[arg-type]
    events = [r["event"] for r in RunReader(workspace.store, "runs/preempted").metrics() if r["kind"] == "event"]
    assert events == ["preempted", "completed"]


def test_a_single_process_job_exits_143_on_sigterm_and_0_once_resumed(workspace: PretrainWorkspace) -> None:
    torchrun = workspace.pretrain_command(1, "runs/single", "simclr", ["train.steps=400"])
    command = [sys.executable, *torchrun[torchrun.index("harvest.training") - 1:]]  # no torchrun: the job itself
    process = subprocess.Popen(command, env=workspace.env(), text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    wait_for_step(workspace, "runs/single", 10, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 143, output[-3000:]
    resumed = subprocess.run(command, env=workspace.env(), text=True, capture_output=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert workspace.final("runs/single")["step"] == 400


def test_the_package_registers_as_a_backbone_and_initializes_an_ssl_classifier(workspace: PretrainWorkspace) -> None:
    workspace.pretrain(2, "runs/backbone", "simclr", ["train.steps=10"])
    package = read_run_package(workspace.store, "backbone")
    assert (package.kind, package.algorithm, package.steps) == ("backbone", "simclr", 10)
    assert package.classes == tuple(CLASSES) and "knn_accuracy" in package.metrics

    url = f"sqlite:///{workspace.root / 'models.db'}"
    migrate(url, MIGRATIONS)
    expert = Caller(Principal("u1", "eve", Role.EXPERT, "t1", 0), "token-eve")
    registry = Registry(session_factory(make_engine(url)), workspace.store,
                        lambda caller, project: ProjectInfo(project, {c: f"id-{c}" for c in CLASSES}))
    row = registry.register(expert, "backbone").model
    assert row.kind == BACKBONE and row.embedding_dim == 32 and row.backbone == "small_cnn"

    weights = workspace.root / "backbone.pt"
    workspace.store.download(f"{row.package_prefix}weights.pt", weights)  # the registered copy
    classifier = build_model(ModelConfig(width=8, norm="group", pretrained=weights), 3, len(CLASSES))
    state, backbone = classifier.state_dict(), torch.load(weights, weights_only=True)
    assert set(state) - set(backbone) == {"classifier.weight", "classifier.bias"}
    assert all(torch.equal(state[k], v) for k, v in backbone.items())
