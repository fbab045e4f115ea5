"""A real storage service (gRPC, port 0) over the local backend or the S3 server from the harness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from harvest.client import HarvestClient
from harvest.common.auth import Role, TokenSigner
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import AuthSettings, EndpointSettings, ObjectStoreSettings, ServerSettings, StorageSettings
from harvest.storage.service import StorageService, build_storage
from harvest.storage.servicer import register_storage

SECRET = "storage-test-secret-0123456789abcdefgh"


@dataclass
class RunningStorage:
    service: StorageService
    server: HarvestServer
    token: str
    home: Path

    def client(self) -> HarvestClient:
        return HarvestClient(EndpointSettings(storage_address=f"127.0.0.1:{self.server.port}"), token=self.token)


def start_storage(home: Path, store: ObjectStoreSettings, storage: StorageSettings | None = None) -> RunningStorage:
    auth = AuthSettings(secret=SecretStr(SECRET))
    service = build_storage(home, store_settings=store, storage_settings=storage or StorageSettings(),
                            check_membership=False)
    config = ServerConfig(server=ServerSettings(metrics_port=0, max_workers=32), auth=auth)
    server = HarvestServer("storage", register_storage(service.servicer), config, port=0).start()
    token, _ = TokenSigner(auth).issue(user_id="u1", username="ada", role=Role.EXPERT)
    return RunningStorage(service, server, token, home)


def store_settings(request: pytest.FixtureRequest, home: Path) -> ObjectStoreSettings:
    if request.param == "local":
        return ObjectStoreSettings(backend="local", local_root=home / "objects")
    server, bucket = request.getfixturevalue("s3_bucket")
    return ObjectStoreSettings(backend="s3", s3_endpoint=server.endpoint, s3_bucket=bucket,
                               s3_access_key=SecretStr("test"), s3_secret_key=SecretStr("test"))


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningStorage]:
    running = start_storage(tmp_path, store_settings(request, tmp_path))
    yield running
    running.server.stop(0)
    running.service.close()
