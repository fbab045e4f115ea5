"""The audit log: every administrative action, written in the same transaction as the action itself, so
an entry exists exactly when the change does.

The request id of the call (the client's `x-request-id`) is bound by the transport for the duration of
the call, so cores record it without threading it through every signature.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import InvalidArgument
from harvest.labels import policies
from harvest.labels.db import Database
from harvest.labels.models import AuditEntry
from harvest.labels.paging import after_key, page_request

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("harvest_labels_request_id", default="")


def bind_request_id(request_id: str) -> None:
    """For the rest of the current context (a coroutine call's own task)."""
    _request_id.set(request_id)


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def record(session: Session, actor: Principal, action: str, target_type: str, target_id: str, *,
           project_id: str = "", **details: object) -> None:
    """Append one entry; `details` are stringified (never pass secrets)."""
    session.add(AuditEntry(actor_id=actor.user_id, actor_username=actor.username, action=action,
                           target_type=target_type, target_id=target_id, project_id=project_id,
                           details={key: str(value) for key, value in details.items()},
                           request_id=_request_id.get()))


@dataclass(frozen=True, slots=True)
class AuditQuery:
    project_id: str = ""
    actor_id: str = ""
    action: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class AuditLog:
    """Reads the audit log (admins only)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def entries(self, principal: Principal, query: AuditQuery, page_size: int,
                page_token: str) -> tuple[list[AuditEntry], str, int]:
        policies.administer(principal, "reading the audit log")
        if query.since and query.until and query.since >= query.until:
            raise InvalidArgument("since must be before until")
        page = page_request(page_size, page_token, "audit", query.project_id, query.actor_id, query.action,
                            query.since, query.until)
        conditions = []
        if query.project_id:
            conditions.append(AuditEntry.project_id == query.project_id)
        if query.actor_id:
            conditions.append(AuditEntry.actor_id == query.actor_id)
        if query.action:
            conditions.append(AuditEntry.action == query.action)
        if query.since:
            conditions.append(AuditEntry.created_at >= query.since)
        if query.until:
            conditions.append(AuditEntry.created_at < query.until)
        with self._db.read() as session:
            total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
            statement = select(AuditEntry).where(*conditions)
            if page.after is not None:
                statement = statement.where(after_key([(AuditEntry.id, True)], page.after))
            rows = list(session.scalars(statement.order_by(AuditEntry.id.desc()).limit(page.size + 1)))
        return rows[:page.size], page.next_token(rows, lambda entry: (entry.id,)), total
