"""Labels, storage and inference as real gRPC servers on loopback, sharing one local object store: the
platform the active-learning and noisy-label loops run against (training runs as a subprocess)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harvest.common.objectstore import LocalObjectStore
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import EndpointSettings, ObjectStoreSettings, ServerSettings
from harvest.inference.service import InferenceService, build_inference
from harvest.inference.servicer import register_inference
from harvest.inference.settings import InferenceSettings
from harvest.labels.storage_handoff import GrpcStorageHandoff
from harvest.storage.service import StorageService, build_storage
from harvest.storage.servicer import register_storage
from tests.harness.servers import free_port
from tests.integration.labels_server import LabelsUnderTest, running_labels


@dataclass
class Platform:
    root: Path
    labels: LabelsUnderTest
    storage: StorageService
    inference: InferenceService
    addresses: EndpointSettings
    store: LocalObjectStore

    def train(self, snapshot_id: str, job_id: str, overrides: list[str], timeout_s: int = 600) -> None:
        """`python -m harvest.training` on the `quick` preset against the shared object store."""
        env = {**os.environ, "HARVEST_STORE_BACKEND": "local", "HARVEST_STORE_LOCAL_ROOT": str(self.root / "objects"),
               "HARVEST_TRAINING_CACHE_DIR": str(self.root / "cache"),
               "HARVEST_TRAINING_WORK_DIR": str(self.root / "work"), "HARVEST_LOG_FORMAT": "text"}
        sets = [arg for o in overrides for arg in ("--set", o)]
        done = subprocess.run([sys.executable, "-m", "harvest.training", "--snapshot", snapshot_id, "--config",
                               "quick", "--run-dir", f"runs/{job_id}", *sets], env=env, capture_output=True,
                              text=True, timeout=timeout_s)
        assert done.returncode == 0, done.stderr[-3000:]


@contextlib.contextmanager
def running_platform(root: Path) -> Iterator[Platform]:
    storage_port = free_port()
    handoff = GrpcStorageHandoff(EndpointSettings(storage_address=f"127.0.0.1:{storage_port}"))
    store_settings = ObjectStoreSettings(local_root=root / "objects")
    with running_labels(f"sqlite:///{root / 'labels.db'}", handoff) as labels:
        peers = EndpointSettings(labels_address=labels.address, storage_address=f"127.0.0.1:{storage_port}")
        storage = build_storage(root, store_settings=store_settings, endpoints=peers)
        config = ServerConfig(server=ServerSettings(metrics_port=0, max_workers=32), auth=labels.auth)
        storage_server = HarvestServer("storage", register_storage(storage.servicer), config,
                                       port=storage_port).start()
        inference = build_inference(root, settings=InferenceSettings(db_url=f"sqlite:///{root / 'inference.db'}"),
                                    store_settings=store_settings, endpoints=peers)
        inference_server = HarvestServer("inference", register_inference(inference.core), config, port=0).start()
        addresses = EndpointSettings(labels_address=labels.address, storage_address=f"127.0.0.1:{storage_port}",
                                     inference_address=f"127.0.0.1:{inference_server.port}")
        try:
            yield Platform(root, labels, storage, inference, addresses, LocalObjectStore(root / "objects"))
        finally:
            inference_server.stop(0)
            inference.close()
            storage_server.stop(0)
            storage.close()
