"""A real labels server for the labels integration tests: migrated database (SQLite or PostgreSQL), the
whole core, a gRPC server on a free port, an admin, and helpers to make users and their clients."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pydantic import SecretStr

from harvest.client import HarvestClient
from harvest.common.auth import Role, TokenSigner
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import AuthSettings, ClientSettings, EndpointSettings, ServerSettings
from harvest.labels.db import make_engine, migrate
from harvest.labels.service import LabelsCore
from harvest.labels.servicer import register_labels
from harvest.labels.settings import LabelsSettings
from harvest.labels.snapshots_freeze import StorageHandoff
from harvest.labels.storage_handoff import GrpcStorageHandoff
from harvest.v1 import common_pb2, labels_pb2
from tests.harness.servers import free_port

SECRET = "labels-rpc-test-secret-0123456789abcdef"


def image_id(name: str) -> str:
    """A stable, valid image id (SHA-256 hex) for a test image name."""
    return hashlib.sha256(name.encode()).hexdigest()


@dataclass
class LabelsUnderTest:
    server: HarvestServer
    core: LabelsCore
    auth: AuthSettings
    admin_token: str
    clients: list[HarvestClient] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def client(self, token: str | None) -> HarvestClient:
        endpoints = EndpointSettings(labels_address=self.address)
        client = HarvestClient(endpoints, token=token, settings=ClientSettings(max_attempts=1))
        self.clients.append(client)
        return client

    def user(self, username: str, role: Role = Role.ANNOTATOR) -> str:
        """Create a user and return a token for them."""
        self.core.users.create_user(username, role)
        token, _ = self.core.users.issue_token(username)
        return token

    def project(self, token: str, name: str, classes: tuple[str, ...] = ("cat", "dog", "bird"),
                required: int = 0, images: int = 0) -> tuple[labels_pb2.Project, list[str]]:
        """Create a project (as `token`'s expert) and register `images` items; returns it and the item ids."""
        client = self.client(token)
        project = client.labels.CreateProject(labels_pb2.CreateProjectRequest(
            name=name, classes=[labels_pb2.NewClass(name=c) for c in classes],
            settings=labels_pb2.ProjectSettings(required_annotations=required))).project
        ids: list[str] = []
        if images:
            registered = client.labels.RegisterItems(labels_pb2.RegisterItemsRequest(
                project_id=project.project_id,
                items=[labels_pb2.NewItem(image_id=image_id(f"{name}-{i}"), original_name=f"img{i:04d}.png",
                                          width=32, height=24, format=common_pb2.IMAGE_FORMAT_PNG)
                       for i in range(images)]))
            ids = [r.item_id for r in registered.items]
        return project, ids

    def member(self, project_id: str, username: str) -> None:
        self.client(self.admin_token).labels.AddMember(
            labels_pb2.AddMemberRequest(project_id=project_id, username=username))


@contextmanager
def running_labels(database_url: str, handoff: StorageHandoff | None = None, settings: LabelsSettings | None = None,
                   idle_ping_s: float | None = None) -> Iterator[LabelsUnderTest]:
    """The server with `settings` (default: WatchAnnotations polling every 50 ms, so tests wait little);
    `idle_ping_s`: the engine's idle-connection check (default: the service's)."""
    migrate(database_url)
    engine = make_engine(database_url) if idle_ping_s is None else make_engine(database_url, idle_ping_s=idle_ping_s)
    auth = AuthSettings(secret=SecretStr(SECRET))
    # Nothing listens on this port: freezing reaches no storage unless a test passes its own handoff.
    handoff = handoff or GrpcStorageHandoff(EndpointSettings(storage_address=f"127.0.0.1:{free_port()}"),
                                            client=ClientSettings(max_attempts=1, timeout_s=2))
    settings = settings or LabelsSettings(watch_interval_s=0.05)
    core = LabelsCore.build(engine, TokenSigner(auth), handoff, settings)
    signer = core.users.verifier(auth)
    config = ServerConfig(server=ServerSettings(metrics_port=0), auth=auth)
    server = HarvestServer("labels", register_labels(core), config, port=0, signer=signer, asyncio=True).start()
    core.users.create_user("root", Role.ADMIN)
    admin_token, _ = core.users.issue_token("root")
    under_test = LabelsUnderTest(server, core, auth, admin_token)
    try:
        yield under_test
    finally:
        for client in under_test.clients:
            client.close()
        server.stop(0)
        engine.dispose()
