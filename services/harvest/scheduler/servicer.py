"""gRPC layer of the scheduler service: translates messages and nothing else.

Methods not built yet answer UNIMPLEMENTED (the generated base class), while the server is up and healthy.
"""

from __future__ import annotations

from harvest.common.server import Register, registrar
from harvest.v1 import scheduler_pb2_grpc


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    """The scheduler service's RPCs over its core."""


def register_scheduler() -> Register:
    return registrar(scheduler_pb2_grpc, "SchedulerService", SchedulerServicer())
