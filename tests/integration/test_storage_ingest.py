"""Storage ingest over real gRPC against the local backend and the S3 server: round trips, archives,
duplicates, interrupted streams, every rejection reason, concurrent uploads."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from harvest.client import paginate, upload_requests
from harvest.v1 import common_pb2, storage_pb2
from tests.harness.images import make_image, make_noise_bmp, png_bomb, truncated
from tests.integration.storage_fixtures import RunningStorage, storage  # noqa: F401

pytestmark = pytest.mark.integration

PROJECT = "p1"
STORED, DUPLICATE, REJECTED = (storage_pb2.FILE_STATUS_STORED, storage_pb2.FILE_STATUS_DUPLICATE,
                               storage_pb2.FILE_STATUS_REJECTED)


def listing(running: RunningStorage, project: str = PROJECT) -> list[storage_pb2.ImageRecord]:
    with running.client() as client:
        request = storage_pb2.ListImagesRequest(project_id=project, page=common_pb2.PageRequest(page_size=137))
        return list(paginate(client.storage.ListImages, request, "images"))


def objects(running: RunningStorage) -> list[str]:
    return [o.key for o in running.service.store.list("") if not o.key.startswith("snapshots/")]


def test_thousand_images_round_trip(storage: RunningStorage) -> None:  # noqa: F811
    files = [(f"img-{i:04d}.png", make_image(i, (16, 16))) for i in range(1000)]
    with storage.client() as client:
        response = client.upload_images(PROJECT, files, skip_item_registration=True)
        assert response.summary.stored == 1000 and response.summary.rejected == 0
        records = listing(storage)
        assert len(records) == 1000
        assert {r.image_id for r in records} == {hashlib.sha256(d).hexdigest() for _, d in files}
        for name, data in files[::97]:
            image_id = hashlib.sha256(data).hexdigest()
            parts = list(client.storage.GetImage(storage_pb2.GetImageRequest(
                image=common_pb2.ImageRef(project_id=PROJECT, image_id=image_id))))
            assert parts[0].info.original_name == name and parts[0].info.width == 16
            assert b"".join(p.chunk for p in parts[1:]) == data
        thumbs = client.storage.BatchGetThumbnails(storage_pb2.BatchGetThumbnailsRequest(
            project_id=PROJECT, image_ids=[r.image_id for r in records[:50]]))
        assert len(thumbs.thumbnails) == 50 and thumbs.thumbnails[0].data.startswith(b"\xff\xd8\xff")
        assert thumbs.thumbnails[0].content_type == "image/jpeg" and thumbs.thumbnails[0].width == 16
        stats = client.storage.GetDatasetStats(storage_pb2.GetDatasetStatsRequest(project_id=PROJECT))
        assert stats.image_count == 1000 and stats.images_by_format == {"png": 1000}
    assert len(objects(storage)) == 1001  # originals + one thumbnail pack


def test_large_archive_streams_through(storage: RunningStorage, tmp_path: Path) -> None:  # noqa: F811
    archive = tmp_path / "big.zip"
    members = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        while archive.stat().st_size < 200 * 1024 * 1024:
            zf.writestr(f"class{members % 3}/noise-{members}.bmp", make_noise_bmp(members, (1024, 1024)))
            members += 1
            zf.fp.flush()  # type: ignore[union-attr]
    with storage.client() as client:
        response = client.upload_images(PROJECT, [("big.zip", archive)], skip_item_registration=True,
                                        timeout_s=600)
    assert archive.stat().st_size >= 200 * 1024 * 1024
    assert response.summary.stored == members and response.summary.rejected == 0
    expanded = [r for r in response.results if r.status == storage_pb2.FILE_STATUS_EXPANDED]
    assert len(expanded) == 1 and expanded[0].name == "big.zip"
    labels = {r.suggested_label for r in response.results if r.status == STORED}
    assert labels == {"class0", "class1", "class2"}


def test_reupload_is_a_duplicate_returning_the_same_id(storage: RunningStorage) -> None:  # noqa: F811
    data = make_image(7)
    with storage.client() as client:
        first = client.upload_images(PROJECT, [("a.png", data)], skip_item_registration=True)
        again = client.upload_images(PROJECT, [("renamed.png", data), ("twice.png", data)],
                                     skip_item_registration=True)
    assert first.results[0].status == STORED
    assert [r.status for r in again.results] == [DUPLICATE, DUPLICATE]
    assert {r.image_id for r in again.results} == {first.results[0].image_id}
    assert len(listing(storage)) == 1


def test_interrupted_stream_leaves_nothing(storage: RunningStorage) -> None:  # noqa: F811
    complete = make_image(1)
    partial = make_noise_bmp(2, (512, 512))
    cancelled = threading.Event()

    def requests() -> Iterator[storage_pb2.UploadImagesRequest]:
        messages = list(upload_requests(PROJECT, [("done.png", complete), ("partial.bmp", partial)],
                                        skip_item_registration=True, chunk_size=64 * 1024))
        yield from messages[:-3]  # the second file is cut off mid-way
        cancelled.wait(10)

    with storage.client() as client:
        future = client.storage.UploadImages.future(requests())
        import time

        time.sleep(1.0)
        future.cancel()
        cancelled.set()
        with pytest.raises(grpc.FutureCancelledError):
            future.result()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and objects(storage):
        time.sleep(0.1)
    assert objects(storage) == []
    assert listing(storage) == []


REJECTIONS = {
    "text.png": (b"just some text, not an image" * 10, "REJECT_REASON_UNSUPPORTED_TYPE"),
    "empty.jpg": (b"", "REJECT_REASON_EMPTY"),
    "truncated.png": (truncated(make_image(3, (64, 64))), "REJECT_REASON_CORRUPT"),
    "bomb.png": (png_bomb(), "REJECT_REASON_TOO_MANY_PIXELS"),
    "fake.jpg": (b"\xff\xd8\xff\xe0" + b"\x00" * 300, "REJECT_REASON_CORRUPT"),
}


def test_every_bad_file_is_rejected_with_its_reason_and_nothing_stored(storage: RunningStorage) -> None:  # noqa: F811
    good = make_image(11)
    files = [(name, data) for name, (data, _) in REJECTIONS.items()] + [("good.png", good)]
    with storage.client() as client:
        response = client.upload_images(PROJECT, files, skip_item_registration=True)
    by_name = {r.name: r for r in response.results}
    for name, (_, reason) in REJECTIONS.items():
        assert by_name[name].status == REJECTED, name
        assert storage_pb2.RejectReason.Name(by_name[name].reject_reason) == reason, name
        assert by_name[name].message
    assert by_name["good.png"].status == STORED
    assert len(listing(storage)) == 1 and len(objects(storage)) == 2  # original + its thumbnail pack


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return out.getvalue()


def test_hostile_archive_members_are_refused_one_by_one(storage: RunningStorage) -> None:  # noqa: F811
    link = zipfile.ZipInfo("cats/link.png")
    link.external_attr = (0o120777 << 16)
    archive = _zip([
        ("/etc/evil.png", make_image(20)),
        ("../escape.png", make_image(21)),
        ("cats/../../escape2.png", make_image(22)),
        (link, b"/etc/passwd"),
        ("dogs/huge.bmp", b"BM" + b"\x00" * (30 * 1024 * 1024)),  # compresses ~1000:1
        ("cats/ok.png", make_image(23)),
        ("__MACOSX/._ok.png", b"resource fork"),
    ])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        symlink = tarfile.TarInfo("birds/sym.png")
        symlink.type = tarfile.SYMTYPE
        symlink.linkname = "/etc/shadow"
        tf.addfile(symlink)
        ok = make_image(24)
        info = tarfile.TarInfo("birds/ok.png")
        info.size = len(ok)
        tf.addfile(info, io.BytesIO(ok))
    with storage.client() as client:
        response = client.upload_images(PROJECT, [("evil.zip", archive), ("birds.tar", buffer.getvalue())],
                                        skip_item_registration=True)
    reasons = {r.name: storage_pb2.RejectReason.Name(r.reject_reason) for r in response.results
               if r.status == REJECTED}
    assert reasons == {
        "evil.zip//etc/evil.png": "REJECT_REASON_UNSAFE_PATH",
        "evil.zip/../escape.png": "REJECT_REASON_UNSAFE_PATH",
        "evil.zip/cats/../../escape2.png": "REJECT_REASON_UNSAFE_PATH",
        "evil.zip/cats/link.png": "REJECT_REASON_NOT_REGULAR_FILE",
        "evil.zip/dogs/huge.bmp": "REJECT_REASON_COMPRESSION_RATIO",
        "birds.tar/birds/sym.png": "REJECT_REASON_NOT_REGULAR_FILE",
    }
    stored = sorted((r.name, r.suggested_label) for r in response.results if r.status == STORED)
    assert stored == [("birds.tar/birds/ok.png", "birds"), ("evil.zip/cats/ok.png", "cats")]
    assert len(objects(storage)) == 3  # two originals + the upload's thumbnail pack


def test_declared_checksum_mismatch_is_refused(storage: RunningStorage) -> None:  # noqa: F811
    data = make_image(30)
    requests = list(upload_requests(PROJECT, [("a.png", data)], skip_item_registration=True))
    requests[1].file.sha256 = "0" * 64
    with storage.client() as client:
        response = client.storage.UploadImages(iter(requests))
    assert storage_pb2.RejectReason.Name(response.results[0].reject_reason) == "REJECT_REASON_CHECKSUM_MISMATCH"
    assert objects(storage) == []


def test_oversized_chunk_and_missing_metadata_are_invalid(storage: RunningStorage) -> None:  # noqa: F811
    with storage.client() as client:
        with pytest.raises(grpc.RpcError) as exc:
            client.storage.UploadImages(iter([storage_pb2.UploadImagesRequest(
                file=storage_pb2.UploadFile(name="x.png"))]))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "metadata" in exc.value.details()
        big = [storage_pb2.UploadImagesRequest(metadata=storage_pb2.UploadMetadata(project_id=PROJECT)),
               storage_pb2.UploadImagesRequest(file=storage_pb2.UploadFile(name="x.png")),
               storage_pb2.UploadImagesRequest(chunk=storage_pb2.UploadChunk(data=b"x" * (1024 * 1024 + 1)))]
        with pytest.raises(grpc.RpcError) as exc:
            client.storage.UploadImages(iter(big))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "1,048,576" in exc.value.details()
        with pytest.raises(grpc.RpcError) as exc:
            client.storage.UploadImages(iter([storage_pb2.UploadImagesRequest(
                metadata=storage_pb2.UploadMetadata(project_id="../other"))]))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_same_image_from_eight_clients_is_stored_once(storage: RunningStorage) -> None:  # noqa: F811
    data = make_image(40, (128, 128))
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def upload() -> None:
        with storage.client() as client:
            barrier.wait()
            statuses.append(client.upload_images(PROJECT, [("same.png", data)], skip_item_registration=True)
                            .results[0].status)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == sorted([STORED] + [DUPLICATE] * 7)
    assert len(listing(storage)) == 1 and len(objects(storage)) == 2  # original + its thumbnail pack


def test_project_quota_refuses_files_beyond_it(tmp_path: Path) -> None:
    from harvest.common.settings import ObjectStoreSettings, StorageSettings
    from tests.integration.storage_fixtures import start_storage

    running = start_storage(tmp_path, ObjectStoreSettings(backend="local", local_root=tmp_path / "objects"),
                            StorageSettings(quota_images=3))
    try:
        with running.client() as client:
            first = client.upload_images(PROJECT, [(f"{i}.png", make_image(i)) for i in range(2)],
                                         skip_item_registration=True)
            second = client.upload_images(PROJECT, [(f"{i}.png", make_image(i)) for i in range(2, 5)],
                                          skip_item_registration=True)
        assert first.summary.stored == 2
        assert sorted(r.status for r in second.results) == [STORED, REJECTED, REJECTED]  # files race for the slot
        rejected = [r for r in second.results if r.status == REJECTED]
        assert {storage_pb2.RejectReason.Name(r.reject_reason) for r in rejected} == {"REJECT_REASON_QUOTA_EXCEEDED"}
        assert len(listing(running)) == 3
    finally:
        running.server.stop(0)
        running.service.close()
