"""Backbone packages: what a pretraining run publishes, and how an SSL job starts from one.

Published (`runs/<job>/model/`, format harvest.model/1, `"kind": "backbone"`): `weights.pt`, the backbone's
state dict (the classifier network's key names without the head's), and `model.json` with the fields the
SSL engine writes (snapshot, class names, `model` section, preprocessing, metrics) so the inference
registry registers it like any package, as a backbone it will not predict with.

Consumed: an SSL job starts from it with `model.init_weights_key=models/<id>/weights.pt` (the registered
copy; the job downloads it) or `model.pretrained=<local file>`; `load_pretrained` copies every tensor whose
name and shape match, i.e. everything but the classifier head, which stays initialized. The job's `model`
section must match the package's (`arch`, `width`, `norm`, `small_stem`), or nothing would match.
"""

from __future__ import annotations

from typing import Any

from harvest.training.config import ModelConfig
from harvest.training.engine import MODEL_FORMAT

BACKBONE_KIND = "backbone"
WEIGHTS_FILE = "model/weights.pt"
PACKAGE_FILE = "model/model.json"


def package_manifest(*, snapshot_id: str, classes: tuple[str, ...], model: ModelConfig, weights_key: str,
                     algorithm: str, steps: int, resolution: int, channels: int, mean: tuple[float, ...],
                     std: tuple[float, ...], feature_dim: int, metrics: dict[str, Any],
                     objective: dict[str, Any]) -> dict[str, Any]:
    """The `model.json` of a backbone: the SSL engine's fields plus kind, feature_dim and the objective."""
    return {"format": MODEL_FORMAT, "kind": BACKBONE_KIND, "snapshot_id": snapshot_id, "classes": list(classes),
            "model": model.model_dump(mode="json"), "weights": weights_key, "algorithm": algorithm, "steps": steps,
            "feature_dim": feature_dim,
            "preprocessing": {"resolution": resolution, "channels": channels,
                              "resize": "bilinear, antialiased, to a square", "scale": 1 / 255,
                              "mean": list(mean), "std": list(std)},
            "metrics": metrics, "objective": objective}
