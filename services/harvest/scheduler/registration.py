"""Registering a finished job's model with the inference service, as the scheduler itself.

There is no caller when a poll sees a job succeed, so the scheduler acts as itself: a short-lived admin
token for `service:scheduler` minted with the shared secret (`harvest.common.auth.ServiceIdentity`), which
every service verifies locally and which inference may forward to labels for the pool scoring that
follows. A failure is not fatal: the job stays SUCCEEDED with a note, and later polls retry.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from harvest.client import HarvestClient
from harvest.common.auth import ServiceIdentity, bearer_metadata
from harvest.v1 import inference_pb2

SERVICE_NAME = "scheduler"


@dataclass(frozen=True, slots=True)
class Registration:
    model_id: str
    note: str
    retry: bool  # worth trying again on a later poll


class ModelRegistrar:
    def __init__(self, client: HarvestClient, identity: ServiceIdentity) -> None:
        self._client = client
        self._identity = identity

    def register(self, job_id: str) -> Registration:
        request = inference_pb2.RegisterModelRequest(job_id=job_id, promote=True, score_pool=True,
                                                     flag_suspected_errors=True)
        try:
            response = self._client.inference.RegisterModel(request, metadata=bearer_metadata(self._identity.token()),
                                                            timeout=30)
        except grpc.RpcError as exc:
            code = exc.code()
            permanent = code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED)
            return Registration("", f"model not registered yet: inference answered {code.name} "
                                    f"({exc.details()})" + ("" if permanent else "; retrying on later polls"),
                                not permanent)
        return Registration(response.model.model_id, f"model {response.model.model_id} registered", False)
