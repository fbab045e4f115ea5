"""Storage beyond ingest, over real gRPC on both backends: listing filters and page tokens, deletion,
presigned downloads, snapshots (immutable, content-addressed, readable without the service), run
objects, and ImportPrefix of objects already in a bucket."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from collections.abc import Iterator

import grpc
import pytest

from harvest.client import paginate
from harvest.common import snapshots
from harvest.v1 import common_pb2, storage_pb2
from tests.harness.images import make_image
from tests.integration.storage_fixtures import RunningStorage, storage  # noqa: F401

pytestmark = pytest.mark.integration

PROJECT = "p1"


def upload(running: RunningStorage, files: list[tuple[str, bytes]], project: str = PROJECT) -> list[str]:
    with running.client() as client:
        response = client.upload_images(project, files, skip_item_registration=True)
    return [r.image_id for r in response.results]


def test_listing_filters_and_page_tokens(storage: RunningStorage) -> None:  # noqa: F811
    upload(storage, [(f"cats/{i}.png", make_image(i)) for i in range(5)])
    upload(storage, [(f"dogs/{i}.jpg", make_image(100 + i, fmt="JPEG")) for i in range(3)])
    with storage.client() as client:
        def names(**filters: object) -> list[str]:
            request = storage_pb2.ListImagesRequest(project_id=PROJECT, page=common_pb2.PageRequest(page_size=2),
                                                    **filters)
            return [r.original_name for r in paginate(client.storage.ListImages, request, "images")]

        assert len(names()) == 8
        assert sorted(names(suggested_label="dogs")) == ["dogs/0.jpg", "dogs/1.jpg", "dogs/2.jpg"]
        assert len(names(format=common_pb2.IMAGE_FORMAT_PNG)) == 5
        assert names(name_contains="cats/3") == ["cats/3.png"]
        first = client.storage.ListImages(storage_pb2.ListImagesRequest(
            project_id=PROJECT, page=common_pb2.PageRequest(page_size=3)))
        assert first.page.total_size == 8 and first.page.next_page_token
        with pytest.raises(grpc.RpcError) as exc:
            client.storage.ListImages(storage_pb2.ListImagesRequest(
                project_id=PROJECT, suggested_label="cats",
                page=common_pb2.PageRequest(page_token=first.page.next_page_token)))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "other filters" in exc.value.details()
        with pytest.raises(grpc.RpcError) as exc:
            client.storage.ListImages(storage_pb2.ListImagesRequest(
                project_id=PROJECT, page=common_pb2.PageRequest(page_token="garbage")))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_projects_are_separate(storage: RunningStorage) -> None:  # noqa: F811
    image = make_image(1)
    upload(storage, [("a.png", image)], project="p1")
    assert [r for r in upload(storage, [("a.png", image)], project="p2")]
    with storage.client() as client:
        stats = {p: client.storage.GetDatasetStats(storage_pb2.GetDatasetStatsRequest(project_id=p)).image_count
                 for p in ("p1", "p2", "p3")}
    assert stats == {"p1": 1, "p2": 1, "p3": 0}


def test_delete_removes_images_and_reports_missing_ones(storage: RunningStorage) -> None:  # noqa: F811
    ids = upload(storage, [("a.png", make_image(1)), ("b.png", make_image(2))])
    with storage.client() as client:
        response = client.storage.DeleteImages(storage_pb2.DeleteImagesRequest(
            project_id=PROJECT, image_ids=[ids[0], "f" * 64]))
        assert list(response.deleted_image_ids) == [ids[0]] and list(response.missing_image_ids) == ["f" * 64]
        with pytest.raises(grpc.RpcError) as exc:
            list(client.storage.GetImage(storage_pb2.GetImageRequest(
                image=common_pb2.ImageRef(project_id=PROJECT, image_id=ids[0]))))
        assert exc.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as exc:
            client.storage.DeleteImages(storage_pb2.DeleteImagesRequest(project_id=PROJECT, image_ids=["nothex"]))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # re-uploading a deleted image stores it again
    assert upload(storage, [("a.png", make_image(1))]) == [ids[0]]


def test_presigned_download_serves_the_original(storage: RunningStorage) -> None:  # noqa: F811
    data = make_image(5)
    (image_id,) = upload(storage, [("a.png", data)])
    with storage.client() as client:
        response = client.storage.PresignDownload(storage_pb2.PresignDownloadRequest(
            image=common_pb2.ImageRef(project_id=PROJECT, image_id=image_id), expires_in_s=120))
    with urllib.request.urlopen(response.url, timeout=10) as download:  # noqa: S310 - loopback / file URL
        assert download.read() == data
    assert response.expires_at.seconds > time.time()


def snapshot_requests(entries: list[common_pb2.SnapshotEntry],
                      classes: list[str]) -> Iterator[storage_pb2.CreateSnapshotRequest]:
    metadata = storage_pb2.SnapshotMetadata(project_id=PROJECT, options=common_pb2.FreezeOptions(seed=3))
    for index, name in enumerate(classes):
        metadata.classes.add(index=index, name=name)
    yield storage_pb2.CreateSnapshotRequest(metadata=metadata)
    for start in range(0, len(entries), 2):
        yield storage_pb2.CreateSnapshotRequest(entries=storage_pb2.SnapshotEntries(entries=entries[start:start + 2]))


def test_snapshot_is_immutable_content_addressed_and_readable_without_the_service(
        storage: RunningStorage) -> None:  # noqa: F811
    files = [(f"{c}/{i}.png", make_image(10 * j + i)) for j, c in enumerate(["cat", "dog"]) for i in range(3)]
    upload(storage, files)
    with storage.client() as client:
        records = {r.original_name: r for r in paginate(
            client.storage.ListImages, storage_pb2.ListImagesRequest(project_id=PROJECT), "images")}
        entries = []
        for name, record in sorted(records.items()):
            split = common_pb2.SPLIT_UNLABELED if name.endswith("2.png") else common_pb2.SPLIT_LABELED
            entry = common_pb2.SnapshotEntry(key=record.object_key, sha256=record.image_id, width=record.width,
                                             height=record.height, split=split, item_id=f"item-{name}")
            if split != common_pb2.SPLIT_UNLABELED:
                entry.label = name.split("/")[0]
            entries.append(entry)
        created = client.storage.CreateSnapshot(snapshot_requests(entries, ["cat", "dog"]))
        again = client.storage.CreateSnapshot(snapshot_requests(entries, ["cat", "dog"]))
        snapshot = created.snapshot
        assert not created.already_existed and again.already_existed
        assert again.snapshot.snapshot_id == snapshot.snapshot_id
        assert (snapshot.labeled_count, snapshot.unlabeled_count) == (4, 2)
        unlabeled = client.storage.ListSnapshotEntries(storage_pb2.ListSnapshotEntriesRequest(
            snapshot_id=snapshot.snapshot_id, split=common_pb2.SPLIT_UNLABELED))
        assert len(unlabeled.entries) == 2 and not any(e.HasField("label") for e in unlabeled.entries)
    raw = storage.service.store.get(snapshot.manifest_key)
    assert hashlib.sha256(raw).hexdigest() == snapshot.manifest_sha256
    header = json.loads(raw.splitlines()[0])
    assert header["format"] == "harvest.snapshot/1" and header["classes"] == ["cat", "dog"]
    manifest = snapshots.loads(raw)  # what a training job does, with no service at all
    assert len(manifest.split("labeled")) == 4 and manifest.class_index("dog") == 1


def test_snapshot_refuses_unknown_images_and_wrong_hashes(storage: RunningStorage) -> None:  # noqa: F811
    (image_id,) = upload(storage, [("a.png", make_image(1))])
    key = f"datasets/{PROJECT}/{image_id}.png"
    bad = [
        (common_pb2.SnapshotEntry(key="datasets/p1/" + "0" * 64 + ".png", sha256="0" * 64, split=1, label="a"),
         "is not an image of project"),
        (common_pb2.SnapshotEntry(key=key, sha256="1" * 64, split=1, label="a"), "sha256 of"),
        (common_pb2.SnapshotEntry(key=key, sha256=image_id, split=1, label="zebra"), "not one of the snapshot classes"),
        (common_pb2.SnapshotEntry(key=key, sha256=image_id, split=1), "need a label"),
    ]
    with storage.client() as client:
        for entry, message in bad:
            with pytest.raises(grpc.RpcError) as exc:
                client.storage.CreateSnapshot(snapshot_requests([entry], ["a"]))
            assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in exc.value.details()
    assert list(storage.service.store.list("snapshots/")) == []


def test_run_objects_are_listed_and_read_in_ranges(storage: RunningStorage) -> None:  # noqa: F811
    store = storage.service.store
    store.put("runs/job1/job.json", json.dumps({"project_id": PROJECT}).encode())
    store.put("runs/job1/metrics.jsonl", b"".join(json.dumps({"step": i}).encode() + b"\n" for i in range(100)))
    store.put("runs/job1/checkpoints/step-10.pt", b"x" * 3000)
    with storage.client() as client:
        listed = client.storage.ListRunObjects(storage_pb2.ListRunObjectsRequest(job_id="job1"))
        assert sorted(o.path for o in listed.objects) == ["checkpoints/step-10.pt", "job.json", "metrics.jsonl"]
        parts = list(client.storage.ReadRunObject(storage_pb2.ReadRunObjectRequest(
            object=storage_pb2.RunObjectRef(job_id="job1", path="metrics.jsonl"), offset=11, length=12)))
        assert parts[0].info.size_bytes == store.stat("runs/job1/metrics.jsonl").size
        assert b"".join(p.chunk for p in parts[1:]) == store.get("runs/job1/metrics.jsonl")[11:23]
        for path in ("../other/job.json", "/etc/passwd"):
            with pytest.raises(grpc.RpcError) as exc:
                list(client.storage.ReadRunObject(storage_pb2.ReadRunObjectRequest(
                    object=storage_pb2.RunObjectRef(job_id="job1", path=path))))
            assert exc.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
        store.put("runs/orphan/metrics.jsonl", b"{}")
        with pytest.raises(grpc.RpcError) as exc:
            client.storage.ListRunObjects(storage_pb2.ListRunObjectsRequest(job_id="orphan"))
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_import_prefix_registers_objects_in_place(storage: RunningStorage) -> None:  # noqa: F811
    store = storage.service.store
    originals = {f"incoming/survey/{c}/{i}.png": make_image(50 + 10 * j + i) for j, c in enumerate(["ash", "oak"])
                 for i in range(4)}
    for key, data in originals.items():
        store.put(key, data)
    store.put("incoming/survey/README.txt", b"notes")
    store.put("incoming/survey/oak/broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with storage.client() as client:
        operation = client.storage.ImportPrefix(storage_pb2.ImportPrefixRequest(
            project_id=PROJECT, prefix="incoming/survey/", image_folder=True, skip_item_registration=True))
        updates = list(client.storage.WatchImport(storage_pb2.WatchImportRequest(
            operation_id=operation.operation_id), timeout=120))
        final = updates[-1]
        assert final.operation.state == common_pb2.OPERATION_STATE_SUCCEEDED
        assert final.operation.progress.done == final.operation.progress.total == 9
        assert (final.summary.stored, final.summary.rejected) == (8, 1)
        records = list(paginate(client.storage.ListImages, storage_pb2.ListImagesRequest(project_id=PROJECT),
                                "images"))
        assert {r.object_key for r in records} == set(originals) and all(r.external for r in records)
        assert {r.suggested_label for r in records} == {"ash", "oak"}
        key = next(iter(originals))
        record = next(r for r in records if r.object_key == key)
        parts = list(client.storage.GetImage(storage_pb2.GetImageRequest(
            image=common_pb2.ImageRef(project_id=PROJECT, image_id=record.image_id))))
        assert b"".join(p.chunk for p in parts[1:]) == originals[key]
    assert not any(o.key.startswith("datasets/") for o in store.list(""))  # nothing was copied
