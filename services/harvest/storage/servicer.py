"""gRPC layer of the storage service: translates messages and nothing else.

Methods not built yet answer UNIMPLEMENTED (the generated base class), while the server is up and healthy.
"""

from __future__ import annotations

from harvest.common.server import Register, registrar
from harvest.v1 import storage_pb2_grpc


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    """The storage service's RPCs over its core."""


def register_storage() -> Register:
    return registrar(storage_pb2_grpc, "StorageService", StorageServicer())
