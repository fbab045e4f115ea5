"""Every image of a snapshot as one uint8 tensor, whatever its split, with the labels kept aside for the probe.

`harvest.training.data.prepare` refuses a snapshot without labeled images (SSL cannot start without them),
but pretraining is exactly what a project with no labels yet can run. So this module decodes the snapshot
itself, with the same building blocks (`NodeCache` for the verified node-local copies, `decode` for the
resize) and the same scheme: each node's leader decodes once into a file that every local rank
memory-maps, and a restart reuses it. The file holds each image once; the splits are index tensors.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch

from harvest.common.errors import InvalidArgument
from harvest.common.objectstore import ObjectStore
from harvest.common.snapshots import Manifest
from harvest.training.data import NodeCache, decode, decoded_once, on_device
from harvest.training.distributed import Comm

log = logging.getLogger(__name__)
DECODED_FORMAT = 1
_SPLIT_CODES = {"labeled": 0, "unlabeled": 1, "validation": 2}


@dataclass
class PretrainData:
    """`images` holds every image once; `train` indexes the pretraining set, `labeled`/`validation` the
    k-NN probe's bank and queries (labels are class indices; they never reach the objective)."""

    classes: tuple[str, ...]
    images: torch.Tensor
    labels: torch.Tensor
    train: torch.Tensor
    labeled: torch.Tensor
    validation: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to(self, device: torch.device) -> PretrainData:
        return on_device(self, device)


def _decoded_path(cache_root: Path, manifest: Manifest, resolution: int, channels: int) -> Path:
    tag = hashlib.sha256(json.dumps(["pretrain", DECODED_FORMAT, manifest.snapshot_id, resolution,
                                     channels]).encode()).hexdigest()[:16]
    return cache_root / "decoded" / f"{manifest.snapshot_id}-{resolution}px-{channels}c-all-{tag}.pt"


def _statistics(images: torch.Tensor, index: torch.Tensor, chunk: int = 4096) -> tuple[list[float], list[float]]:
    """Per-channel mean/std of `images[index]`, in float64 chunks (a float copy of a large set would not fit)."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for part in index.split(chunk):
        x = images[part].to(torch.float64).div_(255)
        total += x.sum(dim=(0, 2, 3))
        squares += x.square().sum(dim=(0, 2, 3))
    count = max(1, len(index) * images[0, 0].numel())
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(0).sqrt().clamp_min(1e-3)
    return mean.tolist(), std.tolist()


def _build(manifest: Manifest, cache: NodeCache, resolution: int, channels: int) -> dict[str, object]:
    entries = list(manifest.entries)
    paths = cache.fetch_all(entries)
    with ThreadPoolExecutor(cache.workers) as pool:
        images = list(pool.map(lambda pe: decode(pe[0], pe[1], resolution, channels),
                               zip(paths, entries, strict=True)))
    # Weak (noisy-flagged) labels never become the probe's ground truth.
    labels = [manifest.class_index(e.label) if e.label is not None and not e.noisy else -1 for e in entries]
    return {"format": DECODED_FORMAT, "classes": list(manifest.classes), "images": torch.stack(images),
            "labels": torch.tensor(labels, dtype=torch.int64),
            "splits": torch.tensor([_SPLIT_CODES[e.split] for e in entries], dtype=torch.int8)}


def load_images(manifest: Manifest, store: ObjectStore, cache_root: Path, comm: Comm, *, resolution: int,
                channels: int, include_validation: bool = True, workers: int = 16) -> PretrainData:
    """Download + decode on each node's leader (once; reused on restart), then load on every local rank."""
    if not manifest.entries:
        raise InvalidArgument(f"snapshot {manifest.snapshot_id} has no images to pretrain on")
    target = _decoded_path(cache_root, manifest, resolution, channels)

    raw = decoded_once(target, lambda: _build(manifest, NodeCache(cache_root, store, workers), resolution, channels),
                       comm)
    splits = raw["splits"]
    chosen = splits != _SPLIT_CODES["validation"] if not include_validation else torch.ones_like(splits, dtype=bool)
    train = chosen.nonzero().squeeze(1)
    if len(train) == 0:
        raise InvalidArgument(f"snapshot {manifest.snapshot_id} has only validation images; set "
                              "data.include_validation=true to pretrain on them")
    mean, std = _statistics(raw["images"], train)
    known = raw["labels"] >= 0
    return PretrainData(tuple(raw["classes"]), raw["images"], raw["labels"], train,
                        ((splits == _SPLIT_CODES["labeled"]) & known).nonzero().squeeze(1),
                        ((splits == _SPLIT_CODES["validation"]) & known).nonzero().squeeze(1), tuple(mean), tuple(std))
