"""Domain errors map to gRPC status codes in one place; unknown errors never leak their text."""

from __future__ import annotations

import grpc
import pytest

from harvest.common import errors

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
        (errors.NotFound, grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
        (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
        (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
        (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
        (errors.Aborted, grpc.StatusCode.ABORTED),
        (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_domain_error_maps_to_its_code_and_keeps_message(error: type[errors.HarvestError],
                                                          code: grpc.StatusCode) -> None:
    assert errors.status_for(error("fix this")) == (code, "fix this", {})


def test_details_travel_with_the_error() -> None:
    conflict = errors.Aborted("item changed", details={"current_version": "7"})
    assert errors.status_for(conflict)[2] == {"current_version": "7"}


def test_unexpected_exception_is_internal_without_its_text() -> None:
    code, message, _ = errors.status_for(KeyError("secret-path"))
    assert code == grpc.StatusCode.INTERNAL and "secret-path" not in message


def test_not_implemented_is_unimplemented() -> None:
    assert errors.status_for(NotImplementedError())[0] == grpc.StatusCode.UNIMPLEMENTED
