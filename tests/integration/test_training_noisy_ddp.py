"""The noisy-label algorithms (Co-teaching, DivideMix-style) under torchrun with 2 gloo processes.

The snapshot is all labeled, a quarter of the labels flipped and a few flagged as weak (noisy import).
Both algorithms must: keep the pair of networks and the clean/noisy split identical on every rank (the
checkpoints' cross-rank fingerprints), reach the parameters of one process with the same global batch,
resume after SIGTERM to exactly the uninterrupted result, and publish one network plus the items they
suspect of being mislabeled.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator

import pytest
import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.common.runs import RunReader
from harvest.training.datasets import TORCHVISION_IO, synthetic_shapes, write_snapshot
from harvest.training.models import SmallCNN
from tests.harness.training_runs import Workspace, max_difference, wait_for_step

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]

ALGORITHMS = ["coteaching", "dividemix"]
# warm-up 5 of 30 steps, then the split is refitted every 5 steps
NOISY = ["train.steps=30", "algorithm.noisy_warmup=0.2", "algorithm.refresh_every=5", "train.checkpoint_every=10"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("noisy-training")
    store = LocalObjectStore(root / "store")
    images, labels = synthetic_shapes(24, num_classes=4, size=16)
    generator = torch.Generator().manual_seed(3)
    given = labels.clone()
    flipped = torch.rand(len(labels), generator=generator) < 0.25
    given[flipped] = (labels[flipped] + 1) % 4
    splits = ["validation" if i % 6 == 0 else "labeled" for i in range(len(labels))]
    manifest, truth = write_snapshot(store, images, [int(v) if s == "labeled" else int(t) for v, t, s in
                                                     zip(given, labels, splits, strict=True)], splits,
                                     ["n", "e", "s", "w"], noisy=[s == "labeled" and i % 5 == 0
                                                                  for i, s in enumerate(splits)])
    yield Workspace(root, store, manifest.snapshot_id, truth)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_two_ranks_agree_and_match_one_rank(workspace: Workspace, algorithm: str) -> None:
    overrides = [*NOISY, f"algorithm.name={algorithm}"]
    workspace.train(1, f"runs/{algorithm}-1", overrides)
    workspace.train(2, f"runs/{algorithm}-2", overrides)
    checks = [r for r in RunReader(workspace.store, f"runs/{algorithm}-2").metrics() if r["kind"] == "state_check"]
    assert [c["step"] for c in checks] == [10, 20, 30]
    assert all(len(c["fingerprints"]) == 2 and len(set(c["fingerprints"])) == 1 for c in checks)
    assert len({c["fingerprints"][0] for c in checks}) > 1  # the split evolves
    one, two = workspace.final(f"runs/{algorithm}-1"), workspace.final(f"runs/{algorithm}-2")
    assert two["world_size"] == 2
    assert max_difference(one["model"], two["model"]) < 1e-4  # type: ignore[arg-type]
    assert max_difference(one["algorithm"], two["algorithm"]) < 1e-4  # type: ignore[arg-type]
    model = two["model"]
    assert {k.split(".")[1] for k in model} == {"0", "1"}  # type: ignore[union-attr]
    assert max_difference({"w": model["nets.0.classifier.weight"]},  # type: ignore[index]
                          {"w": model["nets.1.classifier.weight"]}) > 1e-3  # two different networks
    clean = two["algorithm"]["clean"]  # type: ignore[index]
    assert clean.shape == (2, 20 * 4) and float(clean.min()) < 0.5 < float(clean.max())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sigterm_then_restart_finishes_with_the_uninterrupted_state(workspace: Workspace, algorithm: str) -> None:
    overrides = [*NOISY, "train.steps=120", "train.checkpoint_every=100", f"algorithm.name={algorithm}"]
    workspace.train(2, f"runs/{algorithm}-straight", overrides)
    process = subprocess.Popen(workspace.command(2, f"runs/{algorithm}-preempted", overrides), env=workspace.env(),
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_step(workspace, f"runs/{algorithm}-preempted", 10, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=90)
    assert process.returncode != 0, output[-3000:]
    interrupted = RunReader(workspace.store, f"runs/{algorithm}-preempted").latest_checkpoint()
    assert interrupted is not None and 10 <= interrupted.step < 120, output[-3000:]
    workspace.train(2, f"runs/{algorithm}-preempted", overrides)
    straight, resumed = workspace.final(f"runs/{algorithm}-straight"), workspace.final(f"runs/{algorithm}-preempted")
    assert resumed["step"] == 120
    for part in ("model", "ema", "algorithm"):
        assert max_difference(straight[part], resumed[part]) == 0.0, part  # type: ignore[arg-type]


def test_package_holds_one_network_and_the_suspects(workspace: Workspace) -> None:
    run = "runs/dividemix-1"
    if RunReader(workspace.store, run).latest_checkpoint() is None:
        workspace.train(1, run, [*NOISY, "algorithm.name=dividemix"])
    package = json.loads(workspace.store.get(f"{run}/model/model.json"))
    weights = torch.load(_download(workspace, package["weights"]), weights_only=True)
    network = SmallCNN(3, 4, width=8, norm="group")
    network.load_state_dict(weights)  # a single network, loadable as the configured architecture
    assert package["metrics"]["network_accuracy"] and len(package["metrics"]["network_accuracy"]) == 2
    assert package["suspected_errors"] == f"{run}/suspected_errors.jsonl"
    lines = [json.loads(line) for line in workspace.store.get(package["suspected_errors"]).decode().splitlines()]
    assert lines, "nothing flagged although a quarter of the labels are wrong"
    assert all(0.5 < entry["score"] <= 1 and entry["item_id"].startswith("item-") for entry in lines)
    assert all(entry["given_class"] in "nesw" and entry["suggested_class"] in "nesw" for entry in lines)


def _download(workspace: Workspace, key: str) -> str:
    target = workspace.root / "published.pt"
    workspace.store.download(key, target)
    return str(target)
