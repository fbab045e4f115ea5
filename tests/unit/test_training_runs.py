"""runs/<job>/: metrics re-put atomically, checkpoints published behind a `latest` pointer."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvest.common.objectstore import LocalObjectStore
from harvest.common.runs import RunReader, RunWriter

pytestmark = pytest.mark.unit


def test_metrics_are_visible_after_flush_only(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    writer = RunWriter(store, "runs/j1", tmp_path / "local", flush_seconds=3600)
    writer.log({"kind": "train", "step": 1})
    writer.log({"kind": "train", "step": 2})
    assert writer.metrics() == []
    writer.flush()
    assert [r["step"] for r in RunReader(store, "runs/j1").metrics()] == [1, 2]


def test_resume_drops_records_after_the_checkpoint_step(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    first = RunWriter(store, "runs/j1", tmp_path / "a", flush_seconds=0)
    for step in (10, 20, 30):
        first.log({"kind": "train", "step": step})
    second = RunWriter(store, "runs/j1", tmp_path / "b", resume_step=20, flush_seconds=0)
    second.log({"kind": "train", "step": 30, "again": True})
    assert [(r["step"], r.get("again", False)) for r in second.metrics()] == [(10, False), (20, False), (30, True)]


def test_latest_points_to_the_newest_checkpoint_and_old_ones_are_pruned(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    writer = RunWriter(store, "runs/j1", tmp_path / "local", keep_checkpoints=2)
    blob = tmp_path / "ckpt.pt"
    for step in (5, 10, 15):
        blob.write_bytes(f"state {step}".encode())
        writer.publish_checkpoint(step, blob)
    reader = RunReader(store, "runs/j1")
    latest = reader.latest_checkpoint()
    assert latest is not None and latest.step == 15
    assert [ref.step for ref in reader.checkpoints()] == [10, 15]
    assert reader.download_checkpoint(latest, tmp_path / "x.pt").read_bytes() == b"state 15"


def test_a_run_without_checkpoints_has_no_latest(tmp_path: Path) -> None:
    assert RunReader(LocalObjectStore(tmp_path), "runs/none").latest_checkpoint() is None
