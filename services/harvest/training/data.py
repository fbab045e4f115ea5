"""From a snapshot manifest to uint8 tensors in memory, and the infinite samplers that feed the loop.

1. Each node's local rank 0 downloads the snapshot's images into a node-local cache addressed by SHA-256
   (`<cache>/objects/ab/abcdef…`), verifying each hash; files already there are reused across restarts
   and snapshots.
2. It decodes every image once (torchvision.io), resizes it to the preset resolution and saves the
   stacked uint8 tensors as one file per snapshot and resolution; every local rank memory-maps that file,
   so the ranks of a node share one copy in the page cache.
3. Samplers draw the *global* batch from a permutation seeded by (seed, epoch), and each rank takes its
   slice; so the images one step sees do not depend on the number of processes.

Weak labels (entries flagged `noisy`, e.g. a web-scraped import) are training labels only for the
noisy-label algorithms (`weak_labels=True`); every other algorithm treats those images as unlabeled, so
a wrong label never becomes ground truth.

A missing, corrupt or undecodable image stops the job with a message that names it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import torch
import torchvision.transforms.v2.functional as TF
from torchvision.io import ImageReadMode, decode_image

from harvest.common import snapshots
from harvest.common.errors import InvalidArgument, NotFound
from harvest.common.objectstore import ObjectStore
from harvest.common.snapshots import Manifest, ManifestEntry
from harvest.training.distributed import Comm

log = logging.getLogger(__name__)
D = TypeVar("D")
DECODED_FORMAT = 2
# torchvision 0.29 deprecates torchvision.io in favour of TorchCodec, which this image does not ship.
warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision")


class ImageDataError(InvalidArgument):
    """An image of the snapshot is missing, corrupt or undecodable; the message names it."""


def _describe(entry: ManifestEntry) -> str:
    item = f", item {entry.item_id}" if entry.item_id else ""
    return f"image {entry.key!r} ({entry.split}{item}, sha256 {entry.sha256[:12]}…)"


def load_manifest(store: ObjectStore, snapshot: str) -> Manifest:
    """A snapshot given as a local manifest file or as an id stored at `snapshots/<id>.json`."""
    path = Path(snapshot)
    if path.suffix == ".json" and path.is_file():
        return snapshots.loads(path.read_bytes())
    try:
        return snapshots.loads(store.get(snapshots.manifest_key(snapshot)))
    except NotFound:
        raise InvalidArgument(f"snapshot {snapshot!r} not found (no file, no object "
                              f"{snapshots.manifest_key(snapshot)!r})") from None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class NodeCache:
    """Content-addressed node-local copies of objects (written atomically, verified before use)."""

    def __init__(self, root: Path, store: ObjectStore, workers: int = 16) -> None:
        self.root = root
        self.store = store
        self.workers = workers

    def path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    def fetch(self, entry: ManifestEntry) -> Path:
        target = self.path(entry.sha256)
        if target.is_file():  # only verified files are ever renamed into place
            return target
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        try:
            self.store.download(entry.key, tmp)
        except NotFound:
            raise ImageDataError(f"{_describe(entry)} is missing from the object store") from None
        actual = _sha256_file(tmp)
        if actual != entry.sha256:
            tmp.unlink(missing_ok=True)
            raise ImageDataError(f"{_describe(entry)} is corrupt: its SHA-256 is {actual}, the manifest says "
                                 f"{entry.sha256}")
        os.replace(tmp, target)
        return target

    def fetch_all(self, entries: Sequence[ManifestEntry]) -> list[Path]:
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self.fetch, entries))


def decode(path: Path, entry: ManifestEntry, resolution: int, channels: int) -> torch.Tensor:
    """One image file -> (channels, resolution, resolution) uint8, whatever its size and format."""
    mode = ImageReadMode.GRAY if channels == 1 else ImageReadMode.RGB
    try:
        image = decode_image(torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8), mode=mode)
    except RuntimeError as exc:
        raise ImageDataError(f"{_describe(entry)} could not be decoded: {exc}") from None
    if image.shape[-2:] != (resolution, resolution):
        image = TF.resize(image, [resolution, resolution], antialias=True)
    return image


@dataclass
class TrainingData:
    """Everything the loop reads, as tensors (uint8 images, int64 labels; -1 = unknown)."""

    classes: tuple[str, ...]
    labeled: torch.Tensor
    labels: torch.Tensor
    pool: torch.Tensor
    pool_truth: torch.Tensor
    validation: torch.Tensor
    validation_labels: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    labeled_items: tuple[str, ...] = ()  # labels-service item id of each labeled image (for per-item results)

    def to(self, device: torch.device) -> TrainingData:
        return on_device(self, device)


def on_device(data: D, device: torch.device) -> D:
    """A copy of a dataclass of tensors with every tensor on `device` (other fields as they are)."""
    return type(data)(**{k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in vars(data).items()})


def _decoded_path(cache_root: Path, manifest: Manifest, resolution: int, channels: int, truth_key: str | None,
                  with_labeled: bool, weak_labels: bool) -> Path:
    tag = hashlib.sha256(json.dumps([DECODED_FORMAT, manifest.snapshot_id, resolution, channels, truth_key,
                                     with_labeled, weak_labels]).encode()).hexdigest()[:16]
    return cache_root / "decoded" / f"{manifest.snapshot_id}-{resolution}px-{channels}c-{tag}.pt"


def training_entries(manifest: Manifest, weak_labels: bool) -> list[ManifestEntry]:
    """The manifest's entries as this job uses them: weak labels move to the unlabeled split unless used."""
    if weak_labels:
        return list(manifest.entries)
    return [replace(e, split="unlabeled", label=None) if e.noisy and e.split == "labeled" else e
            for e in manifest.entries]


def _build(entries: list[ManifestEntry], manifest: Manifest, cache: NodeCache, resolution: int, channels: int,
           truth: dict[str, str], with_labeled: bool) -> dict[str, object]:
    paths = cache.fetch_all(entries)
    with ThreadPoolExecutor(cache.workers) as pool:
        images = list(pool.map(lambda pe: decode(pe[0], pe[1], resolution, channels), zip(paths, entries,
                                                                                           strict=True)))

    def stack(split: str) -> torch.Tensor:
        chosen = [img for img, e in zip(images, entries, strict=True) if e.split == split]
        return torch.stack(chosen) if chosen else torch.zeros((0, channels, resolution, resolution), dtype=torch.uint8)

    def labels(split: str, known: dict[str, str] | None = None) -> torch.Tensor:
        out = []
        for e in entries:
            if e.split == split:
                name = e.label if known is None else known.get(e.key)
                out.append(manifest.class_index(name) if name is not None else -1)
        return torch.tensor(out, dtype=torch.int64)

    labeled, lb_labels = stack("labeled"), labels("labeled")
    pool, pool_truth = stack("unlabeled"), labels("unlabeled", truth)
    train = torch.cat([labeled, pool]).float().div_(255)
    if with_labeled:
        pool, pool_truth = torch.cat([labeled, pool]), torch.cat([lb_labels, pool_truth])
    return {"format": DECODED_FORMAT, "classes": list(manifest.classes), "labeled": labeled, "labels": lb_labels,
            "pool": pool, "pool_truth": pool_truth, "validation": stack("validation"),
            "validation_labels": labels("validation"),
            "labeled_items": [e.item_id for e in entries if e.split == "labeled"],
            "mean": train.mean(dim=(0, 2, 3)).tolist(), "std": train.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()}


def decoded_once(target: Path, build: Callable[[], dict[str, object]], comm: Comm) -> dict[str, Any]:
    """The decoded tensors at `target`: built by each node's leader unless a restart finds them there
    (written atomically, so a crash never leaves half a file), then memory-mapped by every local rank."""

    def build_once() -> None:
        if target.is_file():
            log.info("reusing decoded snapshot", extra={"path": str(target)})
            return
        tensors = build()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        torch.save(tensors, tmp)
        os.replace(tmp, target)
        log.info("decoded snapshot", extra={"path": str(target)})

    comm.on_node_leader(build_once)
    return torch.load(target, mmap=True, weights_only=True)  # type: ignore[no-any-return]


def prepare(manifest: Manifest, store: ObjectStore, cache_root: Path, comm: Comm, *, resolution: int, channels: int,
            truth_key: str | None = None, with_labeled: bool = True, weak_labels: bool = False,
            workers: int = 16) -> TrainingData:
    """Download + decode on each node's leader (once; reused on restart), then load on every local rank."""
    entries = training_entries(manifest, weak_labels)
    if not any(e.split == "labeled" for e in entries):
        if manifest.split("labeled"):
            raise InvalidArgument(f"snapshot {manifest.snapshot_id} has only weak (noisy-flagged) labels, which "
                                  "this algorithm does not train on: choose coteaching or dividemix, or label a "
                                  "few images per class")
        raise InvalidArgument(f"snapshot {manifest.snapshot_id} has no labeled images: label a few per class first")
    if any(e.noisy for e in manifest.split("validation")):
        log.warning("the validation split holds weak (noisy-flagged) labels: accuracy is measured against "
                    "labels that may be wrong")
    target = _decoded_path(cache_root, manifest, resolution, channels, truth_key, with_labeled, weak_labels)

    def build() -> dict[str, object]:
        truth = json.loads(store.get(truth_key)) if truth_key else {}
        return _build(entries, manifest, NodeCache(cache_root, store, workers), resolution, channels, truth,
                      with_labeled)

    raw = decoded_once(target, build, comm)
    return TrainingData(tuple(raw["classes"]), raw["labeled"], raw["labels"], raw["pool"], raw["pool_truth"],
                        raw["validation"], raw["validation_labels"], tuple(raw["mean"]), tuple(raw["std"]),
                        tuple(raw["labeled_items"]))


def mix_seed(*parts: int) -> int:
    """A 63-bit seed from several integers (seed, step, stream …), stable across runs and platforms."""
    digest = hashlib.blake2b(json.dumps(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


class InfiniteSampler:
    """Endless shuffled passes over `size` items, yielding this rank's slice of each global batch.

    State is (epoch, position): a resumed sampler continues exactly where the checkpoint left it, and
    a permutation is drawn once per pass (never per step).
    """

    def __init__(self, size: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        if size <= 0:
            raise ValueError("cannot sample from an empty split")
        self.size, self.global_batch, self.seed = size, global_batch, seed
        self.local_batch = global_batch // world_size
        self._start = rank * self.local_batch
        self.epoch, self.position = 0, 0
        self._perm = self._permutation()

    def _permutation(self) -> torch.Tensor:
        return torch.randperm(self.size, generator=torch.Generator().manual_seed(mix_seed(self.seed, self.epoch)))

    def next_global(self) -> torch.Tensor:
        """The next global batch of indices (every rank computes the same one)."""
        parts, need = [], self.global_batch
        while need:
            take = min(need, self.size - self.position)
            parts.append(self._perm[self.position:self.position + take])
            self.position += take
            need -= take
            if self.position == self.size:
                self.epoch, self.position = self.epoch + 1, 0
                self._perm = self._permutation()
        return torch.cat(parts) if len(parts) > 1 else parts[0]

    def local(self, global_indices: torch.Tensor) -> torch.Tensor:
        return global_indices[self._start:self._start + self.local_batch]

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._perm = self._permutation()
