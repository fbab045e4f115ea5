"""Storage and labels together, both real gRPC servers: storage asks labels who may see a project,
registers what it stores as items, and labels freezes a snapshot into storage — DESIGN steps 1 to 3."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from harvest.client import HarvestClient, paginate
from harvest.common import snapshots
from harvest.common.auth import Role
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import ClientSettings, EndpointSettings, ObjectStoreSettings, ServerSettings
from harvest.labels.storage_handoff import GrpcStorageHandoff
from harvest.storage.service import StorageService, build_storage
from harvest.storage.servicer import register_storage
from harvest.v1 import common_pb2, labels_pb2, storage_pb2
from tests.harness.images import make_image
from tests.harness.servers import free_port
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration


@dataclass
class Platform:
    labels: LabelsUnderTest
    storage: StorageService
    storage_server: HarvestServer

    def client(self, token: str) -> HarvestClient:
        endpoints = EndpointSettings(labels_address=self.labels.address,
                                     storage_address=f"127.0.0.1:{self.storage_server.port}")
        return HarvestClient(endpoints, token=token, settings=ClientSettings(max_attempts=1))


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    storage_port = free_port()
    handoff = GrpcStorageHandoff(EndpointSettings(storage_address=f"127.0.0.1:{storage_port}"))
    with running_labels(f"sqlite:///{tmp_path / 'labels.db'}", handoff) as labels:
        service = build_storage(tmp_path, store_settings=ObjectStoreSettings(local_root=tmp_path / "objects"),
                                endpoints=EndpointSettings(labels_address=labels.address))
        config = ServerConfig(server=ServerSettings(metrics_port=0), auth=labels.auth)
        server = HarvestServer("storage", register_storage(service.servicer), config, port=storage_port).start()
        try:
            yield Platform(labels, service, server)
        finally:
            server.stop(0)
            service.close()


def folder(classes: tuple[str, ...], per_class: int, unlabeled: int) -> list[tuple[str, bytes]]:
    files = [(f"{c}/{i}.png", make_image(100 * j + i)) for j, c in enumerate(classes) for i in range(per_class)]
    return files + [(f"loose-{i}.png", make_image(900 + i)) for i in range(unlabeled)]


def test_upload_registers_items_with_suggested_labels(platform: Platform) -> None:
    expert = platform.labels.user("eve", Role.EXPERT)
    project, _ = platform.labels.project(expert, "birds", classes=("owl", "wren"))
    with platform.client(expert) as client:
        response = client.upload_images(project.project_id, folder(("owl", "wren"), 3, 2))
        assert response.summary.stored == 8
        assert all(r.item_id for r in response.results), "every stored image became an item"
        items = list(paginate(client.labels.ListItems, labels_pb2.ListItemsRequest(project_id=project.project_id),
                              "items"))
        images = list(paginate(client.storage.ListImages,
                               storage_pb2.ListImagesRequest(project_id=project.project_id), "images"))
    assert len(items) == 8
    assert sorted(i.suggested_label for i in items if i.suggested_label) == ["owl"] * 3 + ["wren"] * 3
    assert {i.object_key for i in items} == {r.object_key for r in images}


def test_storage_enforces_project_membership_from_labels(platform: Platform) -> None:
    expert = platform.labels.user("eve", Role.EXPERT)
    annotator = platform.labels.user("ann", Role.ANNOTATOR)
    project, _ = platform.labels.project(expert, "rocks", classes=("basalt",))
    with platform.client(annotator) as outsider:
        for call in (lambda: outsider.storage.ListImages(storage_pb2.ListImagesRequest(project_id=project.project_id)),
                     lambda: outsider.upload_images(project.project_id, [("a.png", make_image(1))]),
                     lambda: outsider.storage.GetDatasetStats(
                         storage_pb2.GetDatasetStatsRequest(project_id=project.project_id))):
            with pytest.raises(grpc.RpcError) as exc:
                call()
            assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "not a member" in exc.value.details()
    assert list(platform.storage.store.list("datasets/")) == []
    platform.labels.member(project.project_id, "ann")
    with platform.client(annotator) as member:
        assert member.upload_images(project.project_id, [("a.png", make_image(1))]).summary.stored == 1


def test_labeled_project_freezes_into_a_storage_snapshot(platform: Platform) -> None:
    expert = platform.labels.user("eve", Role.EXPERT)
    project, _ = platform.labels.project(expert, "digits", classes=("zero", "one"))
    with platform.client(expert) as client:
        client.upload_images(project.project_id, folder(("zero", "one"), 5, 4))
        items = list(paginate(client.labels.ListItems, labels_pb2.ListItemsRequest(project_id=project.project_id),
                              "items"))
        class_ids = {c.name: c.class_id for c in project.classes}
        for name in ("zero", "one"):
            chosen = [i for i in items if i.suggested_label == name]
            client.labels.BatchAnnotate(labels_pb2.BatchAnnotateRequest(
                project_id=project.project_id, class_id=class_ids[name],
                items=[labels_pb2.ItemVersion(item_id=i.item_id, expected_version=i.version) for i in chosen]))
        frozen = client.labels.FreezeSnapshot(labels_pb2.FreezeSnapshotRequest(
            project_id=project.project_id, options=common_pb2.FreezeOptions(validation_fraction=0.2, seed=7))).snapshot
        stored = client.storage.GetSnapshot(storage_pb2.GetSnapshotRequest(snapshot_id=frozen.snapshot_id)).snapshot
    assert stored.snapshot_id == frozen.snapshot_id
    assert stored.labeled_count + stored.validation_count == 10 and stored.unlabeled_count == 4
    manifest = snapshots.loads(platform.storage.store.get(stored.manifest_key))
    assert set(manifest.classes) == {"zero", "one"}
    assert all(platform.storage.store.exists(e.key) for e in manifest.entries)
    assert {e.label for e in manifest.split("validation")} <= {"zero", "one"} and manifest.split("validation")
