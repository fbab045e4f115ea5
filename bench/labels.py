"""Load test of the labels service: N concurrent gRPC clients label items for a while against SQLite and
PostgreSQL; prints writes/s and latency percentiles, then checks that every acknowledged write is in the
annotation history (zero lost) and that every item's version equals its number of events + 1.

With `--api stream` each client sends all its writes on one AnnotateStream labeling session instead of one
Annotate call per write (the session opens with one write before the clock starts; it is verified like the
others and counted in "history", not in writes/s).

The server runs in its own process (`python -m harvest.labels`, as deployed; with --server-processes N, as
N replicas on one port, HARVEST_LABELS_PROCESSES); clients run in separate processes too (several asyncio
clients each, one channel per client), so the bench's own GIL does not throttle them. Server CPU per write
counts every replica.
With `--watchers N`, N WatchAnnotations streams (one per annotator, in this process) are open during the
run; afterwards the bench waits until each has received every stored event, and reports how many did.
For PostgreSQL a temporary database is created on 127.0.0.1:5432 (user postgres, trust auth) and dropped.

    .venv/bin/python bench/labels.py [--duration 30] [--clients 32] [--backend both|sqlite|postgresql]
                                     [--server-processes 1 2] [--workers 16] [--watchers 0 2]
                                     [--rates 2000] [--api unary stream] [--no-pin]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from pydantic import SecretStr
from sqlalchemy import func, select

from harvest.common.auth import Role, TokenSigner
from harvest.common.channel import open_channel, wait_until_serving
from harvest.common.settings import AuthSettings
from harvest.labels.classes import ClassSpec
from harvest.labels.db import make_engine, migrate
from harvest.labels.items import NewItemSpec
from harvest.labels.models import Annotation, Item
from harvest.labels.service import LabelsCore
from harvest.labels.states import ImageFormat, SuggestedLabelPolicy
from harvest.v1 import labels_pb2, labels_pb2_grpc

SECRET = "labels-bench-secret-0123456789abcdef0123"
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "autocommit": True}
CLASSES = ("cat", "dog", "bird", "fish")


@dataclass
class Setup:
    project_id: str
    class_ids: list[str]
    tokens: list[str]
    slices: list[list[str]]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its children (the server's replicas) have used so far (Linux
    /proc); a child that exited is counted in its parent's cumulative fields."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    total = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(backend: str, workdir: Path):  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'labels.db'}"
        return
    import psycopg

    name = f"harvest_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**PG_ADMIN) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(**PG_ADMIN) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, clients: int, items_per_client: int) -> Setup:
    """Users, a project and items, written directly through the core (not part of the measurement)."""
    migrate(url)
    engine = make_engine(url)
    auth = AuthSettings(secret=SecretStr(SECRET))
    core = LabelsCore.build(engine, TokenSigner(auth), handoff=None)  # type: ignore[arg-type]
    core.users.create_user("bench-admin", Role.ADMIN)
    admin = core.users.issue_token("bench-admin")[1]
    view = core.projects.create(admin, "bench", "", [ClassSpec(c) for c in CLASSES], None)
    project_id = view.project.id
    tokens, slices = [], []
    for index in range(clients):
        name = f"annotator{index:02d}"
        core.users.create_user(name, Role.ANNOTATOR)
        core.members.add(admin, project_id, name)
        tokens.append(core.users.issue_token(name)[0])
        specs = [NewItemSpec(hashlib.sha256(f"{index}-{i}".encode()).hexdigest(), f"{index}-{i}.png", 32, 32,
                             format=ImageFormat.PNG) for i in range(items_per_client)]
        registered, _ = core.items.register(admin, project_id, specs, SuggestedLabelPolicy.SUGGEST)
        slices.append([r.item_id for r in registered])
    engine.dispose()
    return Setup(project_id, [c.id for c in view.classes], tokens, slices)


def client_process(address: str, setup: Setup, indices: list[int], duration: float, interval: float, api: str,
                   ready: Any, go: Any, results: Any) -> None:
    """Several clients (one channel each) labeling their own items round-robin until time is up.

    The clients of a process are coroutines on grpc.aio channels: per call that costs about half the client
    CPU of a thread per client on blocking stubs, CPU this 2-core machine would otherwise take from the
    server under test. Plain stubs with the bearer token as call metadata, for the same reason (the SDK's
    retrying channel costs more).
    """
    asyncio.run(_clients(address, setup, indices, duration, interval, api, ready, go, results))


#: One write sent and answered: (response or None, the refusal's status code name, its details).
Sent = tuple[labels_pb2.AnnotateResponse | None, str, dict[str, str]]


def _sender(api: str, stub: labels_pb2_grpc.LabelsServiceStub, metadata: tuple[tuple[str, str], ...]) -> Any:
    """(send, close) for one client: `unary`, one Annotate call per write; `stream`, every write of the client
    on one AnnotateStream session (written, then its answer read before the next)."""
    if api == "unary":
        async def send_unary(request: labels_pb2.AnnotateRequest) -> Sent:
            try:
                return await stub.Annotate(request, metadata=metadata, timeout=10), "OK", {}
            except grpc.aio.AioRpcError as exc:
                trailing = {key.removeprefix("harvest-"): value for key, value in exc.trailing_metadata() or ()}
                return None, exc.code().name, trailing

        async def nothing() -> None:
            return None
        return send_unary, nothing

    call = stub.AnnotateStream(metadata=metadata)

    async def send_streamed(request: labels_pb2.AnnotateRequest) -> Sent:
        try:
            await call.write(request)
            reply = await call.read()
        except grpc.aio.AioRpcError as exc:
            return None, exc.code().name, {}
        if reply is grpc.aio.EOF:
            return None, "EOF", {}
        if reply.HasField("written"):
            return reply.written, "OK", {}
        return None, reply.error.code, dict(reply.error.details)

    async def close() -> None:
        await call.done_writing()
        while await call.read() is not grpc.aio.EOF:
            pass
        await call.code()
    return send_streamed, close


async def _clients(address: str, setup: Setup, indices: list[int], duration: float, interval: float, api: str,
                   ready: Any, go: Any, results: Any) -> None:
    """`interval` 0: each client writes again as soon as its last write returned (closed loop: the server's
    saturation throughput). `interval` > 0: each client writes on a fixed schedule, one write every
    `interval` seconds (a given offered load); latency counts from the write's scheduled time, not from
    when it could be sent, so a server that falls behind shows it instead of slowing the clients down
    (no coordinated omission)."""
    # Each client its own connection, as annotators on their own machines have (grpcio otherwise shares one
    # connection among a process's channels to the same address).
    channels = [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in indices]
    stubs = [labels_pb2_grpc.LabelsServiceStub(channel) for channel in channels]
    senders = {}
    versions_of: dict[int, dict[str, int]] = {}
    warmed: dict[int, list[str]] = {}
    for stub, index in zip(stubs, indices, strict=True):  # connect and warm up before the clock starts
        metadata = (("authorization", f"Bearer {setup.tokens[index]}"),)
        await stub.WhoAmI(labels_pb2.WhoAmIRequest(), metadata=metadata)
        senders[index] = _sender(api, stub, metadata)
        versions_of[index] = dict.fromkeys(setup.slices[index], 1)
        warmed[index] = []
        if api == "stream":  # a session opens with its first write: that one is not measured
            item = setup.slices[index][-1]
            response, code, _ = await senders[index][0](labels_pb2.AnnotateRequest(
                project_id=setup.project_id, item_id=item, class_id=setup.class_ids[0], expected_version=1))
            if response is None:
                raise SystemExit(f"client {index}: the session did not open ({code})")
            versions_of[index][item] = response.item.version
            warmed[index].append(response.annotation.annotation_id)
    ready.release()
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    start = time.monotonic()
    stop_at = start + duration

    async def run(index: int) -> None:
        send, close = senders[index]
        items = setup.slices[index]
        versions = versions_of[index]
        acknowledged: list[str] = []
        latencies: list[float] = []
        aborted = failed = 0
        step = 0
        phase = interval * index / len(setup.tokens)  # clients spread evenly over one interval
        while time.monotonic() < stop_at:
            item = items[step % len(items)]
            request = labels_pb2.AnnotateRequest(project_id=setup.project_id, item_id=item,
                                                 class_id=setup.class_ids[step % len(setup.class_ids)],
                                                 expected_version=versions[item])
            if interval:
                scheduled = start + phase + step * interval
                if scheduled >= stop_at:
                    break
                delay = scheduled - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                started = time.perf_counter() - max(0.0, time.monotonic() - scheduled)  # from the schedule
            else:
                started = time.perf_counter()
            step += 1
            response, code, details = await send(request)
            if response is None:
                if code == "ABORTED":
                    aborted += 1
                    versions[item] = int(details["current-version"])
                else:
                    failed += 1
                continue
            latencies.append(time.perf_counter() - started)
            versions[item] = response.item.version
            acknowledged.append(response.annotation.annotation_id)
        await close()
        results.put((acknowledged, latencies, aborted, failed, warmed[index]))

    await asyncio.gather(*(run(index) for index in indices))
    for channel in channels:
        await channel.close()


def start_server(url: str, workdir: Path, workers: int, processes: int,
                 pin: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "HARVEST_HOME": str(workdir), "HARVEST_DB_URL": url, "HARVEST_AUTH_SECRET": SECRET,
           "HARVEST_LABELS_PORT": str(port), "HARVEST_SERVER_METRICS_PORT": str(free_port()),
           "HARVEST_SERVER_MAX_WORKERS": str(workers), "HARVEST_LOG_LEVEL": "WARNING",
           "HARVEST_STORAGE_PORT": str(free_port()), "HARVEST_LABELS_PROCESSES": str(processes),
           "HARVEST_LABELS_PIN_PROCESSES": "true" if pin else "false"}
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([sys.executable, "-m", "harvest.labels"], env=env, stdout=log, stderr=log)
    address = f"127.0.0.1:{port}"
    try:
        wait_until_serving(open_channel(address), timeout_s=60)
    except TimeoutError:
        process.kill()
        raise SystemExit(f"labels server did not start; see {workdir / 'server.log'}") from None
    return process, address


class Watchers:
    """WatchAnnotations streams open during the run, one per annotator (the per-user cap is 2), replaying
    from the project's first event; each counts the events it received."""

    def __init__(self, address: str, setup: Setup, count: int) -> None:
        self.received = [0] * count
        self._channels = [grpc.insecure_channel(address) for _ in range(count)]
        self._calls = []
        self._threads = []
        for index, channel in enumerate(self._channels):
            stub = labels_pb2_grpc.LabelsServiceStub(channel)
            call = stub.WatchAnnotations(
                labels_pb2.WatchAnnotationsRequest(project_id=setup.project_id, from_beginning=True),
                metadata=(("authorization", f"Bearer {setup.tokens[index]}"),))
            self._calls.append(call)
            thread = threading.Thread(target=self._read, args=(index, call), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read(self, index: int, call: Any) -> None:
        try:
            for _ in call:
                self.received[index] += 1
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                print(f"watcher {index} ended: {exc.code().name} {exc.details()}", file=sys.stderr)

    def wait_for(self, events: int, timeout_s: float = 60.0) -> list[int]:
        """Wait until every stream received `events` events (or the timeout); the counts received."""
        deadline = time.monotonic() + timeout_s
        while min(self.received, default=events) < events and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.received)

    def close(self) -> None:
        for call in self._calls:
            call.cancel()
        for thread in self._threads:
            thread.join(timeout=10)
        for channel in self._channels:
            channel.close()


def verify(url: str, project_id: str, acknowledged: list[str]) -> tuple[int, int, int]:
    """(lost acknowledged writes, events in history, items whose version != events + 1)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = set(conn.scalars(select(Annotation.id).where(Annotation.project_id == project_id)))
        per_item = dict(conn.execute(select(Annotation.item_id, func.count()).where(
            Annotation.project_id == project_id).group_by(Annotation.item_id)).all())
        versions = conn.execute(select(Item.id, Item.version).where(Item.project_id == project_id)).all()
    engine.dispose()
    lost = len(set(acknowledged) - stored)
    inconsistent = sum(1 for item_id, version in versions if version != per_item.get(item_id, 0) + 1)
    return lost, len(stored), inconsistent


def run_backend(backend: str, replicas: int, workers: int, watchers: int, rate: float, api: str,
                args: argparse.Namespace) -> dict[str, float]:
    """One row; `rate` 0: closed loop (as fast as the server answers), else that many writes/s offered."""
    interval = args.clients / rate if rate else 0.0
    with tempfile.TemporaryDirectory(prefix="harvest-bench-") as tmp, database(backend, Path(tmp)) as url:
        workdir = Path(tmp)
        setup = prepare(url, args.clients, args.items)
        server, address = start_server(url, workdir, workers, replicas, args.pin)
        try:
            context = multiprocessing.get_context("spawn")
            results, ready, go = context.Queue(), context.Semaphore(0), context.Event()
            groups = [list(range(args.clients))[i::args.processes] for i in range(args.processes)]
            processes = [context.Process(target=client_process,
                                         args=(address, setup, group, args.duration, interval, api, ready, go,
                                               results))
                         for group in groups]
            for process in processes:
                process.start()
            for _ in processes:
                ready.acquire(timeout=120)
            watching = Watchers(address, setup, watchers) if watchers else None
            cpu_before = cpu_seconds(server.pid)
            go.set()
            collected = [results.get(timeout=args.duration + 120) for _ in range(args.clients)]
            server_cpu = cpu_seconds(server.pid) - cpu_before
            for process in processes:
                process.join()
            acknowledged = [a for c in collected for a in c[0]]
            warm_up = [a for c in collected for a in c[4]]  # acknowledged too, before the clock started
            lost, stored, inconsistent = verify(url, setup.project_id, acknowledged + warm_up)
            delivered = -1
            if watching is not None:  # every stored event, acknowledged or not, must reach every watcher
                delivered = min(watching.wait_for(stored))
                watching.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        latencies = sorted(x for c in collected for x in c[1])
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"writes": len(acknowledged), "writes_s": len(acknowledged) / args.duration,
            "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000,
            "aborted": sum(c[2] for c in collected), "failed": sum(c[3] for c in collected),
            "lost": lost, "stored": stored, "inconsistent": inconsistent, "delivered": delivered,
            "server_cpu_ms": server_cpu * 1000 / max(1, len(acknowledged))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of labeling per row")
    parser.add_argument("--clients", type=int, default=32, help="concurrent gRPC clients")
    parser.add_argument("--processes", type=int, default=1,
                        help="client processes the clients are spread over (asyncio clients: one process of 32 "
                             "costs the least CPU on this 2-core machine)")
    parser.add_argument("--server-processes", type=int, nargs="+", default=[1, 2],
                        help="labels server replicas on the port (HARVEST_LABELS_PROCESSES); one row per value")
    parser.add_argument("--workers", type=int, nargs="+", default=[16],
                        help="server threads per replica (HARVEST_SERVER_MAX_WORKERS); one row per value")
    parser.add_argument("--api", nargs="+", choices=("unary", "stream"), default=["unary", "stream"],
                        help="unary: one Annotate call per write; stream: each client's writes on one AnnotateStream "
                             "labeling session; one row per value")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="replicas not pinned to a CPU each (HARVEST_LABELS_PIN_PROCESSES; pinned by default: "
                             "this machine runs nothing else)")
    parser.add_argument("--items", type=int, default=200, help="items per client")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--watchers", type=int, nargs="+", default=[0, 2],
                        help="WatchAnnotations streams open during the run (at most 4); one row per value")
    parser.add_argument("--rates", type=float, nargs="*", default=[2000.0],
                        help="offered loads (writes/s, all clients together) measured besides the closed-loop "
                             "rows: one row per value, backend, replica and thread count, without watchers")
    args = parser.parse_args()
    if max(args.watchers) > min(4, args.clients):
        parser.error("--watchers: at most 4 (the server's cap) and at most --clients (one per annotator)")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print(f"labels bench: {args.clients} clients in {args.processes} processes, {args.duration:.0f} s per row, "
          f"{os.cpu_count()} CPUs, replicas {'pinned to a CPU each' if args.pin else 'not pinned'}")
    header = (f"{'backend':<11} {'api':<6} {'procs':>5} {'threads':>7} {'offered':>8} {'watchers':>8} {'writes':>8} "
              f"{'writes/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'aborted':>8} {'failed':>7} {'lost':>5} {'history':>8} "
              f"{'bad ver':>8} {'srv cpu ms/w':>12} {'watched':>8}")
    print(header)
    exit_code = 0
    rows = [(b, a, p, w, n, 0.0) for b in backends for a in args.api for p in args.server_processes
            for w in args.workers for n in args.watchers]
    rows += [(b, a, p, w, 0, rate) for b in backends for a in args.api for p in args.server_processes
             for w in args.workers for rate in args.rates]
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    for backend, api, processes, workers, watchers, rate in rows:
        r = run_backend(backend, processes, workers, watchers, rate, api, args)
        watched = "-" if r["delivered"] < 0 else f"{r['delivered']:.0f}"
        offered = f"{rate:.0f}/s" if rate else "max"
        print(f"{backend:<11} {api:<6} {processes:>5} {workers:>7} {offered:>8} {watchers:>8} {r['writes']:>8.0f} "
              f"{r['writes_s']:>9.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['aborted']:>8.0f} "
              f"{r['failed']:>7.0f} {r['lost']:>5.0f} {r['stored']:>8.0f} {r['inconsistent']:>8.0f} "
              f"{r['server_cpu_ms']:>12.2f} {watched:>8}", flush=True)
        if r["lost"] or r["inconsistent"] or (r["delivered"] >= 0 and r["delivered"] != r["stored"]):
            exit_code = 1
    print("offered: 'max' = closed loop (each client writes again when its write returns: saturation); N/s = "
          "each client on a fixed schedule, latency from the scheduled time")
    print("watched: events the slowest watcher received by the end (must equal history); history: every event "
          f"stored, with the stream rows' {args.clients} session-opening writes")
    print("target on PostgreSQL: >= 2000 writes/s, p99 < 25 ms; lost must be 0")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
