"""Snapshot -> node cache -> decoded tensors, and the samplers that make batches world-size independent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.training.data import ImageDataError, InfiniteSampler, load_manifest, prepare
from harvest.training.datasets import TORCHVISION_IO, ssl_splits, synthetic_shapes, write_snapshot
from harvest.training.distributed import Comm, DistEnv

pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")]


@pytest.fixture
def snapshot(tmp_path: Path) -> tuple[LocalObjectStore, str]:
    store = LocalObjectStore(tmp_path / "store")
    images, labels = synthetic_shapes(6, num_classes=4, size=20)
    validation = torch.zeros(len(labels), dtype=torch.bool)
    validation[::4] = True
    manifest, _ = write_snapshot(store, images, labels.tolist(), ssl_splits(labels, 2, validation, 0),
                                 ["a", "b", "c", "d"])
    return store, manifest.snapshot_id


def _prepare(store: LocalObjectStore, snapshot_id: str, cache: Path, resolution: int = 12):
    return prepare(load_manifest(store, snapshot_id), store, cache, Comm(DistEnv()), resolution=resolution,
                   channels=3)


def test_images_are_decoded_resized_and_split(snapshot: tuple[LocalObjectStore, str], tmp_path: Path) -> None:
    store, sid = snapshot
    data = _prepare(store, sid, tmp_path / "cache")
    assert data.labeled.shape == (8, 3, 12, 12) and data.labeled.dtype == torch.uint8
    assert data.validation.shape[0] == 6 and len(data.pool) == 24 - 6  # pool = unlabeled + labeled
    assert set(data.labels.tolist()) == {0, 1, 2, 3}
    assert len(data.mean) == 3 and all(s > 0 for s in data.std)


def test_cache_is_reused_without_the_object_store(snapshot: tuple[LocalObjectStore, str], tmp_path: Path) -> None:
    store, sid = snapshot
    first = _prepare(store, sid, tmp_path / "cache")
    manifest = load_manifest(store, sid)
    for entry in manifest.entries:  # a restart must not need the images again
        store.delete(entry.key)
    again = _prepare(store, sid, tmp_path / "cache")
    assert torch.equal(first.labeled, again.labeled)
    other_resolution = _prepare(store, sid, tmp_path / "cache", resolution=10)  # re-decoded from the node cache
    assert other_resolution.labeled.shape[-1] == 10


def test_missing_image_is_named(snapshot: tuple[LocalObjectStore, str], tmp_path: Path) -> None:
    store, sid = snapshot
    victim = load_manifest(store, sid).entries[3]
    store.delete(victim.key)
    with pytest.raises(ImageDataError, match=f"image '{victim.key}'.*is missing from the object store"):
        _prepare(store, sid, tmp_path / "cache")


def test_corrupt_image_is_named(snapshot: tuple[LocalObjectStore, str], tmp_path: Path) -> None:
    store, sid = snapshot
    victim = load_manifest(store, sid).entries[5]
    store.put(victim.key, store.get(victim.key)[:-10])  # truncated upload
    with pytest.raises(ImageDataError, match=f"image '{victim.key}'.*is corrupt: its SHA-256 is"):
        _prepare(store, sid, tmp_path / "cache")


def test_undecodable_image_is_named(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    images, labels = synthetic_shapes(2, num_classes=2, size=8)
    manifest, _ = write_snapshot(store, images, labels.tolist(), ["labeled"] * 4, ["a", "b"])
    bad = manifest.entries[1]
    garbage = b"this is not an image"
    # Rewrite the manifest so its hash matches garbage bytes: only decoding can catch it.
    from dataclasses import replace

    from harvest.common import snapshots

    entries = [replace(e, sha256=hashlib.sha256(garbage).hexdigest(), key="datasets/bench/garbage.png")
               if e is bad else e for e in manifest.entries]
    store.put("datasets/bench/garbage.png", garbage)
    broken = snapshots.build("p", manifest.classes, entries)
    store.put(snapshots.manifest_key(broken.snapshot_id), snapshots.dumps(broken))
    with pytest.raises(ImageDataError, match="'datasets/bench/garbage.png'.*could not be decoded"):
        _prepare(store, broken.snapshot_id, tmp_path / "cache")


def test_unknown_snapshot_is_reported(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="snapshot 'nope' not found"):
        load_manifest(LocalObjectStore(tmp_path), "nope")


def test_ranks_slice_the_same_global_batches_as_one_process() -> None:
    single = InfiniteSampler(10, 8, seed=7)
    ranks = [InfiniteSampler(10, 8, seed=7, rank=r, world_size=2) for r in range(2)]
    for _ in range(6):  # crosses several epochs, with batches that wrap around
        expected = single.local(single.next_global())
        got = torch.cat([s.local(s.next_global()) for s in ranks])
        assert torch.equal(expected, got)


def test_sampler_resumes_exactly_from_its_state() -> None:
    sampler = InfiniteSampler(13, 5, seed=1)
    for _ in range(4):
        sampler.next_global()
    resumed = InfiniteSampler(13, 5, seed=1)
    resumed.load_state_dict(sampler.state_dict())
    assert all(torch.equal(sampler.next_global(), resumed.next_global()) for _ in range(5))
