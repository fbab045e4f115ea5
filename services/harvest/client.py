"""The typed Python SDK over gRPC: what the UI, the CLI and automated clients use.

One `HarvestClient` holds a channel per service (opened on first use) with the caller's token,
deadlines and retries on UNAVAILABLE; stubs are exposed as attributes, and helpers turn paginated and
streamed calls into plain iterators. Each service issue adds typed convenience methods here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc

from harvest.common.channel import check_health, open_channel
from harvest.common.home import ADMIN_TOKEN_FILE
from harvest.common.settings import SERVICE_NAMES, ClientSettings, EndpointSettings, HomeSettings, TLSSettings
from harvest.v1 import (
    inference_pb2_grpc,
    labels_pb2_grpc,
    scheduler_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)

T = TypeVar("T")

_STUBS: dict[str, Callable[[grpc.Channel], Any]] = {
    "storage": storage_pb2_grpc.StorageServiceStub,
    "labels": labels_pb2_grpc.LabelsServiceStub,
    "scheduler": scheduler_pb2_grpc.SchedulerServiceStub,
    "inference": inference_pb2_grpc.InferenceServiceStub,
}


class HarvestClient:
    """Connections to every HARVEST service for one user (one token)."""

    def __init__(self, endpoints: EndpointSettings | None = None, *, token: str | None = None,
                 tls: TLSSettings | None = None, settings: ClientSettings | None = None) -> None:
        self.endpoints = endpoints or EndpointSettings()
        self.token = token
        self._tls = tls or TLSSettings()
        self._settings = settings or ClientSettings()
        self._channels: dict[str, grpc.Channel] = {}
        self._stubs: dict[str, Any] = {}

    @classmethod
    def from_settings(cls, token: str | None = None) -> HarvestClient:
        """Client from `HARVEST_*` settings; the token falls back to `$HARVEST_HOME/admin-token` (local use)."""
        settings = ClientSettings()
        if token is None and settings.token is not None:
            token = settings.token.get_secret_value()
        if token is None:
            path = Path(HomeSettings().home) / ADMIN_TOKEN_FILE
            if path.is_file():
                token = path.read_text().strip()
        return cls(token=token, settings=settings)

    def channel(self, service: str) -> grpc.Channel:
        if service not in self._channels:
            self._channels[service] = open_channel(self.endpoints.address(service), token=self.token,
                                                   tls=self._tls, client=self._settings)
        return self._channels[service]

    def _stub(self, service: str) -> Any:
        if service not in self._stubs:
            self._stubs[service] = _STUBS[service](self.channel(service))
        return self._stubs[service]

    @property
    def storage(self) -> storage_pb2_grpc.StorageServiceStub:
        return self._stub("storage")

    @property
    def labels(self) -> labels_pb2_grpc.LabelsServiceStub:
        return self._stub("labels")

    @property
    def scheduler(self) -> scheduler_pb2_grpc.SchedulerServiceStub:
        return self._stub("scheduler")

    @property
    def inference(self) -> inference_pb2_grpc.InferenceServiceStub:
        return self._stub("inference")

    def upload_images(self, project_id: str, files: Iterable[tuple[str, bytes | Path]], *,
                      policy: int = 0, skip_item_registration: bool = False, upload_id: str = "",
                      timeout_s: float = 3600.0) -> storage_pb2.UploadImagesResponse:
        """Stream files (images, zip/tar archives, `class/name.jpg` ImageFolder names) in one upload."""
        return self.storage.UploadImages(
            upload_requests(project_id, files, policy=policy, skip_item_registration=skip_item_registration,
                            upload_id=upload_id), timeout=timeout_s)

    def health(self, timeout_s: float = 2.0) -> dict[str, str]:
        """Health status of every service (no token needed); UNAVAILABLE when it does not answer."""
        result = {}
        for service in SERVICE_NAMES:
            try:
                result[service] = check_health(self.channel(service), timeout_s=timeout_s)
            except grpc.RpcError as exc:
                result[service] = exc.code().name
        return result

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
        self._stubs.clear()

    def __enter__(self) -> HarvestClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def paginate(call: Callable[..., Any], request: Any, items_field: str, **kwargs: Any) -> Iterator[Any]:
    """Iterate over every item of a paginated List… call, following `page.next_page_token`."""
    while True:
        response = call(request, **kwargs)
        yield from getattr(response, items_field)
        token = response.page.next_page_token
        if not token:
            return
        request.page.page_token = token


def upload_requests(project_id: str, files: Iterable[tuple[str, bytes | Path]], *, policy: int = 0,
                    skip_item_registration: bool = False, upload_id: str = "",
                    chunk_size: int = 1024 * 1024) -> Iterator[storage_pb2.UploadImagesRequest]:
    """The UploadImages request stream: metadata, then for each file a header and its ≤1 MiB chunks.

    Each file's SHA-256 is sent so the server verifies it end to end; files given as paths are streamed
    from disk (two passes: hash, then send) instead of being loaded whole.
    """
    yield storage_pb2.UploadImagesRequest(metadata=storage_pb2.UploadMetadata(
        project_id=project_id, suggested_label_policy=policy, skip_item_registration=skip_item_registration,
        upload_id=upload_id))
    for name, content in files:
        if isinstance(content, Path):
            digest = hashlib.sha256()
            with open(content, "rb") as handle:
                while block := handle.read(chunk_size):
                    digest.update(block)
            size = content.stat().st_size
        else:
            digest, size = hashlib.sha256(content), len(content)
        yield storage_pb2.UploadImagesRequest(file=storage_pb2.UploadFile(name=name, size_bytes=size,
                                                                          sha256=digest.hexdigest()))
        if isinstance(content, Path):
            with open(content, "rb") as handle:
                while block := handle.read(chunk_size):
                    yield storage_pb2.UploadImagesRequest(chunk=storage_pb2.UploadChunk(data=block))
        else:
            for block in chunks(content, chunk_size):
                yield storage_pb2.UploadImagesRequest(chunk=storage_pb2.UploadChunk(data=block))


def chunks(data: bytes | Iterator[bytes], size: int = 1024 * 1024) -> Iterator[bytes]:
    """Split bytes (or re-chunk a byte stream) into pieces of at most `size` (the upload limit)."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), size):
            yield bytes(view[start:start + size])
        return
    buffer = bytearray()
    for piece in data:
        buffer.extend(piece)
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
