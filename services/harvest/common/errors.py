"""Domain errors raised by service cores, and the one place they become gRPC status codes.

Cores raise these (never `grpc` exceptions), so they stay plain Python that tests call directly; the
server bootstrap wraps every handler so an error reaches the client as the right status code with a
message a person can act on.
"""

from __future__ import annotations

import grpc


class HarvestError(Exception):
    """Base of every error a client should see; the message is shown to the user as is."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, *, details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: Extra machine-readable facts (e.g. the current value on a version conflict), sent as trailing
        #: metadata `harvest-<key>` so clients can act without parsing the message.
        self.details = details or {}


class InvalidArgument(HarvestError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(HarvestError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(HarvestError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(HarvestError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(HarvestError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(HarvestError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Aborted(HarvestError):
    """A version conflict: someone else changed the object first; re-read and retry."""

    code = grpc.StatusCode.ABORTED


class ResourceExhausted(HarvestError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(HarvestError):
    code = grpc.StatusCode.UNAVAILABLE


class Cancelled(HarvestError):
    """The client went away (or asked to stop) before the operation completed."""

    code = grpc.StatusCode.CANCELLED


INTERNAL_MESSAGE = "internal error; the server log has the details (request id {request_id})"
DATABASE_UNAVAILABLE = "the database is unreachable or too busy right now; retry in a moment"


def status_for(error: BaseException) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    """Map any exception to (code, message, details); unknown exceptions never leak their text."""
    if isinstance(error, HarvestError):
        return error.code, error.message, error.details
    if isinstance(error, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED, str(error) or "not implemented yet", {}
    if _is_transient_database_error(error):
        return grpc.StatusCode.UNAVAILABLE, DATABASE_UNAVAILABLE, {}
    return grpc.StatusCode.INTERNAL, "", {}


#: PostgreSQL SQLSTATEs that pass: connection exceptions (class 08), deadlock and serialization failures
#: (class 40), too many connections, the server shutting down or starting, a lock not available (NOWAIT).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40")
_TRANSIENT_SQLSTATES = {"53300", "57P01", "57P02", "57P03", "55P03"}
#: SQLite's messages for a write lock held by another connection longer than the busy timeout.
_SQLITE_TRANSIENT = ("database is locked", "database table is locked")


def _is_transient_database_error(error: BaseException) -> bool:
    """A lost or refused database connection, an exhausted connection pool, a deadlock or a locked SQLite
    file: conditions that pass, which a client should retry (UNAVAILABLE, which the SDK retries) rather
    than report as a bug (INTERNAL). Everything else a driver calls "operational" (a missing table, a
    statement timeout, a limit exceeded) stays INTERNAL: retrying would not help and would hide the bug.
    Retried writes are not applied twice: the SDK gives each SubmitJob/Annotate an idempotency key
    (harvest.common.channel)."""
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - every service installs SQLAlchemy
        return False
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if type(error.orig).__module__.startswith("sqlite3"):
        return isinstance(error, sa_exc.OperationalError) and str(error.orig).startswith(_SQLITE_TRANSIENT)
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES
    # An operational error the server sent no state for: the client could not reach it (refused, reset).
    return isinstance(error, sa_exc.OperationalError)
