"""Ingest throughput: images through the storage service (gRPC stream → validation → thumbnail →
object store → index) vs writing the same files straight to the same store, in the same run.

S3: the storage service (own process) on moto's S3 server (own process) vs the `minio` SDK's
`put_object` from a thread pool. Local: the service on the local backend vs plain file writes.

    .venv/bin/python bench/ingest.py [--images 2000] [--kb 100] [--streams 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.servers import start_s3  # noqa: E402 - the same S3 server the tests use

SECRET = "bench-secret-0123456789abcdefghijklmnop"


def make_images(count: int, kb: int) -> list[tuple[str, bytes]]:
    """Distinct noise PNGs of about `kb` KB each (noise does not compress: size ≈ pixels x 3)."""
    side = int((kb * 1024 / 3) ** 0.5)
    rng = random.Random(0)
    images = []
    for index in range(count):
        out = io.BytesIO()
        Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(out, format="PNG", compress_level=1)
        images.append((f"class{index % 10}/img-{index:05d}.png", out.getvalue()))
    return images


def serve(home: str, store: dict[str, str], ports: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    from pydantic import SecretStr

    from harvest.common.server import HarvestServer, ServerConfig
    from harvest.common.settings import AuthSettings, ObjectStoreSettings, ServerSettings, StorageSettings
    from harvest.storage.service import build_storage
    from harvest.storage.servicer import register_storage

    service = build_storage(Path(home), store_settings=ObjectStoreSettings(**store),
                            storage_settings=StorageSettings(ingest_workers=16), check_membership=False)
    config = ServerConfig(server=ServerSettings(metrics_port=0, max_workers=32),
                          auth=AuthSettings(secret=SecretStr(SECRET)))
    server = HarvestServer("storage", register_storage(service.servicer), config, port=0).start()
    ports.put(server.port)
    stop.wait()
    server.stop(0)
    service.close()


def through_service(store: dict[str, str], images: list[tuple[str, bytes]], streams: int) -> float:
    from pydantic import SecretStr

    from harvest.client import HarvestClient
    from harvest.common.auth import Role, TokenSigner
    from harvest.common.settings import AuthSettings, EndpointSettings

    context = multiprocessing.get_context("spawn")
    ports, stop = context.Queue(), context.Event()
    with tempfile.TemporaryDirectory() as home:
        process = context.Process(target=serve, args=(home, store, ports, stop), daemon=True)
        process.start()
        port = ports.get(timeout=120)
        token, _ = TokenSigner(AuthSettings(secret=SecretStr(SECRET))).issue(user_id="b", username="bench",
                                                                             role=Role.EXPERT)
        batches = [images[i::streams] for i in range(streams)]

        def upload(batch: list[tuple[str, bytes]]) -> int:
            with HarvestClient(EndpointSettings(storage_address=f"127.0.0.1:{port}"), token=token) as client:
                return client.upload_images("bench", batch, skip_item_registration=True).summary.stored

        started = time.perf_counter()
        with ThreadPoolExecutor(streams) as pool:
            stored = sum(pool.map(upload, batches))
        elapsed = time.perf_counter() - started
        stop.set()
        process.join(30)
    assert stored == len(images), f"stored {stored} of {len(images)}"
    return elapsed


def direct_s3(endpoint: str, bucket: str, images: list[tuple[str, bytes]], workers: int) -> float:
    from minio import Minio

    client = Minio(endpoint, access_key="bench", secret_key="bench", secure=False)
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)

    def put(item: tuple[str, bytes]) -> None:
        client.put_object(bucket, f"direct/{item[0]}", io.BytesIO(item[1]), len(item[1]), content_type="image/png")

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, images))
    return time.perf_counter() - started


def direct_local(root: Path, images: list[tuple[str, bytes]], workers: int) -> float:
    def write(item: tuple[str, bytes]) -> None:
        path = root / item[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            out.write(item[1])
            out.flush()
            os.fsync(out.fileno())

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, images))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--kb", type=int, default=100)
    parser.add_argument("--streams", type=int, default=8, help="concurrent upload streams / direct writers")
    parser.add_argument("--rounds", type=int, default=3,
                        help="baseline and service alternate this many times per backend; the table shows medians")
    args = parser.parse_args()
    images = make_images(args.images, args.kb)
    megabytes = sum(len(d) for _, d in images) / 1e6
    # Alternating rounds (baseline, service, baseline, ...) let load from other processes on this shared
    # machine hit both paths alike; each service round starts a new service with a new index, so it stores
    # every image again (no round finds the previous round's images as duplicates).
    timings: dict[tuple[str, str], list[float]] = {}
    s3 = start_s3()
    try:
        store = {"backend": "s3", "s3_endpoint": s3.endpoint, "s3_bucket": "service", "s3_access_key": "bench",
                 "s3_secret_key": "bench"}
        for _ in range(args.rounds):
            timings.setdefault(("S3", "minio SDK put_object (baseline)"), []).append(
                direct_s3(s3.endpoint, "direct", images, args.streams))
            timings.setdefault(("S3", "storage service UploadImages"), []).append(
                through_service(store, images, args.streams))
    finally:
        s3.stop()
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            timings.setdefault(("local", "file write + fsync (baseline)"), []).append(
                direct_local(Path(tmp) / f"direct{round_}", images, args.streams))
            store = {"backend": "local", "local_root": str(Path(tmp) / f"objects{round_}")}
            timings.setdefault(("local", "storage service UploadImages"), []).append(
                through_service(store, images, args.streams))

    print(f"{args.images} images of ~{args.kb} KB ({megabytes:.0f} MB), {args.streams} concurrent streams/writers, "
          f"16 ingest threads, median of {args.rounds} alternating rounds; "
          "service = SHA-256 + validation (full decode) + JPEG thumbnail + store + index")
    print(f"{'backend':8s} {'path':32s} {'images/s':>9s} {'MB/s':>7s} {'vs baseline':>12s}  per round (vs baseline)")
    rows = list(timings.items())
    for index, ((backend, path), seconds) in enumerate(rows):
        baseline = rows[index - index % 2][1]
        median = statistics.median(seconds)
        per_round = ", ".join(f"{b / s:.2f}" for b, s in zip(baseline, seconds, strict=True))
        print(f"{backend:8s} {path:32s} {args.images / median:9.0f} {megabytes / median:7.1f} "
              f"{statistics.median(baseline) / median:11.2f}x  {per_round}")

if __name__ == "__main__":
    main()
