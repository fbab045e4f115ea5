"""Each algorithm trains through the shared `train_step`; per-class state updates as the papers say."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from harvest.training.algorithms import ALGORITHMS, Batch, build
from harvest.training.algorithms.flexmatch import FlexMatch
from harvest.training.config import AlgorithmConfig, ModelConfig
from harvest.training.distributed import Comm, DistEnv
from harvest.training.dual_network import DualNetwork
from harvest.training.models import build_model

pytestmark = pytest.mark.unit
C = 4


def _batch(n_lb: int = 8, mu: int = 2) -> Batch:
    g = torch.Generator().manual_seed(0)
    n = n_lb * mu
    return Batch(torch.randn(n_lb, 3, 16, 16, generator=g), torch.arange(n_lb) % C,
                 torch.randn(n, 3, 16, 16, generator=g), torch.randn(n, 3, 16, 16, generator=g),
                 torch.arange(n) % C, torch.arange(n), idx_lb=torch.arange(n_lb))


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_train_step_gives_a_finite_loss_with_gradients(name: str) -> None:
    def one() -> torch.nn.Module:
        return build_model(ModelConfig(width=8), 3, C)

    model = one() if ALGORITHMS[name].networks == 1 else DualNetwork(one)
    algorithm = build(AlgorithmConfig(name=name, threshold=0.2), C, 64, 100, Comm(DistEnv()), labeled_size=8)
    algorithm.attach_teacher(build_model(ModelConfig(width=8), 3, C).eval())
    result = algorithm.train_step(model, _batch(), step=50)
    result.loss.backward()
    assert torch.isfinite(result.loss)
    assert all(p.grad is not None for p in model.parameters())
    assert "teacher.features.0.weight" not in algorithm.state_dict()  # the teacher is not algorithm state


def test_flexmatch_incremental_histogram_equals_a_full_recount() -> None:
    algorithm = FlexMatch(AlgorithmConfig(name="flexmatch"), C, 20, 100, Comm(DistEnv()))
    g = torch.Generator().manual_seed(1)
    for _ in range(30):
        idx = torch.randint(0, 20, (12,), generator=g)  # with repeats, like a batch wrapping an epoch
        algorithm._update(idx, torch.rand(12, generator=g) > 0.4, torch.randint(0, C, (12,), generator=g))
        recount = torch.bincount(algorithm.selected[:-1] + 1, minlength=C + 1)  # last slot: trash
        assert torch.equal(algorithm.hist, recount)


def test_flexmatch_thresholds_start_low_for_classes_not_yet_learned() -> None:
    algorithm = FlexMatch(AlgorithmConfig(name="flexmatch", threshold=0.9), C, 8, 100, Comm(DistEnv()))
    algorithm._update(torch.arange(4), torch.ones(4, dtype=torch.bool), torch.zeros(4, dtype=torch.long))
    assert algorithm.classwise_acc.tolist() == [1.0, 0.0, 0.0, 0.0]  # 4 of class 0, 4 unused


def test_freematch_threshold_tracks_confidence() -> None:
    algorithm = build(AlgorithmConfig(name="freematch", ema_p=0.5), C, 8, 100, Comm(DistEnv()))
    confident = F.one_hot(torch.zeros(8, dtype=torch.long), C).float() * 0.97 + 0.01
    for _ in range(10):
        algorithm.mask(confident, _batch())
    assert algorithm.time_p.item() > 0.9 and algorithm.p_model.argmax().item() == 0


@pytest.mark.parametrize("arch", ["small_cnn", "resnet18", "wrn28_2"])
def test_models_classify_small_images(arch: str) -> None:
    model = build_model(ModelConfig(arch=arch), 1, 10)
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 10)
