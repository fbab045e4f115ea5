"""Training configuration: one validated pydantic model, built from a preset or a YAML file plus overrides.

Loss integrity starts here: `train.batch_size` is the *global* labeled batch and `train.steps` the number
of optimizer steps, whatever the number of processes; each rank takes `batch_size / world_size`. The
learning rate is given for `optim.reference_batch` and scaled linearly to the global batch, so it never
depends on the world size either.

Presets. Expected figures: `quick` measured on MNIST-5k by `bench/ssl_accuracy.py` (see its report);
`standard` and `hpc` are estimates from the FixMatch/FlexMatch papers for 32x32, 10/100-class data, not
measured here (no GPU was available when they were written):

- quick: CPU, small CNN (GroupNorm, exact across CPU processes), 2,000 steps, batch 32 labeled + 96
  unlabeled. Digits with 40 labels: ~85-95% in ~5-10 min on 2 shared cores; 250 labels: ~95-97%.
- standard: one GPU, WRN-28-2, 100k steps, 64 + 448. CIFAR-10-like with 40 labels: ~90-93%, ~8 h (A100).
- hpc: multi-node, WRN-28-8 + FlexMatch, LARS, 100k steps, 512 + 3,584, compiled. CIFAR-100-like with
  25 labels/class: ~70-75%, ~3 h on 16 A100.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AlgorithmName = Literal["supervised", "pseudo_label", "mean_teacher", "fixmatch", "flexmatch", "freematch",
                        "softmatch", "coteaching", "dividemix"]
Arch = Literal["small_cnn", "resnet18", "resnet50", "wrn28_2", "wrn28_8"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    resolution: int = Field(32, ge=8, description="Every image is resized to resolution x resolution.")
    channels: Literal[1, 3] = 3
    cache_dir: Path | None = Field(None, description="Node-local cache; default from TrainingSettings.")
    unlabeled_truth: str | None = Field(
        None, description="Object key of a JSON {image key: class} giving the truth of unlabeled images, so "
                          "metrics can report pseudo-label accuracy (benchmarks); never used for training.")
    unlabeled_includes_labeled: bool = Field(True, description="Labeled images also join the unlabeled pool.")
    on_device: bool = Field(True, description="Keep the decoded uint8 dataset in accelerator memory.")
    download_workers: int = Field(16, ge=1)


class ModelConfig(_Strict):
    arch: Arch = "small_cnn"
    small_stem: bool = Field(True, description="ResNet: 3x3 stride-1 stem, no max-pool (for <= 64 px images).")
    width: int = Field(32, ge=4, description="Small CNN base width.")
    norm: Literal["batch", "group"] = Field(
        "batch", description="Small CNN normalization. GroupNorm keeps multi-process CPU runs exact, where "
                             "SyncBatchNorm is unavailable.")
    pretrained: Path | None = Field(None, description="Local state-dict file; nothing is downloaded.")
    sync_bn: bool = Field(True, description="Convert BatchNorm to SyncBatchNorm on CUDA with > 1 process.")
    init_weights_key: str | None = Field(
        None, description="Object-store key of weights to start from (a registered backbone or classifier's "
                          "`models/<id>/weights.pt`); downloaded by the job, loaded like `pretrained`.")


class AugmentConfig(_Strict):
    flip: bool = True
    translate: float = Field(0.125, ge=0, le=0.5, description="Weak view: max shift as a fraction of the side.")
    randaugment_ops: int = Field(2, ge=0, le=4)
    cutout: float = Field(0.5, ge=0, le=1, description="Strong view: max Cutout side as a fraction of the side.")


class AlgorithmConfig(_Strict):
    name: AlgorithmName = "fixmatch"
    uratio: int = Field(7, ge=1, description="Unlabeled images per labeled image in a batch (mu).")
    threshold: float = Field(0.95, gt=0, le=1)
    temperature: float = Field(1.0, gt=0)
    lambda_u: float = Field(1.0, ge=0)
    unsup_warmup: float = Field(0.4, ge=0, le=1, description="Pseudo-Label/Mean Teacher ramp (fraction of steps).")
    flex_warmup: bool = Field(True, description="FlexMatch threshold warm-up (unused images count).")
    ema_p: float = Field(0.999, ge=0, lt=1, description="FreeMatch/SoftMatch statistics momentum.")
    lambda_ent: float = Field(0.01, ge=0, description="FreeMatch self-adaptive fairness weight.")
    n_sigma: float = Field(2.0, gt=0, description="SoftMatch Gaussian width.")
    dist_align: bool = Field(True, description="SoftMatch distribution alignment.")
    noise_rate: float | None = Field(
        None, ge=0, lt=1, description="Co-teaching: fraction of each batch to drop as likely mislabeled. None: "
                                      "estimated from the two-component loss mixture after the warm-up.")
    noisy_warmup: float = Field(0.1, ge=0, lt=1, description="Noisy-label algorithms: fraction of the steps "
                                "trained with plain cross-entropy (before networks memorize wrong labels) "
                                "before samples are split into clean and noisy.")
    refresh_every: int = Field(0, ge=0, description="Noisy-label algorithms: steps between per-sample loss "
                               "passes over the labeled set (mixture refit); 0: once per pass over that set.")
    clean_threshold: float = Field(0.5, gt=0, lt=1, description="DivideMix: clean probability above which a "
                                   "labeled image keeps its (refined) label.")
    sharpen_temperature: float = Field(0.5, gt=0, le=1, description="DivideMix: label-refinement sharpening.")


class OptimConfig(_Strict):
    name: Literal["sgd", "lars", "lamb"] = "sgd"
    lr: float = Field(0.03, gt=0, description="Learning rate at `reference_batch` (linearly scaled).")
    reference_batch: int = Field(64, ge=1)
    scale_lr: bool = True
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    warmup_steps: int = Field(0, ge=0)
    cosine_fraction: float = Field(7 / 16, gt=0, le=0.5, description="FixMatch cosine: lr*cos(pi*f*t/T).")
    trust_coefficient: float = Field(0.001, gt=0, description="LARS eta.")


class TrainConfig(_Strict):
    steps: int = Field(2000, ge=1)
    batch_size: int = Field(32, ge=1, description="Global labeled batch (all ranks together).")
    seed: int = 0
    deterministic: bool = False
    amp: bool = Field(True, description="bf16 autocast on CUDA (ignored on CPU).")
    compile: bool = False
    channels_last: bool | None = Field(None, description="Channels-last tensors: faster convolutions with cuDNN "
                                       "and oneDNN. None: on CUDA only. On CPU, measured: ~18% per FixMatch step "
                                       "of the BatchNorm small CNN, ~4% with GroupNorm.")
    ema_decay: float = Field(0.999, ge=0, lt=1)
    eval_every: int = Field(500, ge=1)
    eval_batch: int = Field(512, ge=1)
    log_every: int = Field(50, ge=1)
    checkpoint_every: int = Field(500, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    signal_poll_every: int = Field(5, ge=1, description="Steps between agreeing on a pending SIGTERM/SIGUSR2.")
    flush_seconds: float = Field(10.0, ge=0)


class DistConfig(_Strict):
    backend: Literal["auto", "nccl", "gloo"] = "auto"
    timeout_s: int = Field(600, ge=5, description="Collective timeout: a dead rank fails the job after this.")
    cpu_threads: int = Field(0, ge=0, description="Intra-op threads per process; 0: cores / local ranks.")


class GlobalBatch:
    """Loss integrity, shared by every job config with `train.batch_size` (global) and an `optim` section."""

    train: TrainConfig
    optim: OptimConfig

    def per_rank_batch(self, world_size: int) -> int:
        """One rank's share of the global batch; refuses a global batch the world size does not divide."""
        if self.train.batch_size % world_size:
            raise ValueError(f"train.batch_size={self.train.batch_size} is not divisible by the world size "
                             f"{world_size}; choose a multiple so every process takes an equal share")
        return self.train.batch_size // world_size

    def learning_rate(self) -> float:
        """`optim.lr` is given for `optim.reference_batch`; scaled linearly to the global batch."""
        scale = self.train.batch_size / self.optim.reference_batch if self.optim.scale_lr else 1.0
        return self.optim.lr * scale


class TrainingConfig(GlobalBatch, _Strict):
    preset: str = "custom"
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    augment: AugmentConfig = AugmentConfig()
    algorithm: AlgorithmConfig = AlgorithmConfig()
    optim: OptimConfig = OptimConfig()
    train: TrainConfig = TrainConfig()
    dist: DistConfig = DistConfig()

    @model_validator(mode="after")
    def _lr_is_positive(self) -> TrainingConfig:
        if self.optim.warmup_steps >= self.train.steps:
            raise ValueError("optim.warmup_steps must be smaller than train.steps")
        return self



class TrainingSettings(BaseSettings):
    """Process-level settings of the training job (read once in `__main__`)."""

    model_config = SettingsConfigDict(env_prefix="HARVEST_TRAINING_", extra="ignore")

    cache_dir: Path = Field(Path("/tmp/harvest-training-cache"), description="Node-local image cache.")
    work_dir: Path = Field(Path("/tmp/harvest-training-work"), description="Local scratch (metrics, checkpoints).")


PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "model": {"arch": "small_cnn", "width": 32, "norm": "group"},
        "algorithm": {"name": "fixmatch", "uratio": 3},
        "optim": {"lr": 0.03},
        "train": {"steps": 2000, "batch_size": 32, "ema_decay": 0.99, "eval_every": 250, "checkpoint_every": 250},
    },
    "standard": {
        "model": {"arch": "wrn28_2"},
        "algorithm": {"name": "fixmatch", "uratio": 7},
        "train": {"steps": 100_000, "batch_size": 64, "eval_every": 2000, "checkpoint_every": 2000},
    },
    "hpc": {
        "model": {"arch": "wrn28_8"},
        "algorithm": {"name": "flexmatch", "uratio": 7},
        "optim": {"name": "lars", "lr": 0.03, "warmup_steps": 2000, "weight_decay": 1e-3},
        "train": {"steps": 100_000, "batch_size": 512, "eval_every": 2000, "checkpoint_every": 1000,
                  "compile": True},
    },
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_override(text: str) -> dict[str, Any]:
    """`train.steps=100` -> {"train": {"steps": 100}}; the value is parsed as YAML (numbers, booleans, null)."""
    path, sep, raw = text.partition("=")
    if not sep or not path:
        raise ValueError(f"override {text!r} must look like section.field=value")
    value: Any = yaml.safe_load(raw) if raw else ""
    for part in reversed(path.split(".")):
        value = {part: value}
    return value  # type: ignore[no-any-return]


def merge_config(source: str | dict[str, Any], overrides: list[str] | tuple[str, ...], presets: dict[str, Any], *,
                 what: str = "preset") -> dict[str, Any]:
    """The raw config of a preset name, a YAML file (which may name a `preset` to start from) or a dict, with
    `a.b=v` overrides applied; the caller validates it against its own schema."""
    if isinstance(source, dict):
        raw = source
    elif source in presets:
        raw = {"preset": source}
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"--config {source!r} is neither a {what} ({', '.join(presets)}) nor a YAML file")
        raw = yaml.safe_load(path.read_text()) or {}
    preset = raw.get("preset")
    if preset is not None and preset not in presets and preset != "custom":
        raise ValueError(f"unknown {what} {preset!r}; choose one of {', '.join(presets)}")
    data = _merge(presets.get(preset or "", {}), raw)
    for text in overrides:
        data = _merge(data, parse_override(text))
    return data


def load_config(source: str | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> TrainingConfig:
    """A preset name, a YAML file (which may name a `preset` to start from) or a dict, then `a.b=v` overrides."""
    return TrainingConfig.model_validate(merge_config(source, overrides, PRESETS))
