"""Freezing snapshots (the split, on real SQLite and PostgreSQL data) and label import/export over gRPC."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from harvest.common.auth import Role
from harvest.labels.snapshots_freeze import RANDOM, FreezeOptions
from harvest.labels.storage_handoff import snapshot_requests
from harvest.v1 import common_pb2, labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration


@dataclass
class Labeled:
    labels: LabelsUnderTest
    project: labels_pb2.Project
    items: list[str]
    token: str

    @property
    def project_id(self) -> str:
        return self.project.project_id

    @property
    def stub(self):  # type: ignore[no-untyped-def]
        return self.labels.client(self.token).labels


@pytest.fixture
def labeled(database_url: str) -> Iterator[Labeled]:
    """30 items: 10 cat, 6 dog, 2 bird (one of them a noisy import), 12 unlabeled."""
    with running_labels(database_url) as labels:
        token = labels.user("eve", Role.EXPERT)
        project, items = labels.project(token, "pets", images=30)
        stub = labels.client(token).labels
        plan = ["cat"] * 10 + ["dog"] * 6 + ["bird"]
        ids = {c.name: c.class_id for c in project.classes}
        stub.BatchAnnotate(labels_pb2.BatchAnnotateRequest(project_id=project.project_id, class_id=ids["cat"], items=[
            labels_pb2.ItemVersion(item_id=i, expected_version=1) for i in items[:10]]))
        for item, name in zip(items[10:17], plan[10:], strict=True):
            stub.Annotate(labels_pb2.AnnotateRequest(project_id=project.project_id, item_id=item,
                                                     class_id=ids[name], expected_version=1))
        stub.ImportLabels(iter([
            labels_pb2.ImportLabelsRequest(options=labels_pb2.ImportLabelsOptions(
                project_id=project.project_id, format=labels_pb2.LABEL_FORMAT_CSV, noisy=True)),
            labels_pb2.ImportLabelsRequest(chunk=b"image,label\nimg0017.png,bird\n")]))
        yield Labeled(labels, project, items, token)


def _prepare(labeled: Labeled, **options: object):  # type: ignore[no-untyped-def]
    principal = labeled.labels.server.signer.verify(labeled.token)
    return labeled.labels.core.snapshots.prepare(principal, labeled.project_id, FreezeOptions(**options))  # type: ignore[arg-type]


def test_stratified_split_keeps_every_class_in_training_and_validation(labeled: Labeled) -> None:
    frozen = _prepare(labeled, validation_fraction=0.2, seed=11)
    by_split = Counter((e.split, e.label) for e in frozen.entries)
    assert by_split[("validation", "cat")] == 2 and by_split[("labeled", "cat")] == 8
    assert by_split[("validation", "dog")] == 1 and by_split[("labeled", "dog")] == 5
    # bird: one trusted label (too few to hold one back) and one weak label, which never validates
    assert by_split[("validation", "bird")] == 0 and by_split[("labeled", "bird")] == 2
    assert frozen.count("unlabeled") == 12 and frozen.noisy_count == 1
    assert not any(e.noisy for e in frozen.entries if e.split == "validation")
    assert [name for _, name in frozen.classes] == ["cat", "dog", "bird"]
    assert all(e.key.startswith(f"datasets/{labeled.project_id}/") and e.key.endswith(".png")
               for e in frozen.entries)


def test_split_is_reproducible_with_a_seed_and_changes_without(labeled: Labeled) -> None:
    first = _prepare(labeled, validation_fraction=0.3, seed=5)
    again = _prepare(labeled, validation_fraction=0.3, seed=5)
    other = _prepare(labeled, validation_fraction=0.3, seed=6)
    assert first.entries == again.entries
    assert [e.item_id for e in first.entries if e.split == "validation"] != \
        [e.item_id for e in other.entries if e.split == "validation"]


def test_options_exclude_noisy_labels_and_cap_unlabeled(labeled: Labeled) -> None:
    frozen = _prepare(labeled, exclude_noisy_labels=True, max_unlabeled=5, split_strategy=RANDOM)
    assert frozen.noisy_count == 0 and frozen.count("unlabeled") == 5
    supervised = _prepare(labeled, exclude_unlabeled=True, validation_fraction=0.0)
    assert supervised.count("unlabeled") == 0 and supervised.count("validation") == 0
    assert supervised.count("labeled") == 18


def test_snapshot_stream_sends_metadata_then_entries(labeled: Labeled) -> None:
    messages = list(snapshot_requests(_prepare(labeled, seed=1)))
    assert messages[0].HasField("metadata") and [c.name for c in messages[0].metadata.classes] == \
        ["cat", "dog", "bird"]
    entries = [e for m in messages[1:] for e in m.entries.entries]
    assert len(entries) == 30 and {e.split for e in entries} == {
        common_pb2.SPLIT_LABELED, common_pb2.SPLIT_VALIDATION, common_pb2.SPLIT_UNLABELED}


def test_freeze_reports_an_unreachable_storage_and_records_nothing(labeled: Labeled) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        labeled.stub.FreezeSnapshot(labels_pb2.FreezeSnapshotRequest(project_id=labeled.project_id))
    assert exc.value.code() == grpc.StatusCode.UNAVAILABLE and "storage" in exc.value.details()
    listed = labeled.stub.ListSnapshots(labels_pb2.ListSnapshotsRequest(project_id=labeled.project_id))
    assert not listed.snapshots


def test_freeze_needs_labeled_items(labeled: Labeled) -> None:
    token = labeled.token
    empty, _ = labeled.labels.project(token, "empty", images=3)
    with pytest.raises(grpc.RpcError) as exc:
        labeled.labels.client(token).labels.FreezeSnapshot(labels_pb2.FreezeSnapshotRequest(
            project_id=empty.project_id))
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def _import(labeled: Labeled, data: bytes, **options: object) -> labels_pb2.ImportLabelsResponse:
    first = labels_pb2.ImportLabelsRequest(options=labels_pb2.ImportLabelsOptions(
        project_id=labeled.project_id, **options))  # type: ignore[arg-type]
    chunks = [labels_pb2.ImportLabelsRequest(chunk=data[i:i + 7]) for i in range(0, len(data), 7)]
    return labeled.stub.ImportLabels(iter([first, *chunks]))


def test_csv_import_reports_bad_rows_and_respects_the_conflict_policy(labeled: Labeled) -> None:
    data = (b"file,class\nimg0020.png,dog\nimg0000.png,dog\nmissing.png,dog\nimg0021.png,dgo\n"
            b"img0022.png,hamster\n")
    report = _import(labeled, data, format=labels_pb2.LABEL_FORMAT_CSV, key_column="file", label_column="class")
    assert (report.rows, report.applied, report.skipped, report.failed) == (5, 1, 1, 3)
    assert [e.line for e in report.errors] == [4, 5, 6] and "no item matches" in report.errors[0].message
    created = _import(labeled, b"file,class\nimg0022.png,hamster\nimg0000.png,dog\n",
                      format=labels_pb2.LABEL_FORMAT_CSV, key_column="file", label_column="class",
                      create_missing_classes=True,
                      conflict_policy=labels_pb2.IMPORT_CONFLICT_POLICY_OVERWRITE)
    assert [c.name for c in created.created_classes] == ["hamster"] and created.applied == 2
    history = labeled.stub.GetHistory(labels_pb2.GetHistoryRequest(project_id=labeled.project_id,
                                                                   item_id=labeled.items[0]))
    assert history.annotations[-1].source == common_pb2.LABEL_SOURCE_IMPORT
    with pytest.raises(grpc.RpcError) as exc:
        _import(labeled, b"name,label\n", format=labels_pb2.LABEL_FORMAT_CSV)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "image" in exc.value.details()


def test_image_folder_import_matches_file_names(labeled: Labeled) -> None:
    report = _import(labeled, b"dog/img0025.png\ncat/img0026.png\nnowhere.png\n",
                     format=labels_pb2.LABEL_FORMAT_IMAGE_FOLDER)
    assert (report.applied, report.failed) == (2, 1)


def _export(labeled: Labeled, **request: object) -> tuple[labels_pb2.ExportHeader, bytes]:
    stream = list(labeled.stub.ExportLabels(labels_pb2.ExportLabelsRequest(project_id=labeled.project_id,
                                                                           **request)))  # type: ignore[arg-type]
    assert stream[0].HasField("header") and all(m.HasField("chunk") for m in stream[1:])
    assert all(len(m.chunk) <= common_pb2.LIMIT_MAX_CHUNK_BYTES for m in stream[1:])
    return stream[0].header, b"".join(m.chunk for m in stream[1:])


def test_csv_export_lists_current_labels(labeled: Labeled) -> None:
    header, data = _export(labeled, format=labels_pb2.LABEL_FORMAT_CSV)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert header.content_type == "text/csv" and header.item_count == 17 == len(rows)
    assert Counter(r["label"] for r in rows) == {"cat": 10, "dog": 6, "bird": 1}
    assert {r["annotator"] for r in rows} == {"eve"} and {r["source"] for r in rows} == {"human"}
    _, everything = _export(labeled, format=labels_pb2.LABEL_FORMAT_CSV, include_unlabeled=True, include_noisy=True)
    rows = list(csv.DictReader(io.StringIO(everything.decode())))
    assert len(rows) == 30 and sum(r["noisy"] == "true" for r in rows) == 1


def test_coco_and_image_folder_exports(labeled: Labeled) -> None:
    header, data = _export(labeled, format=labels_pb2.LABEL_FORMAT_COCO, include_unlabeled=True)
    coco = json.loads(data)
    assert header.content_type == "application/json"
    assert [c["name"] for c in coco["categories"]] == ["bird", "cat", "dog"]
    assert len(coco["images"]) == 30 and len(coco["annotations"]) == 17, "the noisy label is left out by default"
    first = coco["annotations"][0]
    assert first["bbox"] == [0, 0, 32, 24] and coco["images"][first["image_id"] - 1]["width"] == 32
    _, listing = _export(labeled, format=labels_pb2.LABEL_FORMAT_IMAGE_FOLDER, include_unlabeled=True)
    lines = listing.decode().splitlines()
    assert len(lines) == 30 and sum(line.startswith("cat/") for line in lines) == 10
    assert sum(line.startswith("unlabeled/") for line in lines) == 13
    path, key = lines[0].split("\t")
    assert path.endswith(".png") and key.startswith("datasets/")
