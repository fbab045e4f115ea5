"""`model.init_weights_key`: a job starts from a registered model's weights, fetched from the object store.

The body always loads; the classifier head only when the registered model was trained for the same class
list, and never into a pair of networks (which must start apart)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.training.config import load_config
from harvest.training.datasets import TORCHVISION_IO, ssl_splits, synthetic_shapes, write_snapshot
from harvest.training.distributed import Comm, DistEnv
from harvest.training.engine import Trainer
from harvest.training.models import SmallCNN

pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]
CLASSES = list("abcd")


def _trainer(tmp_path: Path, algorithm: str, package_classes: list[str] | None) -> tuple[Trainer, dict]:
    store = LocalObjectStore(tmp_path / "store")
    images, labels = synthetic_shapes(4, num_classes=4, size=16)
    validation = torch.zeros(len(labels), dtype=torch.bool)
    validation[::4] = True
    manifest, _ = write_snapshot(store, images, labels.tolist(), ssl_splits(labels, 2, validation, 0), CLASSES)
    source = SmallCNN(3, 4, width=8, norm="group").state_dict()
    buffer = io.BytesIO()
    torch.save(source, buffer)
    store.put("models/m1/weights.pt", buffer.getvalue())
    if package_classes is not None:
        store.put("models/m1/model.json", json.dumps({"kind": "classifier", "classes": package_classes}).encode())
    cfg = load_config("quick", [f"algorithm.name={algorithm}", "model.width=8", "data.resolution=16",
                                "model.init_weights_key=models/m1/weights.pt", "train.steps=2"])
    trainer = Trainer(cfg, manifest, store, "runs/init", Comm(DistEnv()), cache_dir=tmp_path / "cache",
                      work_dir=tmp_path / "work")
    return trainer, source


def _body(state: dict, prefix: str = "") -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix) and "classifier" not in k}


def test_a_classifier_of_the_same_classes_loads_whole(tmp_path: Path) -> None:
    trainer, source = _trainer(tmp_path, "fixmatch", CLASSES)
    state = trainer.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in source.items())


@pytest.mark.parametrize("package_classes", [list("dcba"), None])  # reordered classes; a backbone (no list)
def test_a_head_for_other_classes_stays_initialized(tmp_path: Path, package_classes: list[str] | None) -> None:
    trainer, source = _trainer(tmp_path, "fixmatch", package_classes)
    state = trainer.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in _body(source).items())
    assert not torch.equal(state["classifier.weight"], source["classifier.weight"])


def test_a_pair_of_networks_shares_the_body_but_not_the_head(tmp_path: Path) -> None:
    trainer, source = _trainer(tmp_path, "coteaching", CLASSES)
    state = trainer.model.state_dict()
    for prefix in ("nets.0.", "nets.1."):
        assert all(torch.equal(state[prefix + k], v) for k, v in _body(source).items())
    assert not torch.equal(state["nets.0.classifier.weight"], state["nets.1.classifier.weight"])
