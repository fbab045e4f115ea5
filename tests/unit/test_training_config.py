"""The training config: presets, YAML, overrides, and the loss-integrity rules it enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvest.training.config import PRESETS, load_config, parse_override

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_valid(preset: str) -> None:
    cfg = load_config(preset)
    assert cfg.preset == preset and cfg.train.steps > 0


def test_yaml_starts_from_its_preset_and_overrides_win(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text("preset: quick\ntrain:\n  steps: 77\nalgorithm:\n  name: flexmatch\n")
    cfg = load_config(str(path), ["train.batch_size=64", "optim.name=lars"])
    assert (cfg.train.steps, cfg.train.batch_size, cfg.algorithm.name, cfg.optim.name) == (77, 64, "flexmatch", "lars")
    assert cfg.model.arch == "small_cnn"  # from the preset


def test_learning_rate_scales_with_global_batch_not_world_size() -> None:
    cfg = load_config("quick", ["train.batch_size=128", "optim.lr=0.03", "optim.reference_batch=64"])
    assert cfg.learning_rate() == pytest.approx(0.06)
    assert cfg.per_rank_batch(4) == 32


def test_global_batch_not_divisible_by_world_size_is_refused() -> None:
    with pytest.raises(ValueError, match="not divisible by the world size 3"):
        load_config("quick", ["train.batch_size=32"]).per_rank_batch(3)


def test_unknown_field_and_bad_override_are_refused() -> None:
    with pytest.raises(ValueError):
        load_config("quick", ["train.stepz=3"])
    with pytest.raises(ValueError, match="section.field=value"):
        parse_override("train.steps")
    with pytest.raises(ValueError, match="neither a preset"):
        load_config("no-such-preset")
