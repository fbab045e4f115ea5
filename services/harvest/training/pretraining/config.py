"""Pretraining configuration: one strict pydantic model, from a preset, a YAML file or a dict, plus overrides.

It reuses the SSL config's sections where they mean the same thing (`model`, `optim`, `dist`, and `data`
and `train` extended), so a backbone pretrained here has exactly the `model` section an SSL job uses to
load it. Loss integrity as in SSL training: `train.batch_size` is the *global* image batch and
`train.steps` the number of optimizer steps whatever the world size; each rank takes an equal share and a
world size that does not divide the batch is refused. The learning rate is given for
`optim.reference_batch` and scaled linearly to the global batch.

Presets (expected figures are estimates unless stated):
- quick: CPU, small CNN (GroupNorm: exact across CPU processes), SimCLR, 128 images x 2 views, SGD,
  1,000 steps. On MNIST-5k `bench/pretraining.py` measures what it buys FixMatch at 4 labels/class
  (measured while tuning, 500 steps, BatchNorm width-16 CNN: k-NN with 50 labels/class 83-85%, random init
  ~72%).
- quick_dino: the same network with DINO, 2 global + 4 local crops, BatchNorm in the head (so per-rank
  statistics on CPU with several processes). Measured as above: k-NN ~79% after 500 steps.
- standard: one GPU, ResNet-18 (small stem), SimCLR, batch 512, LARS, 20k steps.
- hpc: multi-node, ResNet-50 (small stem), SimCLR, global batch 4,096, LARS (lr 0.3 x B/256) with a
  1,000-step linear warm-up then cosine to 0, compiled, 20k steps (SimCLR's CIFAR recipe, ~800 epochs of
  100k images).
- hpc_dino: multi-node, ResNet-50, DINO with 2 global + 6 local crops, global batch 1,024, LARS with
  warm-up, teacher temperature warm-up.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harvest.training.config import (
    DataConfig,
    DistConfig,
    GlobalBatch,
    ModelConfig,
    OptimConfig,
    TrainConfig,
    merge_config,
)

ObjectiveName = Literal["simclr", "dino"]
#: Both objectives use two full-resolution views ("global crops"); DINO adds `augment.local_crops`.
GLOBAL_CROPS = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _refuse_set(section: BaseModel, fields: tuple[str, ...], name: str) -> None:
    """Inherited SSL fields that mean nothing here: refuse them rather than silently ignore them."""
    given = sorted(section.model_fields_set & set(fields))
    if given:
        raise ValueError(f"{', '.join(f'{name}.{f}' for f in given)} does not apply to pretraining")


class PretrainDataConfig(DataConfig):
    include_validation: bool = Field(
        True, description="Validation images join the (unlabeled) pretraining set. False keeps a held-out test "
                          "set unseen, as benchmarks need; the k-NN probe always queries the validation split.")

    @model_validator(mode="after")
    def _no_ssl_fields(self) -> PretrainDataConfig:
        _refuse_set(self, ("unlabeled_truth", "unlabeled_includes_labeled"), "data")
        return self


class CropsConfig(_Strict):
    """The `augment` section: SimCLR's two views, DINO's 2 global + N local crops (on uint8 batches)."""

    global_scale: tuple[float, float] = Field((0.25, 1.0), description="Area fraction range of a global crop.")
    local_crops: int = Field(0, ge=0, description="DINO: small crops seen by the student only.")
    local_scale: tuple[float, float] = Field((0.05, 0.25), description="Area fraction range of a local crop.")
    local_resolution: int | None = Field(None, ge=4, description="Side of a local crop; None: 3/7 of "
                                         "data.resolution (DINO's 96 for 224), at least 8.")
    flip: bool = Field(True, description="Horizontal flips (off for digits and text).")
    jitter: float = Field(0.8, ge=0, le=1, description="Probability of colour jitter per view.")
    brightness: float = Field(0.4, ge=0, lt=1)
    contrast: float = Field(0.4, ge=0, lt=1)
    saturation: float = Field(0.2, ge=0, lt=1)
    grayscale: float = Field(0.2, ge=0, le=1, description="Probability of grayscale (3-channel images).")
    blur: float = Field(0.0, ge=0, le=1, description="Probability of Gaussian blur (off for small images).")
    blur_sigma: tuple[float, float] = Field((0.1, 2.0), description="Blur sigma range, in pixels of the view.")
    solarize: float = Field(0.0, ge=0, le=1, description="Probability of solarization of the second global view "
                            "(BYOL/DINO's asymmetric views).")

    @field_validator("global_scale", "local_scale", "blur_sigma")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low <= high:
            raise ValueError(f"range {value} must satisfy 0 < low <= high")
        return value

    @field_validator("global_scale", "local_scale")
    @classmethod
    def _fraction(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[1] > 1:
            raise ValueError(f"crop area fraction {value} must not exceed 1")
        return value

    def local_side(self, resolution: int) -> int:
        return self.local_resolution or max(8, round(resolution * 3 / 7))


class ObjectiveConfig(_Strict):
    name: ObjectiveName = "simclr"
    hidden_dim: int = Field(512, ge=1, description="Projection head hidden width.")
    projection_dim: int = Field(128, ge=1, description="SimCLR: embedding compared by NT-Xent. DINO: "
                                "bottleneck before the prototypes.")
    head_norm: Literal["batch", "none"] = Field(
        "batch", description="BatchNorm in the projection head. 'none' keeps CPU multi-process runs exact "
                             "(BatchNorm statistics are per rank without CUDA's SyncBatchNorm).")
    temperature: float = Field(0.2, gt=0, description="SimCLR NT-Xent temperature.")
    out_dim: int = Field(4096, ge=2, description="DINO: number of prototypes (output dimension).")
    student_temp: float = Field(0.1, gt=0)
    teacher_temp: float = Field(0.04, gt=0, description="DINO teacher temperature after the warm-up.")
    warmup_teacher_temp: float = Field(0.04, gt=0, description="DINO teacher temperature at step 0.")
    teacher_temp_warmup_steps: int = Field(0, ge=0)
    center_momentum: float = Field(0.9, ge=0, lt=1)
    teacher_momentum: float = Field(0.996, ge=0, le=1, description="DINO EMA at step 0, cosine to 1 at the end.")
    freeze_last_layer_steps: int = Field(0, ge=0, description="DINO: prototypes frozen this long (stability).")


class PretrainTrainConfig(TrainConfig):
    batch_size: int = Field(128, ge=1, description="Global image batch (all ranks together); each image "
                            "yields 2 global views (+ local crops).")
    clip_grad: float | None = Field(None, gt=0, description="Clip the gradient norm (DINO: 3.0).")
    knn_k: int = Field(20, ge=1, description="Neighbours of the k-NN probe (labeled -> validation split).")

    @model_validator(mode="after")
    def _no_ssl_fields(self) -> PretrainTrainConfig:
        _refuse_set(self, ("ema_decay",), "train")
        return self


class PretrainConfig(GlobalBatch, _Strict):
    preset: str = "custom"
    data: PretrainDataConfig = PretrainDataConfig()
    model: ModelConfig = ModelConfig()
    augment: CropsConfig = CropsConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    optim: OptimConfig = OptimConfig()
    train: PretrainTrainConfig = PretrainTrainConfig()
    dist: DistConfig = DistConfig()

    @model_validator(mode="after")
    def _consistent(self) -> PretrainConfig:
        if self.optim.warmup_steps >= self.train.steps:
            raise ValueError("optim.warmup_steps must be smaller than train.steps")
        if self.objective.name == "simclr" and self.augment.local_crops:
            raise ValueError("augment.local_crops applies to objective.name=dino only; SimCLR compares two views")
        if self.objective.teacher_temp_warmup_steps > self.train.steps:
            raise ValueError("objective.teacher_temp_warmup_steps must not exceed train.steps")
        return self

    def crops_per_image(self) -> int:
        return GLOBAL_CROPS + (self.augment.local_crops if self.objective.name == "dino" else 0)


_CPU_MODEL = {"arch": "small_cnn", "width": 32, "norm": "group"}
_CPU_TRAIN = {"steps": 1000, "batch_size": 128, "eval_every": 250, "checkpoint_every": 250, "log_every": 25}
_HPC_TRAIN = {"eval_every": 2000, "checkpoint_every": 1000, "log_every": 50, "compile": True, "eval_batch": 1024}

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "model": _CPU_MODEL,
        "objective": {"name": "simclr", "hidden_dim": 256, "projection_dim": 64, "head_norm": "none",
                      "temperature": 0.1},
        "optim": {"name": "sgd", "lr": 0.3, "reference_batch": 64, "weight_decay": 5e-4, "warmup_steps": 50,
                  "cosine_fraction": 0.5},
        "train": _CPU_TRAIN,
    },
    "quick_dino": {
        "model": _CPU_MODEL,
        "augment": {"local_crops": 4},
        # BatchNorm in the head: without it the small CNN's nearly identical initial features give the teacher
        # the same output for every image, and centering turns that into the uniform collapse (measured).
        "objective": {"name": "dino", "hidden_dim": 256, "projection_dim": 64, "head_norm": "batch",
                      "out_dim": 1024, "teacher_temp": 0.04, "teacher_momentum": 0.99},
        "optim": {"name": "sgd", "lr": 0.03, "reference_batch": 64, "weight_decay": 5e-4, "warmup_steps": 50,
                  "cosine_fraction": 0.5},
        "train": {**_CPU_TRAIN, "clip_grad": 3.0},
    },
    "standard": {
        "model": {"arch": "resnet18", "small_stem": True},
        "objective": {"name": "simclr", "hidden_dim": 2048, "projection_dim": 128, "temperature": 0.2},
        "optim": {"name": "lars", "lr": 0.3, "reference_batch": 256, "weight_decay": 1e-6, "nesterov": False,
                  "warmup_steps": 500, "cosine_fraction": 0.5},
        "train": {"steps": 20_000, "batch_size": 512, "eval_every": 2000, "checkpoint_every": 1000},
    },
    "hpc": {
        "model": {"arch": "resnet50", "small_stem": True},
        "objective": {"name": "simclr", "hidden_dim": 2048, "projection_dim": 128, "temperature": 0.2},
        "optim": {"name": "lars", "lr": 0.3, "reference_batch": 256, "weight_decay": 1e-6, "nesterov": False,
                  "warmup_steps": 1000, "cosine_fraction": 0.5},
        "train": {"steps": 20_000, "batch_size": 4096, **_HPC_TRAIN},
    },
    "hpc_dino": {
        "model": {"arch": "resnet50", "small_stem": True},
        "augment": {"local_crops": 6, "global_scale": (0.4, 1.0), "blur": 0.5, "solarize": 0.2},
        "objective": {"name": "dino", "hidden_dim": 2048, "projection_dim": 256, "out_dim": 65536,
                      "head_norm": "none", "warmup_teacher_temp": 0.04, "teacher_temp": 0.07,
                      "teacher_temp_warmup_steps": 5000, "freeze_last_layer_steps": 1000},
        "optim": {"name": "lars", "lr": 0.3, "reference_batch": 256, "weight_decay": 1e-6, "nesterov": False,
                  "warmup_steps": 1000, "cosine_fraction": 0.5},
        "train": {"steps": 50_000, "batch_size": 1024, "clip_grad": 3.0, **_HPC_TRAIN},
    },
}


def load_pretrain_config(source: str | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> PretrainConfig:
    """A preset name, a YAML file (which may name a `preset` to start from) or a dict, then `a.b=v` overrides."""
    return PretrainConfig.model_validate(merge_config(source, overrides, PRESETS, what="pretraining preset"))
