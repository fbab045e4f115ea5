"""Prediction throughput through gRPC (HARVEST's inference server: auth, PNG decoding and validation per
image, dynamic batching across 16 concurrent clients) vs a bare `model(batch)` loop over already-decoded
tensors in the same process and run (the best of one loop over all cores and one loop per batcher worker,
each on its share of the cores; each with the module the server runs, on CPU a frozen TorchScript graph,
and with the plain eager network), with p50/p99 request latency.

    .venv/bin/python bench/inference.py [--arch wrn28_2] [--size 32] [--seconds 10] [--clients 16]
                                        [--per-request 4 16] [--max-batch 64] [--max-wait-ms MS]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import queue
import statistics
import tempfile
import threading
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


class ServingProcess:
    """The inference server in its own process, as deployed: the benchmark's clients (in this process) then
    cost what remote clients cost the server, CPU on this machine but not its Python interpreter lock. The
    bare loop runs in that same server process, on the very model it serves, so both paths share one
    process, one model and one run."""

    def __init__(self, args: argparse.Namespace) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(vars(args), child), daemon=True)
        self._process.start()
        self.port, self.token, self.model_id, self.description = self._pipe.recv()

    def ask(self, *command: Any) -> Any:
        self._pipe.send(command)
        return self._pipe.recv()

    def close(self) -> None:
        self.ask("stop")
        self._process.join(timeout=30)


def _serve(args: dict[str, Any], pipe: Any) -> None:
    """Child process: builds the registry, runtime and HARVEST server, then answers the parent's commands."""
    root = Path(tempfile.mkdtemp(prefix="harvest-inference-bench-"))
    store = LocalObjectStore(root / "objects")
    write_run(store, args["arch"], args["size"], 10)
    settings = InferenceSettings(db_url=f"sqlite:///{root / 'inference.db'}", max_batch=args["max_batch"],
                                 max_wait_ms=args["max_wait_ms"])
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
        server=ServerSettings(metrics_port=0, max_workers=args["clients"] + 4), auth=auth), port=0).start()
    images = bench_images(args["size"])
    loaded.run(images[:args["max_batch"]])
    pipe.send((server.port, token, row.model_id,
               f"model {args['arch']} at {args['size']}px, {loaded.nbytes / 1e6:.1f} MB weights, device "
               f"{loaded.device}, torch threads {torch.get_num_threads()}, served as "
               f"{'eager network' if loaded.served is loaded.embedder else 'frozen TorchScript graph'}"))

    threads = torch.get_num_threads()

    def bare_loop(size: int, seconds: float, parallel: int = 1, module: str = "served") -> float:
        """The bare network on decoded, stacked tensors, in `parallel` loops at once (each with its share
        of the cores as intra-op threads, as the batcher's workers have): the batcher's options, bare.
        `module`: "served" is what the server runs (on CPU the frozen graph), "eager" the plain network."""
        batch, counts = images[:size], [0] * parallel
        network = loaded.served if module == "served" else loaded.network
        started = time.perf_counter()

        def loop(index: int) -> None:
            torch.set_num_threads(max(1, threads // parallel))
            with torch.inference_mode():
                while time.perf_counter() - started < seconds:
                    network(loaded.inputs(batch))
                    counts[index] += len(batch)

        workers = [threading.Thread(target=loop, args=(index,)) for index in range(parallel)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return sum(counts) / (time.perf_counter() - started)

    while True:
        command, *rest = pipe.recv()
        if command == "bare":
            pipe.send(bare_loop(*rest))
        elif command == "cpu":
            pipe.send(time.process_time())
        elif command == "batches":
            batcher = runtime.cache.get(row.model_id).batcher
            pipe.send((batcher.images, batcher.batches, batcher.workers, batcher.max_wait_s))
        else:
            server.stop(0)
            runtime.close()
            pipe.send(None)
            return


def bench_images(size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (256, 3, size, size), dtype=torch.uint8, generator=generator)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="wrn28_2")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-request", type=int, nargs="+", default=[4, 16],
                        help="images per Predict call; one table row per value")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=None,
                        help="batching wait; default: the server's (none on CPU, 4 ms on a GPU)")
    parser.add_argument("--blocks", type=int, default=3, help="alternating bare/gRPC blocks")
    args = parser.parse_args()
    serving = ServingProcess(args)
    pngs = [encode_png(image).numpy().tobytes() for image in bench_images(args.size)]
    endpoints = EndpointSettings(inference_address=f"127.0.0.1:{serving.port}")

    def served_rate(seconds: float, per_request: int, latencies: list[float]) -> float:
        """`clients` concurrent clients, each keeping one Predict of PNG bytes in flight for `seconds`;
        images/s served. One thread drives them all through gRPC futures, so the clients' own cost on
        this machine is what a real client pays (protobuf and the call), not 16 Python threads' switching."""
        stop = time.perf_counter() + seconds
        done: queue.SimpleQueue[tuple[int, float, Any]] = queue.SimpleQueue()
        counted = 0
        with HarvestClient(endpoints, token=serving.token, settings=ClientSettings(max_attempts=1)) as harvest:
            predict = harvest.inference.Predict

            def send(number: int, position: int) -> None:
                inputs = [inference_pb2.PredictInput(image_bytes=pngs[(position + i) % len(pngs)])
                          for i in range(per_request)]
                call = predict.future(inference_pb2.PredictRequest(
                    config=inference_pb2.PredictConfig(model_id=serving.model_id, top_k=1), inputs=inputs))
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
                    positions[number] += per_request
                    send(number, positions[number])
                    in_flight += 1
            return counted / (time.perf_counter() - started)

    # Per request size, after a short warm-up, blocks alternate (bare, gRPC, bare, ...) so load from other
    # processes hits both alike; the table compares the medians. Each bare block runs the shapes below for
    # the same time in all; the mean batch the batcher formed is known from the second block on (the first
    # uses the cap).
    rows = []
    for per_request in args.per_request:
        served_rate(min(2.0, args.seconds), per_request, [])
        images_before, batches_before, workers, wait_s = serving.ask("batches")
        latencies: list[float] = []
        bare_runs, served_runs, bare_per_cpu, served_per_cpu, client_share = [], [], [], [], []
        mean_batch = args.max_batch
        for _ in range(args.blocks):
            # The baseline is the best of: one loop over all cores at the cap and at the batch the batcher
            # forms, and as many single-share loops at once as the batcher has workers; each of the module
            # the server runs and the plain eager network.
            shapes = [(size, parallel, module) for size, parallel in sorted(
                {(args.max_batch, 1), (mean_batch, 1), (mean_batch, workers)}) for module in ("served", "eager")]
            bare = []
            for size, parallel, module in shapes:
                server_cpu = serving.ask("cpu")
                rate = serving.ask("bare", size, args.seconds / len(shapes), parallel, module)
                bare.append(rate)
                if (size, parallel, module) == (mean_batch, workers, "served"):  # the batcher's own: CPU per image
                    cpu = serving.ask("cpu") - server_cpu
                    bare_per_cpu.append(rate * args.seconds / len(shapes) / cpu)
            bare_runs.append(max(bare))
            server_cpu, client_cpu, wall = serving.ask("cpu"), time.process_time(), time.perf_counter()
            served_runs.append(served_rate(args.seconds, per_request, latencies))
            wall = time.perf_counter() - wall
            served_per_cpu.append(served_runs[-1] * wall / (serving.ask("cpu") - server_cpu))
            client_share.append((time.process_time() - client_cpu) / (wall * (os.cpu_count() or 1)))
            images, batches, _, _ = serving.ask("batches")
            mean_batch = max(1, round((images - images_before) / max(1, batches - batches_before)))
        rows.append((per_request, statistics.median(bare_runs), statistics.median(served_runs),
                     *(np.percentile(latencies, [50, 99]) * 1000), mean_batch, statistics.median(bare_per_cpu),
                     statistics.median(served_per_cpu), statistics.median(client_share), bare_runs, served_runs))
    serving.close()
    print(f"\n{serving.description}; {args.clients} concurrent clients; max batch {args.max_batch}, "
          f"max wait {wait_s * 1000:g} ms, {workers} forward worker(s); server in its own process\n")
    print(f"{'path':<42} {'images/s':>9} {'vs bare':>8} {'p50 ms':>7} {'p99 ms':>7} {'batch':>6} "
          f"{'img/CPU-s':>9} {'vs bare':>8} {'clients CPU':>11}")
    for per_request, bare, served, p50, p99, mean_batch, bare_cpu, served_cpu, share, _, _ in rows:
        print(f"{'bare model(batch) loop, decoded tensors':<42} {bare:>9.0f} {1.0:>8.2f} {'-':>7} {'-':>7} {'-':>6} "
              f"{bare_cpu:>9.0f} {1.0:>8.2f} {'-':>11}")
        label = f"gRPC Predict, {per_request} PNG images per call"
        print(f"{label:<42} {served:>9.0f} {served / bare:>8.2f} {p50:>7.1f} {p99:>7.1f} {mean_batch:>6} "
              f"{served_cpu:>9.0f} {served_cpu / bare_cpu:>8.2f} {share:>10.0%}")
    print("\nimg/CPU-s: images per CPU-second of the server process (bare: of the loops at the batcher's own "
          "batch size and worker count), so the clients' CPU on this shared machine (last column: their share "
          "of all cores) is not counted against the server.")
    print("blocks (img/s): " + "; ".join(
        f"{per_request}/call: bare {[round(b) for b in bare_runs]}, gRPC {[round(r) for r in served_runs]}"
        for per_request, *_, bare_runs, served_runs in rows))

if __name__ == "__main__":
    main()
