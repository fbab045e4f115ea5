"""The docker-compose deployment, run without Docker: every process gets exactly the environment
docker-compose.yml gives its container (read through `docker-compose config`), with only the host names
pointed at this machine's real PostgreSQL, Redis and S3 endpoint, its own empty home (containers share
nothing on disk), and the image's commands: `harvest serve` (the CMD, process picked by HARVEST_PROCESS)
and `harvest probe` (the HEALTHCHECK). It proves the wiring a `docker compose up` relies on: one database
per service, tokens signed by labels accepted by every other service through the shared secret alone, the
service-to-service calls, the S3 backend, the Celery worker on Redis, and the refusal of the example secret.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio import Minio

from harvest.client import HarvestClient, paginate
from harvest.common.settings import EXAMPLE_SECRET, PROCESS_NAMES, EndpointSettings
from harvest.v1 import common_pb2, inference_pb2, labels_pb2, scheduler_pb2, storage_pb2
from tests.e2e.conftest import pick_ports
from tests.harness.compose import copy_project, resolved, with_env
from tests.harness.images import make_image
from tests.harness.servers import PostgresServer, S3Server, fresh_database

pytestmark = pytest.mark.e2e

DATABASE_OF = {"labels": "HARVEST_DB_URL", "storage": "HARVEST_STORAGE_DB_URL",
               "scheduler": "HARVEST_SCHEDULER_DB_URL", "inference": "HARVEST_INFERENCE_DB_URL"}


@dataclass
class Deployment:
    env: dict[str, dict[str, str]]
    processes: dict[str, subprocess.Popen[bytes]]
    homes: dict[str, Path]
    endpoints: EndpointSettings
    s3: S3Server
    bucket: str

    def cli(self, process: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """A command inside a process's "container" (`docker compose exec PROCESS harvest …`)."""
        return subprocess.run([sys.executable, "-m", "harvest.cli", *args], env=self.env[process], input=stdin,
                              capture_output=True, text=True, timeout=120)

    def log(self, process: str) -> str:
        return (self.homes[process] / "process.log").read_text(errors="replace")[-3000:]


def container_environment(tmp: Path) -> dict[str, dict[str, str]]:
    """Each HARVEST process's environment as docker-compose resolves it, with a generated secret."""
    project = with_env(copy_project(tmp), HARVEST_AUTH_SECRET=secrets.token_urlsafe(48))
    services = resolved(project)["services"]
    return {name: {k: str(v) for k, v in services[name]["environment"].items()} for name in PROCESS_NAMES}


def localize(env: dict[str, str], process: str, home: Path, databases: dict[str, str], ports: dict[str, int],
             s3: S3Server, bucket: str, redis_url: str) -> dict[str, str]:
    """Point the compose host names at this machine; everything else stays as the compose file says."""
    local = {k: v for k, v in os.environ.items() if not k.startswith("HARVEST_")}
    local |= env
    for service, variable in DATABASE_OF.items():
        expected = f"@postgres:5432/harvest_{service}"
        assert local[variable].endswith(expected), f"{process}: {variable}={local[variable]}"
        local[variable] = databases[service]
    assert local["HARVEST_STORE_S3_ENDPOINT"] == "minio:9000" and local["HARVEST_BROKER_URL"].endswith("@redis:6379/0")
    local.update(HARVEST_STORE_S3_ENDPOINT=s3.endpoint, HARVEST_STORE_S3_BUCKET=bucket, HARVEST_BROKER_URL=redis_url,
                 HARVEST_HOME=str(home), HARVEST_BIND_HOST="127.0.0.1")
    for name, port in ports.items():
        local[f"HARVEST_{name.upper()}_PORT"] = str(port)
        if name != "ui":
            assert local[f"HARVEST_{name.upper()}_ADDRESS"] == f"{name}:{port_in_compose(name)}"
            local[f"HARVEST_{name.upper()}_ADDRESS"] = f"127.0.0.1:{port}"
    for variable in ("HARVEST_TRAINING_CACHE_DIR", "HARVEST_TRAINING_WORK_DIR"):
        if variable in local:  # the worker's volume paths, under /var/lib/harvest in the container
            local[variable] = local[variable].replace("/var/lib/harvest", str(home))
    return local


def port_in_compose(service: str) -> int:
    return {"storage": 50051, "labels": 50052, "scheduler": 50053, "inference": 50054}[service]


def wait_healthy(deployment: Deployment, process: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if deployment.processes[process].poll() is not None:
            raise AssertionError(f"{process} exited {deployment.processes[process].returncode}:\n"
                                 f"{deployment.log(process)}")
        done = deployment.cli(process, "probe", "--timeout", "3")  # the image's HEALTHCHECK command
        if done.returncode == 0:
            return
        last = done.stderr.strip()
        time.sleep(1)
    raise AssertionError(f"{process} never became healthy ({last}):\n{deployment.log(process)}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer, s3_server: S3Server,
               redis_server: object) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("compose")
    compose_env = container_environment(root)
    ports = pick_ports()
    s3_server.reset()
    bucket = f"harvest-deploy-{secrets.token_hex(4)}"
    redis_url = f"{redis_server.url}/3"  # type: ignore[attr-defined]
    with ExitStack() as stack:
        databases = {service: stack.enter_context(fresh_database(postgres_server)) for service in DATABASE_OF}
        homes = {name: root / f"home-{name}" for name in PROCESS_NAMES}
        env = {name: localize(compose_env[name], name, homes[name], databases, ports, s3_server, bucket, redis_url)
               for name in PROCESS_NAMES}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        endpoints = EndpointSettings(**{f"{n}_address": f"127.0.0.1:{p}" for n, p in ports.items() if n != "ui"})
        running = Deployment(env, processes, homes, endpoints, s3_server, bucket)
        try:
            # compose's order: services, then the worker (after the scheduler), then the UI (after all four)
            for group in (("labels", "storage", "scheduler", "inference"), ("worker", "ui")):
                for name in group:
                    homes[name].mkdir()
                    log = open(homes[name] / "process.log", "wb")  # noqa: SIM115 - closed with the process
                    stack.callback(log.close)
                    processes[name] = subprocess.Popen([sys.executable, "-m", "harvest.cli", "serve"], env=env[name],
                                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                for name in group:
                    wait_healthy(running, name)
            yield running
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def test_every_process_reports_healthy_through_the_image_health_check(deployment: Deployment) -> None:
    for name in PROCESS_NAMES:
        done = deployment.cli(name, "probe")
        assert done.returncode == 0, (name, done.stderr)
    assert "pong" in deployment.cli("worker", "probe").stdout  # the worker answered over Redis


def test_each_service_keeps_its_own_database_and_shares_nothing_on_disk(deployment: Deployment) -> None:
    urls = {deployment.env[s][v] for s, v in DATABASE_OF.items()}
    assert len(urls) == 4
    for name, home in deployment.homes.items():
        assert not list(home.glob("*.db")), f"{name} fell back to SQLite in its home"
        assert not (home / "objects").exists(), f"{name} fell back to the local object store"


def test_a_token_from_labels_works_on_every_service_and_uploads_land_in_s3(deployment: Deployment) -> None:
    created = deployment.cli("labels", "admin", "create-user", "alice", "--role", "admin")
    assert created.returncode == 0, created.stderr
    issued = deployment.cli("labels", "admin", "token", "alice", "--ttl-days", "1")
    assert issued.returncode == 0, issued.stderr
    with HarvestClient(deployment.endpoints, token=issued.stdout.strip()) as client:
        project = client.labels.CreateProject(labels_pb2.CreateProjectRequest(
            name="compose check", classes=[labels_pb2.NewClass(name="a"), labels_pb2.NewClass(name="b")])).project
        uploaded = client.upload_images(project.project_id, [(f"img{i}.png", make_image(i)) for i in range(3)])
        assert uploaded.summary.stored == 3, uploaded
        # storage registered the items in labels with its own service token: the shared secret at work
        items = list(paginate(client.labels.ListItems, labels_pb2.ListItemsRequest(
            project_id=project.project_id, page=common_pb2.PageRequest(page_size=100)), "items"))
        assert len(items) == 3
        stats = client.storage.GetDatasetStats(storage_pb2.GetDatasetStatsRequest(project_id=project.project_id))
        assert stats.image_count == 3
        client.scheduler.ListJobs(scheduler_pb2.ListJobsRequest(project_id=project.project_id))
        client.inference.ListModels(inference_pb2.ListModelsRequest(project_id=project.project_id))
    env = deployment.env["storage"]
    s3 = Minio(deployment.s3.endpoint, access_key=env["HARVEST_STORE_S3_ACCESS_KEY"],
               secret_key=env["HARVEST_STORE_S3_SECRET_KEY"], secure=False)
    keys = [o.object_name for o in s3.list_objects(deployment.bucket, prefix=f"datasets/{project.project_id}/",
                                                   recursive=True)]
    assert len([k for k in keys if re.search(r"/[0-9a-f]{64}\.png$", k)]) == 3, keys


def test_a_container_with_the_example_secret_refuses_to_start(deployment: Deployment) -> None:
    env = {**deployment.env["inference"], "HARVEST_AUTH_SECRET": EXAMPLE_SECRET}
    done = subprocess.run([sys.executable, "-m", "harvest.cli", "serve"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "harvest serve inference: refusing to start" in done.stderr
