"""The model package a training job writes (`runs/<job>/model/`, format harvest.model/1) and its registered
copy under `models/<model>/`: parsing and checking it needs no torch, so registration can refuse a broken
package before anything heavy is imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harvest.common.errors import FailedPrecondition, NotFound
from harvest.common.objectstore import ObjectStore

MODEL_FORMAT = "harvest.model/1"
PACKAGE_FILE = "model.json"
WEIGHTS_FILE = "weights.pt"

#: Penultimate-layer width per architecture (the embedding length); the small CNN's is 4 x width.
_EMBEDDING_DIMS = {"resnet18": 512, "resnet50": 2048, "wrn28_2": 128, "wrn28_8": 512}


@dataclass(frozen=True, slots=True)
class Preprocessing:
    """How an image becomes the network's input: exactly what training did (see training/data.py)."""

    resolution: int
    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bilinear"
    resize_mode: str = "stretch"

    def as_dict(self) -> dict[str, Any]:
        return {"image_size": self.resolution, "channels": self.channels, "mean": list(self.mean),
                "std": list(self.std), "interpolation": self.interpolation, "resize_mode": self.resize_mode,
                "scale": 1 / 255, "antialias": True}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Preprocessing:
        return cls(int(raw["image_size"]), int(raw["channels"]), tuple(raw["mean"]), tuple(raw["std"]),
                   str(raw.get("interpolation", "bilinear")), str(raw.get("resize_mode", "stretch")))


@dataclass(frozen=True, slots=True)
class Package:
    """The parsed `model.json` of a finished job."""

    snapshot_id: str
    classes: tuple[str, ...]
    network: dict[str, Any]
    algorithm: str
    steps: int
    preprocessing: Preprocessing
    metrics: dict[str, Any] = field(default_factory=dict)
    kind: str = "classifier"

    @property
    def arch(self) -> str:
        return str(self.network.get("arch", "small_cnn"))

    @property
    def embedding_dim(self) -> int:
        if self.arch == "small_cnn":
            return 4 * int(self.network.get("width", 32))
        return _EMBEDDING_DIMS.get(self.arch, 0)


def parse(raw: bytes, where: str) -> Package:
    """A package from model.json bytes, or FailedPrecondition naming what is wrong with it."""
    try:
        data = json.loads(raw)
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {MODEL_FORMAT!r}")
        prep = data["preprocessing"]
        channels = int(prep["channels"])
        mean, std = tuple(float(v) for v in prep["mean"]), tuple(float(v) for v in prep["std"])
        if channels not in (1, 3) or len(mean) != channels or len(std) != channels or min(std) <= 0:
            raise ValueError("preprocessing needs channels 1 or 3 with one mean and one positive std per channel")
        classes = tuple(str(c) for c in data["classes"])
        if not classes:
            raise ValueError("no classes")
        return Package(str(data["snapshot_id"]), classes, dict(data["model"]), str(data.get("algorithm", "")),
                       int(data.get("steps", 0)), Preprocessing(int(prep["resolution"]), channels, mean, std),
                       dict(data.get("metrics") or {}), str(data.get("kind", "classifier")))
    except (ValueError, KeyError, TypeError) as exc:
        raise FailedPrecondition(f"{where} is not a usable model package: {exc}") from None


def run_prefix(job_id: str) -> str:
    return f"runs/{job_id}/model/"


def model_prefix(model_id: str) -> str:
    return f"models/{model_id}/"


def read_run_package(store: ObjectStore, job_id: str) -> Package:
    """The package of a finished job; NotFound without a run, FailedPrecondition while it is unfinished."""
    prefix = run_prefix(job_id)
    try:
        raw = store.get(prefix + PACKAGE_FILE)
    except NotFound:
        if any(True for _ in store.list(f"runs/{job_id}/")):
            raise FailedPrecondition(f"job {job_id!r} has not finished successfully: runs/{job_id}/ holds no "
                                     "model package yet (wait for SUCCEEDED)") from None
        raise NotFound(f"no run {job_id!r}: nothing under runs/{job_id}/") from None
    package = parse(raw, f"runs/{job_id}/model/{PACKAGE_FILE}")
    if not store.exists(prefix + WEIGHTS_FILE):
        raise FailedPrecondition(f"model package of job {job_id!r} is incomplete: {prefix}{WEIGHTS_FILE} is missing")
    return package


def evaluation_report(metrics: dict[str, Any], classes: tuple[str, ...]) -> dict[str, Any]:
    """Per-class recall, precision and support from the final confusion matrix (rows = truth)."""
    confusion = metrics.get("confusion") or []
    if not confusion:
        return {}
    size = len(classes)
    rows = [list(map(int, row)) for row in confusion][:size]
    per_class = []
    for index, name in enumerate(classes):
        support = sum(rows[index]) if index < len(rows) else 0
        predicted = sum(row[index] for row in rows if index < len(row))
        hit = rows[index][index] if index < len(rows) else 0
        per_class.append({"class_name": name, "accuracy": hit / support if support else 0.0,
                          "precision": hit / predicted if predicted else 0.0, "support": support})
    return {"accuracy": float(metrics.get("accuracy", 0.0)), "classes": per_class, "confusion": rows,
            "num_samples": int(metrics.get("validation_images", sum(map(sum, rows)))),
            "step": int(metrics.get("step", 0))}
