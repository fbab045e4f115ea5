"""A whole scheduler for integration tests: real labels server (membership, tokens), the scheduler's gRPC
server in this process, a real Celery worker process (`harvest worker`, with beat) on a real Redis, and the
private Slurm cluster as the backend. Training jobs read a small real snapshot from a local object store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import torch

from harvest.client import HarvestClient
from harvest.common.auth import Role
from harvest.common.objectstore import LocalObjectStore
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import (
    BrokerSettings,
    ClientSettings,
    EndpointSettings,
    ObjectStoreSettings,
    ServerSettings,
)
from harvest.scheduler.celery_app import create_app
from harvest.scheduler.dispatch import CeleryDispatcher
from harvest.scheduler.service import SchedulerService, build_scheduler
from harvest.scheduler.servicer import register_scheduler
from harvest.scheduler.settings import JobEnvSettings, SchedulerConfig, SchedulerSettings, SlurmSettings
from harvest.training.datasets import ssl_splits, synthetic_shapes, write_snapshot
from harvest.v1 import scheduler_pb2
from tests.harness.servers import free_port
from tests.harness.slurm import SlurmCluster
from tests.integration.labels_server import SECRET, LabelsUnderTest, running_labels

#: A training run that takes a second or two of compute on these cores (process start-up dominates).
TINY = {"algorithm.uratio": "2", "data.resolution": "16", "model.width": "8", "train.flush_seconds": "0",
        "train.log_every": "5", "train.eval_every": "1000", "dist.cpu_threads": "1", "train.checkpoint_every": "10"}


@dataclass
class Stack:
    root: Path
    labels: LabelsUnderTest
    service: SchedulerService
    server: HarvestServer
    cluster: SlurmCluster
    broker_url: str
    project_id: str
    snapshot_id: str
    token: str
    worker_env: dict[str, str]
    worker: subprocess.Popen[bytes] | None = None
    workers_started: int = 0
    clients: list[HarvestClient] = field(default_factory=list)
    #: Process groups of every worker started: a worker killed by a fault leaves its pool children behind.
    worker_groups: list[int] = field(default_factory=list)

    @property
    def store(self) -> LocalObjectStore:
        return LocalObjectStore(self.root / "store")

    def client(self, token: str | None = None) -> HarvestClient:
        endpoints = EndpointSettings(scheduler_address=f"127.0.0.1:{self.server.port}",
                                     labels_address=self.labels.address)
        client = HarvestClient(endpoints, token=token or self.token, settings=ClientSettings(max_attempts=1,
                                                                                             timeout_s=60))
        self.clients.append(client)
        return client

    def submit(self, steps: int, nodes: int = 2, **extra: Any) -> scheduler_pb2.Job:
        request = scheduler_pb2.SubmitJobRequest(
            project_id=self.project_id, snapshot_id=self.snapshot_id, preset="quick", steps=steps,
            global_batch_size=8, overrides=TINY, backend=scheduler_pb2.BACKEND_SLURM,
            resources={"nodes": nodes, "cpus_per_node": 2, "time_limit_s": 900}, **extra)
        return self.client().scheduler.SubmitJob(request).job

    def job(self, job_id: str) -> scheduler_pb2.Job:
        return self.client().scheduler.GetJob(scheduler_pb2.GetJobRequest(job_id=job_id)).job

    def wait(self, job_id: str, predicate: Any, timeout: float = 120, what: str = "") -> scheduler_pb2.Job:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if predicate(job):
                return job
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} never {what}: {job}\n{self.worker_log()}")

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.root / "worker.log", "ab")  # noqa: SIM115 - the process owns it
        self.worker = subprocess.Popen([sys.executable, "-m", "harvest.cli", "worker"],
                                       env={**self.worker_env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.worker_groups.append(self.worker.pid)
        self.workers_started += 1
        return self.worker

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
        self.worker = None

    def reap_workers(self) -> None:
        """Whatever is left of every worker's process group (e.g. the pool children of a worker a fault
        killed) is killed, so no worker outlives its test."""
        for group in self.worker_groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def worker_log(self) -> str:
        path = self.root / "worker.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no worker log)"

    def squeue_names(self) -> list[str]:
        out = self.cluster.run(["squeue", "--states=all", "-h", "-o", "%j"]).stdout
        return [name for name in out.split() if name.startswith("harvest-")]


def _snapshot(store: LocalObjectStore, project_id: str) -> str:
    images, labels = synthetic_shapes(24, num_classes=4, size=16)
    validation = torch.zeros(len(labels), dtype=torch.bool)
    validation[::6] = True
    manifest, _ = write_snapshot(store, images, labels.tolist(), ssl_splits(labels, 4, validation, 0),
                                 ["n", "e", "s", "w"], project=project_id)
    return manifest.snapshot_id


@contextmanager
def scheduler_stack(root: Path, cluster: SlurmCluster, broker_url: str, **settings: Any) -> Iterator[Stack]:
    with ExitStack() as stack:
        labels = stack.enter_context(running_labels(f"sqlite:///{root / 'labels.db'}"))
        token = labels.user("ana", Role.EXPERT)
        project, _ = labels.project(token, "scheduler-tests")
        store_root, log_dir = root / "store", root / "logs"
        snapshot = _snapshot(LocalObjectStore(store_root), project.project_id)
        job_env = {"HARVEST_TRAINING_CACHE_DIR": str(root / "cache"), "HARVEST_TRAINING_WORK_DIR": str(root / "work"),
                   "HARVEST_LOG_FORMAT": "text"}
        scheduler_settings = {"db_url": f"sqlite:///{root / 'scheduler.db'}", "backends": ["slurm"],
                              "redispatch_after_s": 2.0, "submit_lease_s": 3.0, "watch_interval_s": 0.2,
                              "max_active_per_project": 100, **settings}
        config = SchedulerConfig(scheduler=SchedulerSettings(**scheduler_settings),
                                 job=JobEnvSettings(log_dir=log_dir, env=job_env), slurm=SlurmSettings())
        inference = f"127.0.0.1:{free_port()}"  # nothing listens: registration is retried, the job still succeeds
        endpoints = EndpointSettings(labels_address=labels.address, inference_address=inference)
        dispatcher = CeleryDispatcher(create_app(BrokerSettings(url=broker_url), home=root))
        os.environ["SLURM_CONF"] = cluster.env["SLURM_CONF"]  # the in-process launcher runs scontrol too
        service = build_scheduler(root, dispatcher, config=config,
                                  store_settings=ObjectStoreSettings(local_root=store_root), auth=labels.auth,
                                  endpoints=endpoints)
        stack.callback(service.close)
        server = HarvestServer("scheduler", register_scheduler(service.core),
                               ServerConfig(server=ServerSettings(metrics_port=0), auth=labels.auth), port=0).start()
        stack.callback(server.stop, 0)
        worker_env = {**cluster.env, "HARVEST_HOME": str(root), "HARVEST_BROKER_URL": broker_url,
                      "HARVEST_BROKER_POLL_INTERVAL_S": "1", "HARVEST_AUTH_SECRET": SECRET,
                      "HARVEST_STORE_LOCAL_ROOT": str(store_root), "HARVEST_JOB_LOG_DIR": str(log_dir),
                      "HARVEST_JOB_ENV": json.dumps(job_env), "HARVEST_INFERENCE_ADDRESS": inference,
                      "HARVEST_LABELS_ADDRESS": labels.address, "HARVEST_LOG_FORMAT": "text",
                      **{f"HARVEST_SCHEDULER_{k.upper()}": json.dumps(v) if isinstance(v, list) else str(v)
                         for k, v in scheduler_settings.items()}}
        result = Stack(root, labels, service, server, cluster, broker_url, project.project_id, snapshot, token,
                       worker_env)
        stack.callback(result.reap_workers)  # after stop_worker (callbacks run last first)
        stack.callback(result.stop_worker)
        try:
            yield result
        finally:
            for client in result.clients:
                client.close()
            mine = [line.split()[0] for line in cluster.run(["squeue", "-h", "-o", "%i %j"]).stdout.splitlines()
                    if line.split()[1:] and line.split()[1].startswith("harvest-")
                    and _ours(line.split()[1], service)]
            if mine:
                cluster.run(["scancel", *mine], check=False)


def _ours(name: str, service: SchedulerService) -> bool:
    try:
        service.core.jobs.get(name.removeprefix("harvest-"))
    except Exception:  # noqa: BLE001 - another test session's job
        return False
    return True


def rpc_code(call: Any) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code()
    raise AssertionError("the call succeeded")
