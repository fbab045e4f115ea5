"""How a training program runs its network on this process's device, shared by every engine (SSL training,
self-supervised pretraining): seeding and determinism, BatchNorm across ranks, DDP/compile wrapping, AMP.

Kept out of the engines so that a second engine does not copy the first one's setup: one place decides
what `train.deterministic`, `model.sync_bn`, `train.compile` and `train.amp` mean.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from harvest.common.objectstore import ObjectStore
from harvest.training.distributed import Comm

log = logging.getLogger(__name__)


def setup_determinism(seed: int, deterministic: bool, cuda: bool) -> None:
    """Seed the global generator; deterministic kernels when asked, else the fastest cuDNN/TF32 paths."""
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    elif cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def place(model: nn.Module, comm: Comm, device: torch.device, *, sync_bn: bool, channels_last: bool,
          hint: str = "use model.norm=group on CPU for exact loss integrity") -> nn.Module:
    """SyncBatchNorm over the global batch when several CUDA processes train, then device + memory format."""
    if comm.world_size > 1 and has_batchnorm(model):
        if device.type == "cuda" and sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            log.info("BatchNorm converted to SyncBatchNorm (statistics over the global batch)")
        else:
            log.warning("keeping per-rank BatchNorm: SyncBatchNorm needs CUDA (or is disabled); batch statistics "
                        "now depend on the per-rank batch; %s", hint)
    memory_format = torch.channels_last if channels_last else torch.preserve_format
    return model.to(device, memory_format=memory_format)


def wrap(model: nn.Module, comm: Comm, device: torch.device, *, compile: bool) -> Any:
    """DDP (one gradient all-reduce per step) when several processes train, then `torch.compile` if asked."""
    net: Any = model
    if comm.active:
        net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None,
                                      gradient_as_bucket_view=True)
    if compile:
        net = torch.compile(net)
    return net


def autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on CUDA when `amp`; nothing on CPU."""
    if device.type == "cuda" and amp:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def fetch_weights(store: ObjectStore, key: str, directory: Path) -> Path:
    """A registered model's weights (`model.init_weights_key`) in this rank's scratch directory."""
    target = directory / "weights.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    store.download(key, target)  # atomic rename: a half-written file is never loaded
    return target
