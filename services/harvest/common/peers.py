"""Calling another HARVEST service on a caller's behalf: who the caller is (and the token to forward), the
caller's view of a project (labels owns membership), and how a downstream gRPC failure becomes our own
error with its meaning and message kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

from harvest.common.auth import Principal, Role, bearer_metadata
from harvest.common.errors import (
    FailedPrecondition,
    HarvestError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from harvest.v1 import labels_pb2

T = TypeVar("T")

#: How long labels' answer to "may this caller see that project" is remembered per (token, project).
MEMBERSHIP_TTL_S = 30.0

#: Downstream codes that are about the request (so the caller's), kept as they are.
KEPT: dict[grpc.StatusCode, type[HarvestError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound, grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument, grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls an RPC, and their token for the calls made on their behalf (never stored)."""

    principal: Principal
    token: str

    @property
    def is_admin(self) -> bool:
        return self.principal.role is Role.ADMIN


def peer_error(exc: grpc.RpcError, what: str, peer: str = "labels") -> HarvestError:
    """The downstream answer as our error: the caller's mistakes keep their code; anything else means the
    peer could not answer, which the caller may retry."""
    code, details = exc.code(), exc.details() or ""
    if code in KEPT:
        return KEPT[code](f"{what}: {details}")
    return Unavailable(f"cannot reach the {peer} service for {what}: {details} (retry shortly)")


class ProjectLookup(Generic[T]):
    """GetProject as the caller, its answer (turned into what the service needs by `derive`) remembered per
    (token, project) for `ttl_s`: every RPC checks membership, and asking labels each time would double the
    calls. Failures are not remembered and come back as grpc.RpcError, for the caller to translate."""

    def __init__(self, get_project: Callable[..., Any], derive: Callable[[labels_pb2.Project], T],
                 ttl_s: float = MEMBERSHIP_TTL_S) -> None:
        self._get_project, self._derive, self._ttl_s = get_project, derive, ttl_s
        self._seen: dict[tuple[str, str], tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, caller: Caller, project_id: str) -> T:
        key = (caller.principal.token_id, project_id)
        with self._lock:
            hit = self._seen.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        project = self._get_project(labels_pb2.GetProjectRequest(project_id=project_id),
                                    metadata=bearer_metadata(caller.token), timeout=10).project
        value = self._derive(project)
        with self._lock:
            self._seen[key] = (time.monotonic() + self._ttl_s, value)
        return value
