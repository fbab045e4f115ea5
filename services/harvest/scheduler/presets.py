"""Presets and request resolution: what a SubmitJob turns into (training `--set` overrides, resources).

The training program's own config schema (`harvest.training.config`, no torch import) validates every
override, so a bad key or value is refused at submission with the schema's message instead of failing on
a cluster an hour later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from harvest.common.errors import InvalidArgument
from harvest.scheduler.spec import ResourceSpec
from harvest.training.config import PRESETS, AlgorithmName, Arch, load_config
from harvest.training.pretraining.config import PRESETS as PRETRAIN_PRESETS
from harvest.training.pretraining.config import ObjectiveName, load_pretrain_config

ALGORITHMS: tuple[str, ...] = get_args(AlgorithmName)
OBJECTIVES: tuple[str, ...] = get_args(ObjectiveName)
BACKBONES: tuple[str, ...] = get_args(Arch)
TRAIN, PRETRAIN = "train", "pretrain"

INIT_WEIGHTS_FIELD = "model.init_weights_key"

DESCRIPTIONS = {
    "quick": "CPU, small CNN, FixMatch; minutes on a laptop. Digits with 40 labels: ~85-95% accuracy.",
    "standard": "One GPU, WRN-28-2, FixMatch, 100k steps; CIFAR-10-like with 40 labels ~90-93% in ~8 h.",
    "hpc": "Multi-node GPUs, WRN-28-8, FlexMatch, LARS; CIFAR-100-like ~70-75% in ~3 h on 16 A100.",
}
PRETRAIN_DESCRIPTIONS = {
    "quick": "CPU, small CNN, SimCLR, 1,000 steps: a backbone for the quick preset in minutes.",
    "quick_dino": "CPU, small CNN, DINO with 2 global + 4 local crops.",
    "standard": "One GPU, ResNet-18, SimCLR, batch 512, LARS, 20k steps.",
    "hpc": "Multi-node GPUs, ResNet-50, SimCLR, global batch 4,096, LARS with warm-up.",
    "hpc_dino": "Multi-node GPUs, ResNet-50, DINO with multi-crop, global batch 1,024, LARS.",
}
#: Which SSL preset's default resources a pretraining preset takes.
PRETRAIN_RESOURCES = {"quick": "quick", "quick_dino": "quick", "standard": "standard", "hpc": "hpc",
                      "hpc_dino": "hpc"}

#: Resources each preset asks for by default.
DEFAULT_RESOURCES: dict[str, ResourceSpec] = {
    "quick": ResourceSpec(nodes=1, gpus_per_node=0, processes_per_node=1, cpus_per_node=2, time_limit_s=3600),
    "standard": ResourceSpec(nodes=1, gpus_per_node=1, processes_per_node=1, cpus_per_node=8,
                             memory_mib=32_768, time_limit_s=24 * 3600),
    "hpc": ResourceSpec(nodes=4, gpus_per_node=4, processes_per_node=4, cpus_per_node=32, memory_mib=256_000,
                        time_limit_s=48 * 3600),
}


@dataclass(frozen=True, slots=True)
class Resolved:
    preset: str
    algorithm: str
    backbone: str
    training_args: tuple[str, ...]
    resources: ResourceSpec
    config_yaml: str
    total_steps: int


def resolve(preset: str, *, algorithm: str = "", backbone: str = "", steps: int | None = None,
            global_batch_size: int | None = None, overrides: dict[str, str] | None = None,
            resources: dict[str, Any] | None = None, max_nodes: int = 64, max_gpus: int = 16,
            init_weights_key: str = "", task: str = TRAIN) -> Resolved:
    """Validate a request's training choices and fill the preset's defaults; InvalidArgument says what to fix.

    `task` "pretrain" resolves a self-supervised pretraining job: its presets, and `algorithm` names the
    objective (simclr, dino)."""
    pretrain = task == PRETRAIN
    known, choices, field = ((PRETRAIN_PRESETS, OBJECTIVES, "objective.name") if pretrain
                             else (PRESETS, ALGORITHMS, "algorithm.name"))
    preset = preset or "quick"
    if preset not in known:
        what = "pretraining preset" if pretrain else "preset"
        raise InvalidArgument(f"unknown {what} {preset!r}; choose one of {', '.join(known)} (ListPresets)")
    args: list[str] = []
    if algorithm:
        if algorithm not in choices:
            raise InvalidArgument(f"unknown or unsupported algorithm {algorithm!r}; this deployment "
                                  f"{'pretrains with' if pretrain else 'trains'} {', '.join(choices)}")
        args.append(f"{field}={algorithm}")
    if backbone:
        if backbone not in BACKBONES:
            raise InvalidArgument(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
        args.append(f"model.arch={backbone}")
    if steps is not None:
        if steps < 1:
            raise InvalidArgument(f"steps must be at least 1, not {steps}")
        args.append(f"train.steps={steps}")
    if global_batch_size is not None:
        if global_batch_size < 1:
            raise InvalidArgument(f"global_batch_size must be at least 1, not {global_batch_size}")
        args.append(f"train.batch_size={global_batch_size}")
    for key, value in sorted((overrides or {}).items()):
        if not key or "=" in key or key.startswith(".") or key.endswith("."):
            raise InvalidArgument(f"override key {key!r} must be a dotted config field such as 'optim.lr'")
        if key == INIT_WEIGHTS_FIELD:
            raise InvalidArgument(f"{INIT_WEIGHTS_FIELD} is set by the scheduler: give init_model_id instead")
        args.append(f"{key}={value}")
    if init_weights_key:
        args.append(f"{INIT_WEIGHTS_FIELD}={init_weights_key}")
    try:
        config = (load_pretrain_config if pretrain else load_config)(preset, args)
    except (ValueError, ValidationError) as exc:
        raise InvalidArgument(f"invalid {'pretraining' if pretrain else 'training'} config: "
                              f"{_first_error(exc)}") from None
    # Whatever form an override took (`model.x=…` or a whole `model={…}` mapping), a job reads only the weights
    # the scheduler chose: a registered model of the project, never an arbitrary key or a file on the cluster.
    if config.model.init_weights_key != (init_weights_key or None):
        raise InvalidArgument(f"{INIT_WEIGHTS_FIELD} is set by the scheduler: give init_model_id instead")
    if config.model.pretrained is not None:
        raise InvalidArgument("model.pretrained reads a file on the cluster and cannot be set by a job request: "
                              "register the model and give init_model_id")
    spec = _resources(PRETRAIN_RESOURCES.get(preset, "quick") if pretrain else preset, resources or {}, max_nodes,
                      max_gpus)
    try:
        config.per_rank_batch(spec.world_size)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    chosen = config.objective.name if pretrain else config.algorithm.name  # type: ignore[union-attr]
    return Resolved(preset, chosen, config.model.arch, tuple(args), spec,
                    yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), config.train.steps)


def _resources(preset: str, given: dict[str, Any], max_nodes: int, max_gpus: int) -> ResourceSpec:
    base = DEFAULT_RESOURCES.get(preset, DEFAULT_RESOURCES["quick"])
    changes = {k: v for k, v in given.items() if v}
    for key in ("nodes", "gpus_per_node", "processes_per_node", "cpus_per_node", "memory_mib", "time_limit_s"):
        if int(given.get(key) or 0) < 0:
            raise InvalidArgument(f"resources.{key} must not be negative")
    spec = replace(base, **changes)
    if "processes_per_node" not in changes and "gpus_per_node" in changes:
        spec = replace(spec, processes_per_node=max(1, spec.gpus_per_node))
    if spec.nodes > max_nodes:
        raise InvalidArgument(f"resources.nodes={spec.nodes} exceeds this deployment's limit of {max_nodes}")
    if spec.gpus_per_node > max_gpus:
        raise InvalidArgument(f"resources.gpus_per_node={spec.gpus_per_node} exceeds the limit of {max_gpus}")
    if spec.gpus_per_node and spec.processes_per_node > spec.gpus_per_node:
        raise InvalidArgument(f"resources.processes_per_node={spec.processes_per_node} is more than the "
                              f"{spec.gpus_per_node} GPUs per node: use one process per GPU")
    if spec.time_limit_s < 60:
        raise InvalidArgument("resources.time_limit_s must be at least 60 seconds")
    return spec


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))
    return str(exc)
