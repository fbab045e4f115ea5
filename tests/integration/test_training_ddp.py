"""The training program under torchrun with 2 gloo processes on CPU, as a job would run it.

Each test writes a real snapshot (PNG images + manifest) into a LocalObjectStore under tmp_path and starts
`python -m torch.distributed.run ... -m harvest.training` as a subprocess.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.common.runs import RunReader
from harvest.training.datasets import TORCHVISION_IO, ssl_splits, synthetic_shapes, write_snapshot
from tests.harness.training_runs import Workspace, max_difference, wait_for_step

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("training")
    store = LocalObjectStore(root / "store")
    images, labels = synthetic_shapes(24, num_classes=4, size=16)
    validation = torch.zeros(len(labels), dtype=torch.bool)
    validation[::6] = True
    manifest, truth = write_snapshot(store, images, labels.tolist(), ssl_splits(labels, 4, validation, 0),
                                     ["n", "e", "s", "w"])
    yield Workspace(root, store, manifest.snapshot_id, truth)


def test_two_ranks_reach_the_parameters_of_one_rank_with_the_same_global_batch(workspace: Workspace) -> None:
    steps = ["train.steps=20", "algorithm.name=fixmatch"]
    workspace.train(1, "runs/ddp-1", steps)
    workspace.train(2, "runs/ddp-2", steps)
    one, two = workspace.final("runs/ddp-1"), workspace.final("runs/ddp-2")
    assert one["step"] == two["step"] == 20 and two["world_size"] == 2
    assert max_difference(one["model"], two["model"]) < 1e-5  # type: ignore[arg-type]
    metrics = RunReader(workspace.store, "runs/ddp-2").metrics()
    assert any(r["kind"] == "train" and r.get("mask_rate", 0) > 0 for r in metrics)  # the SSL loss was active


@pytest.mark.parametrize("algorithm", ["flexmatch", "freematch"])
def test_per_class_state_is_identical_on_all_ranks(workspace: Workspace, algorithm: str) -> None:
    workspace.train(2, f"runs/state-{algorithm}", ["train.steps=15", "train.checkpoint_every=5",
                                                   f"algorithm.name={algorithm}"])
    checks = [r for r in RunReader(workspace.store, f"runs/state-{algorithm}").metrics() if r["kind"] == "state_check"]
    assert [c["step"] for c in checks] == [5, 10, 15]
    assert all(len(c["fingerprints"]) == 2 and len(set(c["fingerprints"])) == 1 for c in checks)
    assert len({c["fingerprints"][0] for c in checks}) > 1  # and it does evolve
    state = workspace.final(f"runs/state-{algorithm}")["algorithm"]
    if algorithm == "flexmatch":
        assert state["hist"][0] < state["selected"].numel()  # some pool images were selected
    else:
        assert state["time_p"] != 0.25  # moved from its 1/C start


def test_sigterm_then_restart_finishes_with_the_uninterrupted_parameters(workspace: Workspace) -> None:
    overrides = ["train.steps=150", "algorithm.name=flexmatch", "train.checkpoint_every=100"]
    workspace.train(2, "runs/straight", overrides)
    process = subprocess.Popen(workspace.command(2, "runs/preempted", overrides), env=workspace.env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_step(workspace, "runs/preempted", 10, process)
    process.send_signal(signal.SIGTERM)  # what Slurm/Kubernetes send before preemption; torchrun forwards it
    output, _ = process.communicate(timeout=90)
    assert process.returncode != 0, output[-3000:]
    interrupted = RunReader(workspace.store, "runs/preempted").latest_checkpoint()
    assert interrupted is not None and 10 <= interrupted.step < 150, output[-3000:]
    workspace.train(2, "runs/preempted", overrides)
    straight, resumed = workspace.final("runs/straight"), workspace.final("runs/preempted")
    assert resumed["step"] == 150
    for part in ("model", "ema", "algorithm"):
        assert max_difference(straight[part], resumed[part]) == 0.0, part  # type: ignore[arg-type]
    events = [r["event"] for r in RunReader(workspace.store, "runs/preempted").metrics() if r["kind"] == "event"]
    assert events == ["preempted", "completed"]


def test_missing_image_fails_every_rank_with_a_message_naming_it(workspace: Workspace) -> None:
    from dataclasses import replace

    from harvest.common import snapshots

    manifest = snapshots.loads(workspace.store.get(snapshots.manifest_key(workspace.snapshot)))
    never_stored = hashlib.sha256(b"an upload that never completed").hexdigest()
    gone = f"datasets/bench/{never_stored}.png"
    entries = [replace(manifest.entries[7], key=gone, sha256=never_stored), *manifest.entries[8:],
               *manifest.entries[:7]]
    broken = snapshots.build("p", manifest.classes, entries)
    workspace.store.put(snapshots.manifest_key(broken.snapshot_id), snapshots.dumps(broken))
    started = time.monotonic()
    done = workspace.train(2, "runs/broken", ["train.steps=5"], snapshot=broken.snapshot_id, check=False)
    assert done.returncode != 0
    assert f"image '{gone}'" in done.stderr and "is missing from the object store" in done.stderr
    assert time.monotonic() - started < 60  # every rank stopped; none waited for a collective timeout
