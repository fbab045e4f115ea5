"""gRPC layer of the inference service: translates messages and nothing else.

Methods not built yet answer UNIMPLEMENTED (the generated base class), while the server is up and healthy.
"""

from __future__ import annotations

from harvest.common.server import Register, registrar
from harvest.v1 import inference_pb2_grpc


class InferenceServicer(inference_pb2_grpc.InferenceServiceServicer):
    """The inference service's RPCs over its core."""


def register_inference() -> Register:
    return registrar(inference_pb2_grpc, "InferenceService", InferenceServicer())
