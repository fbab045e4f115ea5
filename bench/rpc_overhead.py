"""What the shared server bootstrap costs per call: HARVEST's server (auth + role policy + error mapping
+ metrics + logs, through the SDK channel with retries and deadline) vs a bare grpcio server and channel
serving the same method, measured in the same run. Each server runs in its own process, as deployed.

    .venv/bin/python bench/rpc_overhead.py [--calls 3000] [--clients 8]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
from concurrent import futures

import grpc
from pydantic import SecretStr

from harvest.common.auth import Role, TokenSigner
from harvest.common.channel import open_channel
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import AuthSettings, ServerSettings
from harvest.v1 import labels_pb2

LABELS = labels_pb2.DESCRIPTOR.services_by_name["LabelsService"]
METHOD = LABELS.methods_by_name["WhoAmI"]
PATH = f"/{LABELS.full_name}/{METHOD.name}"


def _register(server: grpc.Server) -> list[str]:
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: b"")
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(LABELS.full_name, {METHOD.name: handler})])
    return [LABELS.full_name]


def _measure(channel: grpc.Channel, calls: int, clients: int,
             metadata: tuple[tuple[str, str], ...] = ()) -> tuple[float, list[float]]:
    call = channel.unary_unary(PATH)

    def stub(request: bytes, timeout: float) -> bytes:
        return call(request, timeout=timeout, metadata=metadata)  # type: ignore[no-any-return]

    for _ in range(200):  # warm-up
        stub(b"", timeout=10)
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = calls // clients

    def worker() -> None:
        local = []
        for _ in range(per_client):
            started = time.perf_counter()
            stub(b"", timeout=10)
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies


SECRET = "bench-secret-0123456789abcdefghijklmnop"


def _serve(kind: str, ports: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    if kind == "bare":
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        _register(server)
        ports.put(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        stop.wait()
        server.stop(0)
        return
    auth = AuthSettings(secret=SecretStr(SECRET))
    ours = HarvestServer("labels", _register, ServerConfig(server=ServerSettings(metrics_port=0), auth=auth),
                         port=0).start()
    ports.put(ours.port)
    stop.wait()
    ours.stop(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    ports = {}
    processes = []
    for kind in ("bare", "harvest"):
        queue = context.Queue()
        process = context.Process(target=_serve, args=(kind, queue, stop), daemon=True)
        process.start()
        processes.append(process)
        ports[kind] = queue.get(timeout=60)
    token, _ = TokenSigner(AuthSettings(secret=SecretStr(SECRET))).issue(user_id="u", username="bench",
                                                                         role=Role.ADMIN)
    rows = []
    with grpc.insecure_channel(f"127.0.0.1:{ports['bare']}") as channel:
        rows.append(("bare grpcio server + channel", *_measure(channel, args.calls, args.clients)))
    with grpc.insecure_channel(f"127.0.0.1:{ports['harvest']}") as channel:
        metadata = (("authorization", f"Bearer {token}"),)
        rows.append(("HARVEST server + bare channel", *_measure(channel, args.calls, args.clients, metadata)))
    with open_channel(f"127.0.0.1:{ports['harvest']}", token=token) as channel:
        rows.append(("HARVEST server + SDK channel", *_measure(channel, args.calls, args.clients)))
    stop.set()
    for process in processes:
        process.join(10)

    baseline = rows[0][1]
    print(f"unary RPC, server in its own process, {args.clients} concurrent clients, {args.calls} calls per setup")
    print(f"{'setup':34s} {'calls/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'vs bare':>8s}")
    for name, rate, latencies in rows:
        ordered = sorted(latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
        print(f"{name:34s} {rate:9.0f} {p50:8.2f} {p99:8.2f} {rate / baseline:7.2f}x")


if __name__ == "__main__":
    main()
