"""`model.init_weights_key`: a job starts from a registered model's weights, fetched from the object store."""

from __future__ import annotations

import io
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


@pytest.mark.parametrize("algorithm", ["fixmatch", "coteaching"])
def test_every_network_starts_from_the_registered_weights(tmp_path: Path, algorithm: str) -> None:
    store = LocalObjectStore(tmp_path / "store")
    images, labels = synthetic_shapes(4, num_classes=4, size=16)
    validation = torch.zeros(len(labels), dtype=torch.bool)
    validation[::4] = True
    manifest, _ = write_snapshot(store, images, labels.tolist(), ssl_splits(labels, 2, validation, 0), list("abcd"))
    source = SmallCNN(3, 4, width=8, norm="group")
    features = {k: v for k, v in source.state_dict().items() if not k.startswith("classifier.")}  # a backbone
    buffer = io.BytesIO()
    torch.save(features, buffer)
    store.put("models/m1/weights.pt", buffer.getvalue())
    cfg = load_config("quick", [f"algorithm.name={algorithm}", "model.width=8", "data.resolution=16",
                                "model.init_weights_key=models/m1/weights.pt", "train.steps=2"])
    trainer = Trainer(cfg, manifest, store, "runs/init", Comm(DistEnv()), cache_dir=tmp_path / "cache",
                      work_dir=tmp_path / "work")
    state = trainer.model.state_dict()
    prefixes = ["nets.0.", "nets.1."] if algorithm == "coteaching" else [""]
    for prefix in prefixes:
        for key, value in features.items():
            assert torch.equal(state[prefix + key], value), prefix + key
