"""Domain errors map to gRPC status codes in one place; unknown errors never leak their text."""

from __future__ import annotations

import sqlite3

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


def _db_error(kind: type, cause: Exception | None = None, **flags: bool) -> Exception:
    return kind("SELECT secret_table", {}, cause or Exception("server closed the connection at 10.0.0.7"), **flags)


def _sqlite(sql: str) -> Exception:
    """The error SQLAlchemy raises for `sql` on a real (empty, in-memory) SQLite database."""
    from sqlalchemy import create_engine, text

    with create_engine("sqlite://").connect() as connection, pytest.raises(sa_exc.DBAPIError) as raised:
        connection.execute(text(sql))
    return raised.value


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"server error {sqlstate} at 10.0.0.7")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("error", [
    pytest.param(_db_error(sa_exc.OperationalError), id="connection refused (no server state)"),
    pytest.param(_db_error(sa_exc.DBAPIError, connection_invalidated=True), id="connection lost mid-statement"),
    pytest.param(sa_exc.TimeoutError("QueuePool limit of size 20 overflow 20 reached"), id="pool exhausted"),
    pytest.param(_db_error(sa_exc.OperationalError, _PgError("40P01")), id="deadlock"),
    pytest.param(_db_error(sa_exc.OperationalError, _PgError("40001")), id="serialization failure"),
    pytest.param(_db_error(sa_exc.OperationalError, _PgError("57P01")), id="server shutting down"),
    pytest.param(_db_error(sa_exc.OperationalError, _PgError("53300")), id="too many connections"),
    pytest.param(_db_error(sa_exc.OperationalError, sqlite3.OperationalError("database is locked")),
                 id="sqlite file locked"),
])
def test_transient_database_failures_are_unavailable_without_their_text(error: Exception) -> None:
    """UNAVAILABLE is what clients retry: a database that blips must not look like a bug (INTERNAL)."""
    code, message, _ = errors.status_for(error)
    assert code == grpc.StatusCode.UNAVAILABLE and "retry in a moment" in message
    assert "10.0.0.7" not in message and "secret_table" not in message and "QueuePool" not in message


@pytest.mark.parametrize("error", [
    pytest.param(_db_error(sa_exc.ProgrammingError), id="programming error"),
    pytest.param(_db_error(sa_exc.IntegrityError), id="integrity error"),
    pytest.param(_db_error(sa_exc.OperationalError, _PgError("57014")), id="statement timeout"),
    pytest.param(_db_error(sa_exc.OperationalError, _PgError("54001")), id="statement too complex"),
    pytest.param(_sqlite("SELECT * FROM no_such_table"), id="sqlite missing table"),
    pytest.param(_sqlite("SELEC 1"), id="sqlite syntax error"),
])
def test_database_errors_that_are_bugs_stay_internal(error: Exception) -> None:
    """Retrying these would not help and would hide the bug behind 'retry in a moment'."""
    assert errors.status_for(error)[0] == grpc.StatusCode.INTERNAL
