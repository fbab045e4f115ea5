"""Weak/strong views: same per-image result whatever the rank split, reproducible from (seed, step)."""

from __future__ import annotations

import pytest
import torch

from harvest.training.augment import RANDAUGMENT_OPS, Augmenter
from harvest.training.config import AugmentConfig

pytestmark = pytest.mark.unit


def _images(n: int = 16) -> torch.Tensor:
    return (torch.rand(n, 3, 20, 20, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)


@pytest.mark.parametrize("view", ["weak", "strong"])
def test_two_ranks_produce_the_one_rank_views(view: str) -> None:
    images = _images()
    one = getattr(Augmenter(AugmentConfig(), (0.5,) * 3, (0.25,) * 3, seed=3), view)(images, 11, 2)
    halves = [getattr(Augmenter(AugmentConfig(), (0.5,) * 3, (0.25,) * 3, seed=3, rank=r, world_size=2), view)(
        images[8 * r:8 * (r + 1)], 11, 2) for r in range(2)]
    torch.testing.assert_close(torch.cat(halves), one, rtol=0, atol=1e-6)


def test_views_depend_on_step_and_are_reproducible() -> None:
    aug = Augmenter(AugmentConfig(), (0.5,) * 3, (0.25,) * 3, seed=0)
    images = _images()
    assert torch.equal(aug.strong(images, 5, 2), aug.strong(images, 5, 2))
    assert not torch.equal(aug.strong(images, 5, 2), aug.strong(images, 6, 2))


@pytest.mark.parametrize("op", RANDAUGMENT_OPS, ids=lambda op: getattr(op, "__qualname__", "op"))
def test_every_randaugment_op_keeps_shape_and_range(op: object) -> None:
    x = _images(6).float() / 255
    out = op(x, torch.rand(6), torch.tensor([1.0, -1.0] * 3))  # type: ignore[operator]
    assert out.shape == x.shape and out.min() >= -1e-6 and out.max() <= 1 + 1e-6


def test_flip_can_be_disabled_for_digits() -> None:
    cfg = AugmentConfig(flip=False, translate=0.0)
    images = _images(4)
    out = Augmenter(cfg, (0.0,) * 3, (1.0,) * 3, seed=0).weak(images, 0, 0)
    torch.testing.assert_close(out, images.float() / 255)
