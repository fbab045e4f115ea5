"""A write retried on UNAVAILABLE may already have been applied, so the SDK's channels give writes with
an empty idempotency key one, and every automatic retry of the call carries that same key."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest

from harvest.common.channel import open_channel, with_idempotency_key
from harvest.common.settings import ClientSettings
from harvest.v1 import labels_pb2, scheduler_pb2, scheduler_pb2_grpc

pytestmark = pytest.mark.unit


def test_an_empty_key_is_filled_on_a_copy_and_a_given_one_is_kept() -> None:
    request = scheduler_pb2.SubmitJobRequest(project_id="p")
    keyed = with_idempotency_key(request)
    assert keyed.request_id and keyed.project_id == "p" and request.request_id == ""  # the caller's is untouched
    assert with_idempotency_key(request).request_id != keyed.request_id  # a new call, a new key
    given = scheduler_pb2.SubmitJobRequest(project_id="p", request_id="mine")
    assert with_idempotency_key(given) is given
    assert with_idempotency_key(labels_pb2.AnnotateRequest(item_id="i")).client_request_id
    listing = labels_pb2.ListProjectsRequest()
    assert with_idempotency_key(listing) is listing  # reads have no key


def test_every_retry_of_a_call_carries_the_same_key() -> None:
    """A server that fails the first attempt with UNAVAILABLE (as after a commit whose answer was lost)."""
    seen: list[str] = []

    def submit(request: scheduler_pb2.SubmitJobRequest,
               context: grpc.ServicerContext) -> scheduler_pb2.SubmitJobResponse:
        seen.append(request.request_id)
        if len(seen) == 1:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unreachable or too busy right now")
        return scheduler_pb2.SubmitJobResponse()

    handler = grpc.method_handlers_generic_handler("harvest.v1.SchedulerService", {
        "SubmitJob": grpc.unary_unary_rpc_method_handler(
            submit, request_deserializer=scheduler_pb2.SubmitJobRequest.FromString,
            response_serializer=scheduler_pb2.SubmitJobResponse.SerializeToString)})
    server = grpc.server(futures.ThreadPoolExecutor(2), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        settings = ClientSettings(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.05)
        with open_channel(f"127.0.0.1:{port}", token="t", client=settings) as channel:
            scheduler_pb2_grpc.SchedulerServiceStub(channel).SubmitJob(scheduler_pb2.SubmitJobRequest(project_id="p"))
            scheduler_pb2_grpc.SchedulerServiceStub(channel).SubmitJob(scheduler_pb2.SubmitJobRequest(project_id="p"))
    finally:
        server.stop(0)
    assert len(seen) == 3 and seen[0] == seen[1] and seen[0] and seen[2] not in ("", seen[0])
