"""Self-supervised pretraining without processes: the config and what it refuses, NT-Xent and the DINO loss
against hand computations, DINO's centre / temperature / teacher, multi-crop views, and the backbone
package the inference registry reads."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from harvest.inference.package import parse
from harvest.training.__main__ import main
from harvest.training.config import ModelConfig
from harvest.training.distributed import Comm, DistEnv
from harvest.training.models import build_model, load_pretrained
from harvest.training.pretraining.backbones import package_manifest
from harvest.training.pretraining.config import PRESETS, CropsConfig, ObjectiveConfig, load_pretrain_config
from harvest.training.pretraining.networks import build_backbone
from harvest.training.pretraining.objectives import (
    DINO,
    build_student,
    dino_cross_entropy,
    nt_xent,
    teacher_momentum,
    teacher_temperature,
)
from harvest.training.pretraining.views import MultiCrop

pytestmark = pytest.mark.unit
SINGLE = Comm(DistEnv())


# ---- config -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_pretraining_preset_is_valid(preset: str) -> None:
    cfg = load_pretrain_config(preset)
    assert cfg.preset == preset and cfg.train.steps > cfg.optim.warmup_steps
    assert cfg.crops_per_image() == 2 + (cfg.augment.local_crops if cfg.objective.name == "dino" else 0)


def test_hpc_presets_use_lars_with_a_large_global_batch_and_a_warm_up() -> None:
    for name in ("hpc", "hpc_dino"):
        cfg = load_pretrain_config(name)
        assert cfg.optim.name == "lars" and cfg.train.batch_size >= 1024 and cfg.optim.warmup_steps > 0
        assert cfg.learning_rate() == pytest.approx(0.3 * cfg.train.batch_size / 256)


def test_yaml_starts_from_its_preset_and_overrides_win(tmp_path: Path) -> None:
    path = tmp_path / "pretrain.yaml"
    path.write_text("preset: quick_dino\ntrain:\n  steps: 77\naugment:\n  local_crops: 3\n")
    cfg = load_pretrain_config(str(path), ["train.batch_size=64", "augment.local_scale=[0.1, 0.3]"])
    assert (cfg.objective.name, cfg.train.steps, cfg.train.batch_size) == ("dino", 77, 64)
    assert cfg.augment.local_crops == 3 and cfg.augment.local_scale == (0.1, 0.3)
    assert cfg.model.norm == "group"  # from the preset


def test_global_batch_not_divisible_by_world_size_is_refused() -> None:
    cfg = load_pretrain_config("quick", ["train.batch_size=128"])
    assert cfg.per_rank_batch(4) == 32
    with pytest.raises(ValueError, match="not divisible by the world size 3"):
        cfg.per_rank_batch(3)


@pytest.mark.parametrize(("overrides", "message"), [
    (["augment.local_crops=4"], "applies to objective.name=dino only"),
    (["objective.name=byol"], "objective.name"),
    (["data.unlabeled_truth=x.json"], "data.unlabeled_truth does not apply to pretraining"),
    (["train.ema_decay=0.9"], "train.ema_decay does not apply to pretraining"),
    (["augment.global_scale=[0.8, 0.2]"], "0 < low <= high"),
    (["augment.local_scale=[0.5, 1.5]"], "must not exceed 1"),
    (["optim.warmup_steps=5000"], "warmup_steps must be smaller"),
    (["objective.teacher_temp_warmup_steps=5000"], "must not exceed train.steps"),
    (["train.stepz=3"], "stepz"),
])
def test_inconsistent_or_unknown_settings_are_refused(overrides: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_pretrain_config("quick", overrides)


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="neither a pretraining preset"):
        load_pretrain_config("fixmatch")
    with pytest.raises(ValueError, match="unknown pretraining preset"):
        load_pretrain_config({"preset": "nope"})


def test_cli_refuses_a_bad_pretraining_config_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--task", "pretrain", "--snapshot", "s", "--run-dir", "runs/x", "--set", "objective.name=byol"])
    assert code == 2 and "invalid pretraining config" in capsys.readouterr().err


# ---- SimCLR -----------------------------------------------------------------------------------------------

def test_nt_xent_matches_a_hand_computation() -> None:
    z1 = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), dim=1)
    z2 = F.normalize(torch.tensor([[2.0, 1.0], [-1.0, 2.0]]), dim=1)
    tau = 0.5
    losses, hits = nt_xent(z1, z2, z1, z2, 0, tau)
    everything = [*z1, *z2]
    expected = []
    for i, anchor in enumerate(everything):
        positive = (i + 2) % 4
        logits = {j: float(anchor @ other) / tau for j, other in enumerate(everything) if j != i}
        expected.append(-logits[positive] + math.log(sum(math.exp(v) for v in logits.values())))
    assert losses.tolist() == pytest.approx(expected, rel=1e-6)
    assert hits.tolist() == [1.0, 1.0, 1.0, 1.0]  # each positive is its anchor's nearest candidate


@pytest.mark.parametrize("world_size", [2, 3])
def test_nt_xent_of_rank_slices_averages_to_the_global_batch_loss(world_size: int) -> None:
    g = torch.Generator().manual_seed(0)
    all_z1 = F.normalize(torch.randn(6, 5, generator=g), dim=1)
    all_z2 = F.normalize(torch.randn(6, 5, generator=g), dim=1)
    whole = nt_xent(all_z1, all_z2, all_z1, all_z2, 0, 0.2)[0].mean()
    n = 6 // world_size
    per_rank = [nt_xent(all_z1[r * n:(r + 1) * n], all_z2[r * n:(r + 1) * n], all_z1, all_z2, r * n, 0.2)[0].mean()
                for r in range(world_size)]
    assert torch.stack(per_rank).mean().item() == pytest.approx(whole.item(), rel=1e-6)


# ---- DINO -------------------------------------------------------------------------------------------------

def _dino(**fields: object) -> tuple[DINO, torch.nn.Module]:
    cfg = ObjectiveConfig(name="dino", hidden_dim=16, projection_dim=8, out_dim=10, **fields)  # type: ignore[arg-type]
    backbone, dim = build_backbone(ModelConfig(width=4, norm="group"), 3)
    student = build_student(cfg, backbone, dim)
    return DINO(cfg, SINGLE, student, total_steps=100), student


def test_dino_cross_entropy_pairs_every_teacher_view_with_every_other_student_view() -> None:
    student = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0]])  # 2 global views + 1 local, one image each
    teacher = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    log_p = F.log_softmax(student / 0.5, dim=-1)
    pairs = [(0, 1), (0, 2), (1, 0), (1, 2)]  # (teacher view, student view), never the same view
    expected = sum(float(-(teacher[q] * log_p[v]).sum()) for q, v in pairs) / len(pairs)
    assert dino_cross_entropy(student, teacher, 3, 0.5).item() == pytest.approx(expected, rel=1e-6)


def test_dino_center_is_a_momentum_average_of_the_teacher_batch_mean() -> None:
    dino, _ = _dino(center_momentum=0.75)
    out = torch.arange(40, dtype=torch.float32).view(4, 10)
    dino.update_center(out)
    assert torch.allclose(dino.center, 0.25 * out.mean(0, keepdim=True))
    dino.update_center(out)
    assert torch.allclose(dino.center, (0.75 * 0.25 + 0.25) * out.mean(0, keepdim=True))


def test_teacher_temperature_warms_up_linearly_then_stays() -> None:
    cfg = ObjectiveConfig(name="dino", warmup_teacher_temp=0.04, teacher_temp=0.07, teacher_temp_warmup_steps=10)
    assert [round(teacher_temperature(cfg, s), 4) for s in (0, 5, 10, 50)] == [0.04, 0.055, 0.07, 0.07]


def test_teacher_momentum_follows_a_cosine_to_one() -> None:
    cfg = ObjectiveConfig(name="dino", teacher_momentum=0.99)
    values = [teacher_momentum(cfg, s, 100) for s in (0, 50, 100)]
    assert values == pytest.approx([0.99, 0.995, 1.0])


def test_a_sharper_teacher_temperature_gives_a_lower_teacher_entropy() -> None:
    views = [torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    entropies = []
    for temp in (0.02, 0.2):
        dino, student = _dino(warmup_teacher_temp=temp, teacher_temp=temp)
        dino.teacher.head.mlp[0].weight.data.mul_(50)  # spread the teacher's outputs so temperature matters
        _, logs = dino.loss(student, views, step=0)
        entropies.append(logs["teacher_entropy"].item())
    assert entropies[0] < entropies[1] <= math.log(10) + 1e-5


def test_teacher_moves_toward_the_student_by_one_minus_the_momentum() -> None:
    dino, student = _dino(teacher_momentum=0.9)
    before = dino.teacher.head.last_layer.weight.clone()
    with torch.no_grad():
        student.head.last_layer.weight.add_(1.0)
    dino.after_optimizer_step(student, step=0)
    assert torch.allclose(dino.teacher.head.last_layer.weight, before + 0.1, atol=1e-6)


# ---- views ------------------------------------------------------------------------------------------------

def _images(n: int = 6) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, 20, 20), generator=torch.Generator().manual_seed(3), dtype=torch.uint8)


def _crops(**kwargs: object) -> MultiCrop:
    cfg = CropsConfig(local_crops=3, local_resolution=8, blur=0.5, solarize=0.5)
    return MultiCrop(cfg, 20, (0.5,) * 3, (0.25,) * 3, seed=7, **kwargs)  # type: ignore[arg-type]


def test_multicrop_gives_two_global_then_local_crops_of_their_resolutions() -> None:
    views = _crops()(_images(), step=0)
    assert [tuple(v.shape) for v in views] == [(6, 3, 20, 20)] * 2 + [(6, 3, 8, 8)] * 3
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in views)


def test_multicrop_is_a_function_of_seed_and_step() -> None:
    images = _images()
    first, again, later = _crops()(images, 3), _crops()(images, 3), _crops()(images, 4)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], later[0])
    assert not torch.equal(first[0], first[1])  # the two views differ


def test_each_rank_gets_its_slice_of_the_global_batch_views() -> None:
    images = _images(6)
    whole = _crops()(images, 5)
    second_half = _crops(rank=1, world_size=2)(images[3:], 5)
    assert all(torch.equal(w[3:], h) for w, h in zip(whole, second_half, strict=True))


# ---- backbone and package ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("arch", "head"), [("small_cnn", "classifier"), ("resnet18", "fc")])
def test_backbone_has_the_classifier_key_names_without_the_head(arch: str, head: str) -> None:
    cfg = ModelConfig(arch=arch, width=8)
    backbone, dim = build_backbone(cfg, 1)
    classifier_keys = set(build_model(cfg, 1, 10).state_dict())
    assert set(backbone.state_dict()) == {k for k in classifier_keys if not k.startswith(f"{head}.")}
    assert backbone(torch.randn(2, 1, 16, 16)).shape == (2, dim)


def test_backbone_weights_initialize_an_ssl_classifier_by_name(tmp_path: Path) -> None:
    backbone, _ = build_backbone(ModelConfig(width=8), 3)
    path = tmp_path / "weights.pt"
    torch.save(backbone.state_dict(), path)
    classifier = build_model(ModelConfig(width=8), 3, 5)
    load_pretrained(classifier, path)
    loaded = classifier.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in backbone.state_dict().items())


def test_backbone_package_parses_as_a_backbone_for_the_registry() -> None:
    raw = package_manifest(snapshot_id="s1", classes=("a", "b"), model=ModelConfig(width=8),
                           weights_key="runs/j/model/weights.pt", algorithm="simclr", steps=10, resolution=16,
                           channels=3, mean=(0.5,) * 3, std=(0.25,) * 3, feature_dim=32,
                           metrics={"knn_accuracy": 0.5}, objective=ObjectiveConfig().model_dump(mode="json"))
    package = parse(json.dumps(raw).encode(), "runs/j/model/model.json")
    assert (package.kind, package.algorithm, package.classes) == ("backbone", "simclr", ("a", "b"))
    assert package.embedding_dim == raw["feature_dim"] == 32
