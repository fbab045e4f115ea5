"""The model registry core on SQLite and on PostgreSQL: registration from a run directory, versions,
promotion (one active model per project), archiving, listing with pages, and who may see what."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from harvest.common import snapshots
from harvest.common.auth import Principal, Role
from harvest.common.database import make_engine, migrate, session_factory
from harvest.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from harvest.common.objectstore import LocalObjectStore
from harvest.common.peers import Caller
from harvest.inference.links import ProjectInfo
from harvest.inference.registry import ACTIVE, ARCHIVED, READY, Registry
from harvest.inference.scoring import FAILED, Scoring
from harvest.inference.service import MIGRATIONS
from harvest.inference.tables import ModelRow, OperationRow, utcnow

pytestmark = pytest.mark.integration

EXPERT = Caller(Principal("u1", "eve", Role.EXPERT, "t1", 0), "token-eve")
OUTSIDER = Caller(Principal("u2", "mal", Role.EXPERT, "t2", 0), "token-mal")


def _lookup(caller: Caller, project_id: str) -> ProjectInfo:
    if project_id not in ("p1", "p2"):
        raise NotFound(f"no project {project_id!r}")
    if caller is OUTSIDER:
        raise PermissionDenied(f"you are not a member of project {project_id!r}")
    return ProjectInfo(project_id, {"cat": "c-cat", "dog": "c-dog"})


def _write_run(store: LocalObjectStore, job_id: str, project_id: str = "p1") -> None:
    entry = snapshots.ManifestEntry(f"datasets/{project_id}/{'a' * 64}.png", "a" * 64, 8, 8, "cat", "labeled")
    manifest = snapshots.build(project_id, ["cat", "dog"], [entry])
    store.put(snapshots.manifest_key(manifest.snapshot_id), snapshots.dumps(manifest))
    package = {"format": "harvest.model/1", "snapshot_id": manifest.snapshot_id, "classes": ["cat", "dog"],
               "model": {"arch": "small_cnn", "width": 8}, "weights": f"runs/{job_id}/model/weights.pt",
               "algorithm": "fixmatch", "steps": 5,
               "preprocessing": {"resolution": 8, "channels": 1, "mean": [0.5], "std": [0.2]},
               "metrics": {"accuracy": 0.75, "confusion": [[1, 0], [1, 2]], "validation_images": 4, "step": 5}}
    store.put(f"runs/{job_id}/model/model.json", json.dumps(package).encode())
    store.put(f"runs/{job_id}/model/weights.pt", b"weights")


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Registry:
    migrate(database_url, MIGRATIONS)
    migrate(database_url, MIGRATIONS)  # idempotent
    store = LocalObjectStore(tmp_path / "objects")
    for job, project in (("j1", "p1"), ("j2", "p1"), ("j3", "p1"), ("k1", "p2")):
        _write_run(store, job, project)
    return Registry(session_factory(make_engine(database_url)), store, _lookup)


def test_registration_reads_the_run_and_copies_the_package(registry: Registry) -> None:
    done = registry.register(EXPERT, "j1")
    model = done.model
    assert not done.already_registered and model.project_id == "p1" and model.version == 1
    assert model.class_ids == ["c-cat", "c-dog"] and model.embedding_dim == 32 and model.status == READY
    assert model.evaluation["classes"][1] == {"class_name": "dog", "accuracy": 2 / 3, "precision": 1.0, "support": 3}
    assert model.metrics["val_accuracy"] == 0.75 and model.created_by == "u1"
    again = registry.register(EXPERT, "j1")
    assert again.already_registered and again.model.model_id == model.model_id
    assert registry.register(EXPERT, "j2").model.version == 2
    assert registry.register(EXPERT, "k1").model.version == 1  # versions count per project


def test_registration_refuses_unusable_runs(registry: Registry) -> None:
    with pytest.raises(InvalidArgument, match="job_id is required"):
        registry.register(EXPERT, "")
    with pytest.raises(NotFound, match="no run"):
        registry.register(EXPERT, "nothing")
    with pytest.raises(PermissionDenied):
        registry.register(OUTSIDER, "j1")
    registry.register(EXPERT, "j1")
    with pytest.raises(PermissionDenied):  # already registered: still not theirs
        registry.register(OUTSIDER, "j1")


def test_promotion_keeps_one_active_model_per_project(registry: Registry) -> None:
    first = registry.register(EXPERT, "j1").model
    second = registry.register(EXPERT, "j2").model
    promoted, previous = registry.promote(EXPERT, first.model_id)
    assert promoted.status == ACTIVE and previous == "" and promoted.promoted_by == "u1"
    promoted, previous = registry.promote(EXPERT, second.model_id)
    assert previous == first.model_id and registry.find(first.model_id).status == READY
    assert registry.promote(EXPERT, second.model_id)[1] == ""  # idempotent
    assert registry.usable(EXPERT, "", "p1").model_id == second.model_id
    assert registry.usable(EXPERT, first.model_id, "").status == READY  # now reused by predictions for a while
    with pytest.raises(FailedPrecondition, match="promote another first"):
        registry.archive(EXPERT, second.model_id)
    assert registry.archive(EXPERT, first.model_id).status == ARCHIVED
    with pytest.raises(FailedPrecondition, match="archived"):
        registry.promote(EXPERT, first.model_id)
    with pytest.raises(FailedPrecondition, match="archived"):
        registry.usable(EXPERT, first.model_id, "")


def test_the_database_refuses_a_second_active_model(registry: Registry) -> None:
    first = registry.register(EXPERT, "j1").model
    second = registry.register(EXPERT, "j2").model
    registry.promote(EXPERT, first.model_id)
    with pytest.raises(IntegrityError), registry._sessions.begin() as session:  # noqa: SLF001
        row = session.get(ModelRow, second.model_id)
        assert row is not None
        row.status = ACTIVE


def test_listing_pages_newest_first_and_filters(registry: Registry) -> None:
    ids = [registry.register(EXPERT, job).model.model_id for job in ("j1", "j2", "j3")]
    registry.archive(EXPERT, ids[0])
    page, token, total = registry.list(EXPERT, "p1", [], "", 1, "")
    assert [m.model_id for m in page] == [ids[2]] and total == 2 and token
    page, token, _ = registry.list(EXPERT, "p1", [], "", 1, token)
    assert [m.model_id for m in page] == [ids[1]] and token == ""
    archived, _, _ = registry.list(EXPERT, "p1", [ARCHIVED], "", 0, "")
    assert [m.model_id for m in archived] == [ids[0]]
    with pytest.raises(InvalidArgument, match="page_token"):
        registry.list(EXPERT, "p1", [], "", 0, "garbage")
    with pytest.raises(PermissionDenied):
        registry.list(OUTSIDER, "p1", [], "", 0, "")
    with pytest.raises(NotFound):
        registry.list(EXPERT, "nope", [], "", 0, "")


def test_usable_needs_a_model_or_an_active_one(registry: Registry) -> None:
    model = registry.register(EXPERT, "j1").model
    with pytest.raises(InvalidArgument, match="model_id, or project_id"):
        registry.usable(EXPERT, "", "")
    with pytest.raises(NotFound, match="no active model"):
        registry.usable(EXPERT, "", "p1")
    with pytest.raises(FailedPrecondition, match="belongs to project p1"):
        registry.usable(EXPERT, model.model_id, "p2")


def test_operations_left_running_by_a_crash_are_failed_at_start(registry: Registry) -> None:
    sessions = registry._sessions  # noqa: SLF001
    with sessions.begin() as session:
        session.add(OperationRow(operation_id="op1", model_id="m", project_id="p1", state="running", counters={},
                                 options={}, created_at=utcnow(), updated_at=utcnow()))
    scoring = Scoring(sessions, registry, None, None, None, None)  # type: ignore[arg-type]
    assert scoring.recover() == 1
    with sessions() as session:
        operation = session.get(OperationRow, "op1")
    assert operation is not None and operation.state == FAILED and "restart" in operation.error_message
