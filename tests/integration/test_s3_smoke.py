"""The S3 endpoint from the harness speaks the protocol the `minio` SDK uses (bucket round trip)."""

from __future__ import annotations

import hashlib
import io

import pytest
from minio import Minio

from tests.harness.servers import S3Server

pytestmark = pytest.mark.integration


def test_bucket_round_trip_through_the_minio_sdk(s3_bucket: tuple[S3Server, str]) -> None:
    server, bucket = s3_bucket
    client = Minio(server.endpoint, access_key="test", secret_key="test", secure=False)
    assert not client.bucket_exists(bucket)
    client.make_bucket(bucket)
    payload = bytes(range(256)) * 4096  # 1 MiB
    client.put_object(bucket, "datasets/p1/a.bin", io.BytesIO(payload), len(payload),
                      content_type="application/octet-stream")
    stat = client.stat_object(bucket, "datasets/p1/a.bin")
    assert stat.size == len(payload)
    response = client.get_object(bucket, "datasets/p1/a.bin")
    try:
        assert hashlib.sha256(response.read()).digest() == hashlib.sha256(payload).digest()
    finally:
        response.close()
        response.release_conn()
    listed = [o.object_name for o in client.list_objects(bucket, prefix="datasets/", recursive=True)]
    assert listed == ["datasets/p1/a.bin"]
    client.remove_object(bucket, "datasets/p1/a.bin")
    assert list(client.list_objects(bucket, recursive=True)) == []
