"""Hands a frozen snapshot to the storage service over gRPC (CreateSnapshot), as the calling user.

The labels core never imports storage's core (services talk through `harvest.client`); this is the only
place in labels that knows storage's contract. Storage's status codes come back as the domain errors
they mean, with storage's message kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from harvest.client import HarvestClient
from harvest.common.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    HarvestError,
    Unavailable,
)
from harvest.common.peers import KEPT
from harvest.common.settings import ClientSettings, EndpointSettings, TLSSettings
from harvest.labels.snapshots_freeze import FrozenSnapshot, StoredSnapshot
from harvest.v1 import common_pb2, storage_pb2

ENTRIES_PER_MESSAGE = 10_000
_SPLITS = {"labeled": common_pb2.SPLIT_LABELED, "unlabeled": common_pb2.SPLIT_UNLABELED,
           "validation": common_pb2.SPLIT_VALIDATION}
_ERRORS: dict[grpc.StatusCode, type[HarvestError]] = {
    **KEPT, grpc.StatusCode.ALREADY_EXISTS: AlreadyExists, grpc.StatusCode.ABORTED: Aborted}


def snapshot_requests(snapshot: FrozenSnapshot) -> Iterator[storage_pb2.CreateSnapshotRequest]:
    """The CreateSnapshot stream: metadata first, then entry batches in manifest order."""
    options = snapshot.options
    yield storage_pb2.CreateSnapshotRequest(metadata=storage_pb2.SnapshotMetadata(
        project_id=snapshot.project_id,
        classes=[common_pb2.SnapshotClass(index=i, class_id=cid, name=name)
                 for i, (cid, name) in enumerate(snapshot.classes)],
        options=common_pb2.FreezeOptions(
            validation_fraction=options.validation_fraction, split_strategy=options.split_strategy,
            seed=options.seed, exclude_noisy_labels=options.exclude_noisy_labels,
            exclude_unlabeled=options.exclude_unlabeled, max_unlabeled=options.max_unlabeled,
            include_model_labels=options.include_model_labels)))
    for start in range(0, len(snapshot.entries), ENTRIES_PER_MESSAGE):
        yield storage_pb2.CreateSnapshotRequest(entries=storage_pb2.SnapshotEntries(entries=[
            common_pb2.SnapshotEntry(key=e.key, sha256=e.sha256, width=e.width, height=e.height, label=e.label,
                                     split=_SPLITS[e.split], item_id=e.item_id, noisy=e.noisy)
            for e in snapshot.entries[start:start + ENTRIES_PER_MESSAGE]]))


class GrpcStorageHandoff:
    """The production handoff: one call to storage's CreateSnapshot with the caller's token."""

    def __init__(self, endpoints: EndpointSettings, tls: TLSSettings | None = None,
                 client: ClientSettings | None = None) -> None:
        self._endpoints = endpoints
        self._tls = tls
        self._client = client

    def __call__(self, snapshot: FrozenSnapshot, token: str) -> StoredSnapshot:
        with HarvestClient(self._endpoints, token=token, tls=self._tls, settings=self._client) as client:
            try:
                response = client.storage.CreateSnapshot(snapshot_requests(snapshot))
            except grpc.RpcError as exc:
                raise storage_error(exc, self._endpoints.address("storage")) from None
        stored = response.snapshot
        return StoredSnapshot(stored.snapshot_id, stored.manifest_key, stored.manifest_sha256, stored.format)


def storage_error(exc: grpc.RpcError, address: str) -> HarvestError:
    code, details = exc.code(), exc.details() or ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(f"storage service at {address} did not answer ({code.name}); snapshot not written, "
                           "try again when it is up")
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return FailedPrecondition(f"storage at {address} cannot write snapshots yet ({details})")
    error = _ERRORS.get(code)
    if error is None:
        return Unavailable(f"storage failed to write the snapshot ({code.name}: {details})")
    return error(f"storage refused the snapshot: {details}")
