"""Prediction throughput through gRPC (HARVEST's inference server: auth, PNG decoding and validation per
image, dynamic batching across 16 concurrent clients) vs a bare `model(batch)` loop over already-decoded
tensors in the same process and run, with p50/p99 request latency.

    .venv/bin/python bench/inference.py [--arch wrn28_2] [--size 32] [--seconds 10] [--clients 16]
                                        [--per-request 4] [--max-batch 64] [--max-wait-ms 4]
"""

from __future__ import annotations

import argparse
import io
import json
import queue
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import SecretStr
from torchvision.io import encode_png

from harvest.client import HarvestClient
from harvest.common import snapshots
from harvest.common.auth import Role, TokenSigner
from harvest.common.database import make_engine, migrate, session_factory
from harvest.common.objectstore import LocalObjectStore
from harvest.common.peers import Caller
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import AuthSettings, ClientSettings, EndpointSettings, ServerSettings
from harvest.inference.links import ProjectInfo
from harvest.inference.predictor import Predictor
from harvest.inference.registry import Registry
from harvest.inference.runtime import Runtime
from harvest.inference.service import MIGRATIONS, InferenceCore
from harvest.inference.servicer import register_inference
from harvest.inference.settings import InferenceSettings
from harvest.training.config import ModelConfig
from harvest.training.models import build_model
from harvest.v1 import inference_pb2

SECRET = "inference-bench-secret-0123456789abcdef"


def write_run(store: LocalObjectStore, arch: str, size: int, classes: int) -> None:
    """A run package with random weights (throughput does not depend on what the weights learned)."""
    names = [f"c{i}" for i in range(classes)]
    entry = snapshots.ManifestEntry(f"datasets/bench/{'a' * 64}.png", "a" * 64, size, size, names[0], "labeled")
    manifest = snapshots.build("bench", names, [entry])
    store.put(snapshots.manifest_key(manifest.snapshot_id), snapshots.dumps(manifest))
    network = ModelConfig(arch=arch, width=32).model_dump(mode="json")
    buffer = io.BytesIO()
    torch.save(build_model(ModelConfig.model_validate(network), 3, classes).state_dict(), buffer)
    store.put("runs/bench/model/weights.pt", buffer.getvalue())
    store.put("runs/bench/model/model.json", json.dumps({
        "format": "harvest.model/1", "snapshot_id": manifest.snapshot_id, "classes": names, "model": network,
        "algorithm": "supervised", "steps": 0, "metrics": {},
        "preprocessing": {"resolution": size, "channels": 3, "mean": [0.5] * 3, "std": [0.25] * 3}}).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="wrn28_2")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-request", type=int, default=4)
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=4.0)
    parser.add_argument("--blocks", type=int, default=3, help="alternating bare/gRPC blocks")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="harvest-inference-bench-"))
    store = LocalObjectStore(root / "objects")
    write_run(store, args.arch, args.size, 10)
    settings = InferenceSettings(db_url=f"sqlite:///{root / 'inference.db'}", max_batch=args.max_batch,
                                 max_wait_ms=args.max_wait_ms)
    migrate(settings.resolved_db_url(root), MIGRATIONS)
    sessions = session_factory(make_engine(settings.resolved_db_url(root)))
    registry = Registry(sessions, store, lambda caller, project: ProjectInfo(project, {}))
    runtime = Runtime(store, settings)
    core = InferenceCore(store, registry, None, runtime, None, Predictor(registry, None, runtime, settings))  # type: ignore[arg-type]
    auth = AuthSettings(secret=SecretStr(SECRET))
    token, principal = TokenSigner(auth).issue(user_id="u", username="bench", role=Role.EXPERT)
    row = registry.register(Caller(principal, token), "bench").model
    loaded = runtime.model(row)
    server = HarvestServer("inference", register_inference(core), ServerConfig(
        server=ServerSettings(metrics_port=0, max_workers=args.clients + 4), auth=auth), port=0).start()

    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (256, 3, args.size, args.size), dtype=torch.uint8, generator=generator)
    pngs = [encode_png(image).numpy().tobytes() for image in images]

    def bare_loop(size: int, seconds: float) -> float:
        """The bare network on decoded, stacked tensors, same process and batch size as the batcher's cap."""
        batch = images[:size]
        done, started = 0, time.perf_counter()
        with torch.inference_mode():
            while time.perf_counter() - started < seconds:
                loaded.network(loaded.inputs(batch))
                done += len(batch)
        return done / (time.perf_counter() - started)

    loaded.run(images[:args.max_batch])
    endpoints = EndpointSettings(inference_address=f"127.0.0.1:{server.port}")
    latencies: list[float] = []

    def served_rate(seconds: float) -> float:
        """`clients` concurrent clients, each keeping one Predict of PNG bytes in flight for `seconds`;
        images/s served. One thread drives them all through gRPC futures, so the clients' own cost on
        this machine is what a real client pays (protobuf and the call), not 16 Python threads' switching."""
        stop = time.perf_counter() + seconds
        done: queue.SimpleQueue[tuple[int, float, Any]] = queue.SimpleQueue()
        counted = 0
        with HarvestClient(endpoints, token=token, settings=ClientSettings(max_attempts=1)) as harvest:
            predict = harvest.inference.Predict

            def send(number: int, position: int) -> None:
                inputs = [inference_pb2.PredictInput(image_bytes=pngs[(position + i) % len(pngs)])
                          for i in range(args.per_request)]
                call = predict.future(inference_pb2.PredictRequest(
                    config=inference_pb2.PredictConfig(model_id=row.model_id, top_k=1), inputs=inputs))
                sent = time.perf_counter()
                call.add_done_callback(lambda future: done.put((number, sent, future)))

            started = time.perf_counter()
            positions = [number * 7 for number in range(args.clients)]
            for number in range(args.clients):
                send(number, positions[number])
            in_flight = args.clients
            while in_flight:
                number, sent, future = done.get()
                elapsed = time.perf_counter() - sent
                response = future.result()
                assert all(not r.error for r in response.results)
                latencies.append(elapsed)
                counted += len(response.results)
                in_flight -= 1
                if time.perf_counter() < stop:
                    positions[number] += args.per_request
                    send(number, positions[number])
                    in_flight += 1
            return counted / (time.perf_counter() - started)

    # A short warm-up tells which batch size the batcher forms; the bare loop gets the better of that size
    # and the cap, so the baseline is the network's best. Blocks then alternate (bare, gRPC, bare, ...) so
    # load from other processes hits both alike; the table compares the medians.
    served_rate(min(2.0, args.seconds))
    batcher = runtime.cache.get(row.model_id).batcher
    mean_batch = max(1, round(batcher.images / max(1, batcher.batches)))
    latencies.clear()
    bare_runs, served_runs = [], []
    for _ in range(args.blocks):
        bare_runs.append(max(bare_loop(args.max_batch, args.seconds / 2), bare_loop(mean_batch, args.seconds / 2)))
        served_runs.append(served_rate(args.seconds))
    bare, served = statistics.median(bare_runs), statistics.median(served_runs)
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    print(f"\nmodel {args.arch} at {args.size}px, {loaded.nbytes / 1e6:.1f} MB weights, device {loaded.device}, "
          f"torch threads {torch.get_num_threads()}; {args.clients} clients x {args.per_request} images/request; "
          f"max batch {args.max_batch}, max wait {args.max_wait_ms} ms\n")
    print(f"{'path':<42} {'images/s':>10} {'vs bare':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'bare model(batch) loop, decoded tensors':<42} {bare:>10.0f} {1.0:>8.2f} {'-':>8} {'-':>8}")
    print(f"{'gRPC Predict (PNG bytes, dynamic batching)':<42} {served:>10.0f} {served / bare:>8.2f} {p50:>8.1f} "
          f"{p99:>8.1f}")
    print(f"\nmean batch formed by the batcher: {batcher.images / max(1, batcher.batches):.1f} images "
          f"({batcher.batches} batches); requests {len(latencies)}, median {statistics.median(latencies)*1000:.1f} ms; "
          f"blocks: bare (best of batch {args.max_batch} and {mean_batch}) {[round(b) for b in bare_runs]} img/s, "
          f"gRPC {[round(r) for r in served_runs]} img/s")
    server.stop(0)
    runtime.close()


if __name__ == "__main__":
    main()
