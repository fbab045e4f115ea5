"""One behaviour suite for both object-store backends: the local directory and S3 (moto's server on
loopback, through the minio SDK)."""

from __future__ import annotations

import hashlib
import io
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from harvest.common.errors import InvalidArgument, NotFound
from harvest.common.objectstore import PART_SIZE, LocalObjectStore, ObjectStore, S3ObjectStore
from tests.harness.servers import S3Server

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "objects")
        return
    server, bucket = request.getfixturevalue("s3_bucket")
    assert isinstance(server, S3Server)
    yield S3ObjectStore(server.endpoint, "test", "test", bucket)


def test_put_get_stat_round_trip(store: ObjectStore) -> None:
    info = store.put("datasets/p1/abc.png", b"hello", content_type="image/png")
    assert info.size == 5
    assert store.get("datasets/p1/abc.png") == b"hello"
    assert store.stat("datasets/p1/abc.png").size == 5
    assert store.exists("datasets/p1/abc.png") and not store.exists("datasets/p1/nope.png")


def test_put_replaces_and_streams_from_a_file_object(store: ObjectStore) -> None:
    store.put("runs/j1/metrics.jsonl", b"old")
    store.put("runs/j1/metrics.jsonl", io.BytesIO(b"new contents"), length=12)
    assert store.get("runs/j1/metrics.jsonl") == b"new contents"


def test_large_object_goes_through_multipart_and_keeps_its_bytes(store: ObjectStore, tmp_path: Path) -> None:
    payload = bytes(range(256)) * ((PART_SIZE + 3 * 1024 * 1024) // 256)  # > one part
    source = tmp_path / "big.bin"
    source.write_bytes(payload)
    store.put_file("models/m1/weights.pt", source)
    target = tmp_path / "copy.bin"
    store.download("models/m1/weights.pt", target)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(payload).digest()
    assert sum(len(c) for c in store.iter_chunks("models/m1/weights.pt", 1024 * 1024)) == len(payload)


def test_missing_objects_are_not_found(store: ObjectStore) -> None:
    for call in (store.get, store.stat, store.open, store.presign_get):
        with pytest.raises(NotFound, match="no object 'datasets/p1/missing.png'"):
            call("datasets/p1/missing.png")
    store.delete("datasets/p1/missing.png")  # deleting nothing is fine


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a/", "a\\b", "a b",
                                 "x" * 2000])
def test_keys_that_could_escape_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid object key"):
        store.put(key, b"x")


def test_list_is_recursive_ordered_prefix_scoped_and_resumable(store: ObjectStore) -> None:
    for key in ["datasets/p1/b.png", "datasets/p1/a.png", "datasets/p1/sub/c.png", "datasets/p2/a.png",
                "snapshots/s1.json"]:
        store.put(key, key.encode())
    keys = [o.key for o in store.list("datasets/p1/")]
    assert keys == ["datasets/p1/a.png", "datasets/p1/b.png", "datasets/p1/sub/c.png"]
    assert [o.key for o in store.list("datasets/p1/", start_after="datasets/p1/a.png")] == keys[1:]
    assert [o.size for o in store.list("snapshots/")] == [len("snapshots/s1.json")]
    assert list(store.list("nothing/here/")) == []


def test_delete_removes_the_object(store: ObjectStore) -> None:
    store.put("datasets/p1/a.png", b"1")
    store.delete("datasets/p1/a.png")
    assert not store.exists("datasets/p1/a.png")
    assert list(store.list("datasets/")) == []


def test_copy_duplicates_contents(store: ObjectStore) -> None:
    store.put("runs/j1/checkpoints/step-10.pt", b"weights")
    store.copy("runs/j1/checkpoints/step-10.pt", "models/m1/weights.pt")
    assert store.get("models/m1/weights.pt") == b"weights"


def test_presigned_url_downloads_without_credentials(store: ObjectStore) -> None:
    store.put("models/m1/model.onnx", b"onnx-bytes")
    url = store.presign_get("models/m1/model.onnx", expires_s=60)
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback or file URL we made
        assert response.read() == b"onnx-bytes"


def test_concurrent_writers_of_one_key_leave_one_whole_object(store: ObjectStore) -> None:
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=store.put, args=("datasets/p1/same.png", p)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("datasets/p1/same.png") in payloads
    assert [o.key for o in store.list("datasets/")] == ["datasets/p1/same.png"]


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.put("datasets/p1/a.png", b"x" * 1000)
    assert list((tmp_path / "objects" / ".tmp").iterdir()) == []
    assert [o.key for o in store.list("")] == ["datasets/p1/a.png"]


def test_s3_store_keeps_as_many_connections_as_its_concurrent_requests(s3_bucket: Any) -> None:
    """Rounds of 20 concurrent PUTs through a store allowed 20 connections reuse the first round's
    connections (with the SDK's default pool of 10, half are dropped after each round and reopened)."""
    server, bucket = s3_bucket
    store = S3ObjectStore(server.endpoint, "test", "test", bucket, max_connections=20)
    barrier = threading.Barrier(20)

    def put(index: int) -> None:
        for round_ in range(3):
            barrier.wait()  # 20 requests in flight at once, three times
            store.put(f"pool/{index}-{round_}", b"x" * 1000)

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(put, range(20)))
    (key,) = store.client._http.pools.keys()
    connection_pool = store.client._http.pools[key]
    assert connection_pool.num_connections == 20  # opened in the first round, reused by the others


def test_s3_objects_up_to_a_part_are_one_put_and_larger_ones_multipart(s3_bucket: Any) -> None:
    """An 8 MB thumbnail pack is one PUT (plain MD5 ETag), not 5 MiB parts (the SDK's choice when asked for
    part size 0); beyond PART_SIZE, multipart in PART_SIZE parts (ETag `<md5>-<parts>`)."""
    server, bucket = s3_bucket
    store = S3ObjectStore(server.endpoint, "test", "test", bucket)
    pack = bytes(range(256)) * (8 * 1024 * 1024 // 256)
    store.put("thumbnails/p1/a.pack", pack)
    assert store.stat("thumbnails/p1/a.pack").etag.strip('"') == hashlib.md5(pack).hexdigest()  # noqa: S324
    store.put("models/m1/big.bin", io.BytesIO(pack * 3), length=3 * len(pack))
    assert store.stat("models/m1/big.bin").etag.strip('"').endswith("-2")
    assert store.get("models/m1/big.bin") == pack * 3
