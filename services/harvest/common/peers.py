"""Calling another HARVEST service on a caller's behalf: who the caller is (and the token to forward), and
how a downstream gRPC failure becomes our own error with its meaning and message kept."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from harvest.common.auth import Principal, Role
from harvest.common.errors import (
    FailedPrecondition,
    HarvestError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)

_KEPT: dict[grpc.StatusCode, type[HarvestError]] = {
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
    if code in _KEPT:
        return _KEPT[code](f"{what}: {details}")
    return Unavailable(f"cannot reach the {peer} service for {what}: {details} (retry shortly)")
