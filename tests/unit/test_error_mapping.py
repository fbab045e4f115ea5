"""Domain errors map to gRPC status codes in one place; unknown errors never leak their text."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import exc as sa_exc

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


def _db_error(kind: type, **flags: bool) -> Exception:
    return kind("SELECT secret_table", {}, Exception("server closed the connection at 10.0.0.7"), **flags)


@pytest.mark.parametrize("error", [
    pytest.param(_db_error(sa_exc.OperationalError), id="connection refused / deadlock / locked file"),
    pytest.param(_db_error(sa_exc.DBAPIError, connection_invalidated=True), id="connection lost mid-statement"),
    pytest.param(sa_exc.TimeoutError("QueuePool limit of size 20 overflow 20 reached"), id="pool exhausted"),
])
def test_transient_database_failures_are_unavailable_without_their_text(error: Exception) -> None:
    """UNAVAILABLE is what clients retry: a database that blips must not look like a bug (INTERNAL)."""
    code, message, _ = errors.status_for(error)
    assert code == grpc.StatusCode.UNAVAILABLE and "retry in a moment" in message
    assert "10.0.0.7" not in message and "secret_table" not in message and "QueuePool" not in message


def test_database_errors_that_are_bugs_stay_internal() -> None:
    for error in (_db_error(sa_exc.ProgrammingError), _db_error(sa_exc.IntegrityError)):
        assert errors.status_for(error)[0] == grpc.StatusCode.INTERNAL
