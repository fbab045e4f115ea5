"""The noisy-label pieces: the clean/noisy mixture, who learns from whom in Co-teaching and DivideMix,
and how weak (noisy-flagged) labels reach training and validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from harvest.common.errors import InvalidArgument
from harvest.common.objectstore import LocalObjectStore
from harvest.labels.snapshots_freeze import FreezeOptions, FrozenItem, split_entries
from harvest.training.algorithms import Batch
from harvest.training.algorithms.coteaching import CoTeaching
from harvest.training.algorithms.dividemix import DivideMix
from harvest.training.algorithms.noisy import clean_probability
from harvest.training.config import AlgorithmConfig
from harvest.training.data import load_manifest, prepare, training_entries
from harvest.training.datasets import TORCHVISION_IO, synthetic_shapes, write_snapshot
from harvest.training.distributed import Comm, DistEnv

pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]
C = 3


class LookupPair(nn.Module):
    """Two 'networks' whose logits for sample i are rows of a table: gradients show who learned from what.
    Inputs are (N, 1, 1, 1) tensors holding sample ids."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.table = nn.Parameter(logits.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.table[:, x.flatten().long()]


def _ids(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1)


def test_mixture_separates_small_from_large_losses() -> None:
    rng = np.random.default_rng(0)
    losses = np.concatenate([rng.normal(0.1, 0.05, 300).clip(0), rng.normal(2.5, 0.4, 100)])
    clean = clean_probability(losses)
    assert (clean[:300] > 0.9).mean() > 0.97 and (clean[300:] < 0.1).mean() > 0.97
    assert np.all(clean_probability(np.full(50, 0.7)) == 1.0)  # nothing to separate: all clean


def test_coteaching_each_network_learns_from_the_others_small_loss_samples() -> None:
    # 4 samples, label 0. Network 0 finds samples 0 and 1 easy; network 1 finds 2 and 3 easy.
    logits = torch.zeros(2, 4, C)
    logits[0, :2, 0] = logits[1, 2:, 0] = 5.0
    model = LookupPair(logits)
    algorithm = CoTeaching(AlgorithmConfig(name="coteaching", noise_rate=0.5, noisy_warmup=0.1), C, 4, 100,
                           Comm(DistEnv()), labeled_size=4, batch_size=4)
    result = algorithm.train_step(model, Batch(_ids(0, 1, 2, 3), torch.zeros(4, dtype=torch.long)), step=50)
    result.loss.backward()
    touched = model.table.grad.abs().sum(-1) > 0  # type: ignore[union-attr]
    assert touched[0].tolist() == [False, False, True, True]  # network 0 trained on network 1's picks
    assert touched[1].tolist() == [True, True, False, False]
    assert float(result.logs["kept_rate"]) == 0.5


def test_coteaching_keeps_everything_until_the_noise_rate_is_estimated() -> None:
    algorithm = CoTeaching(AlgorithmConfig(name="coteaching", noisy_warmup=0.2), C, 20, 100, Comm(DistEnv()),
                           labeled_size=20, batch_size=4)
    assert float(algorithm.forget_rate(10)) == 0.0
    algorithm.update_sample_losses(torch.tensor([[0.1, 0.1, 0.1, 3.0] * 5] * 2), step=20)
    assert float(algorithm.noise_estimate) == pytest.approx(0.25, abs=0.02)
    assert float(algorithm.forget_rate(20)) == pytest.approx(0.25, abs=0.02)


def test_dividemix_drops_labels_the_other_network_deems_noisy_and_learns_them_as_unlabeled() -> None:
    algorithm = DivideMix(AlgorithmConfig(name="dividemix", noisy_warmup=0.1, threshold=0.5), C, 8, 100,
                          Comm(DistEnv()), labeled_size=2, batch_size=2)
    algorithm.clean.copy_(torch.tensor([[1.0, 1.0], [1.0, 0.0]]))  # network 1 deems labeled image 1 noisy
    logits = torch.zeros(2, 6, C)
    logits[:, 2:, 1] = 4.0  # confident co-guess for the unlabeled weak views (ids 2, 3)
    model = LookupPair(logits)
    batch = Batch(_ids(0, 1), torch.tensor([0, 0]), _ids(2, 3), _ids(4, 5), idx_lb=torch.tensor([0, 1]))
    result = algorithm.train_step(model, batch, step=50)
    result.loss.backward()
    grad = model.table.grad.abs().sum(-1)  # type: ignore[union-attr]
    assert grad[0, 0] > 0 and grad[0, 1] == 0  # network 0 drops image 1 (network 1's split)...
    assert grad[1, 0] > 0 and grad[1, 1] > 0  # ...network 1 keeps both (network 0 deems both clean)
    assert torch.all(grad[:, 4:] > 0) and torch.all(grad[:, 2:4] == 0)  # strong views learn the co-guess
    assert float(result.logs["mask_rate"]) == 1.0


def test_dividemix_warms_up_with_plain_cross_entropy_on_every_label() -> None:
    algorithm = DivideMix(AlgorithmConfig(name="dividemix", noisy_warmup=0.5), C, 8, 100, Comm(DistEnv()),
                          labeled_size=2, batch_size=2)
    algorithm.clean.zero_()  # even a split saying "all noisy" is ignored during the warm-up
    model = LookupPair(torch.zeros(2, 6, C))
    batch = Batch(_ids(0, 1), torch.tensor([0, 2]), _ids(2, 3), _ids(4, 5), idx_lb=torch.tensor([0, 1]))
    result = algorithm.train_step(model, batch, step=10)
    assert float(result.loss.detach()) == pytest.approx(2 * np.log(C), rel=1e-5)


def _noisy_snapshot(tmp_path: Path, weak: list[bool]) -> tuple[LocalObjectStore, str]:
    store = LocalObjectStore(tmp_path / "store")
    images, labels = synthetic_shapes(2, num_classes=4, size=8)
    splits = ["validation", *["labeled"] * 7]
    manifest, _ = write_snapshot(store, images, labels.tolist(), splits, list("abcd"), noisy=[False, *weak])
    return store, manifest.snapshot_id


@pytest.mark.parametrize("weak_labels", [False, True])
def test_weak_labels_train_only_noisy_label_algorithms(tmp_path: Path, weak_labels: bool) -> None:
    store, snapshot = _noisy_snapshot(tmp_path, [True, True, False, False, False, False, False])
    manifest = load_manifest(store, snapshot)
    moved = [e for e in training_entries(manifest, weak_labels) if e.split == "unlabeled"]
    data = prepare(manifest, store, tmp_path / "cache", Comm(DistEnv()), resolution=8, channels=3,
                   weak_labels=weak_labels)
    if weak_labels:
        assert not moved and len(data.labeled) == 7
    else:  # the two weak labels are not ground truth for FixMatch & co: those images are unlabeled
        assert [e.label for e in moved] == [None, None] and len(data.labeled) == 5
        assert set(data.labeled_items) == {f"item-{i}" for i in range(3, 8)}


def test_only_weak_labels_name_the_algorithms_that_can_use_them(tmp_path: Path) -> None:
    store, snapshot = _noisy_snapshot(tmp_path, [True] * 7)
    with pytest.raises(InvalidArgument, match="coteaching or dividemix"):
        prepare(load_manifest(store, snapshot), store, tmp_path / "cache", Comm(DistEnv()), resolution=8,
                channels=3)


def test_validation_is_drawn_from_trusted_labels_when_there_are_any() -> None:
    items = [FrozenItem(f"i{n:02}", f"k{n}", "0" * 64, 8, 8, "a" if n % 2 else "b", n >= 4) for n in range(40)]
    entries = split_entries(items, FreezeOptions(0.5, seed=1))
    validation = [e for e in entries if e.split == "validation"]
    assert validation and not any(e.noisy for e in validation)
    only_weak = [FrozenItem(f"w{n}", f"k{n}", "0" * 64, 8, 8, "a", True) for n in range(10)]
    assert any(e.split == "validation" for e in split_entries(only_weak, FreezeOptions(0.2, seed=1)))
