"""Labeling sessions behind AnnotateStream: one annotator's writes to one project over one open stream.

An annotator presses a key every second or two, and an automated client may push thousands of labels; as
unary calls each write pays a whole call (most of its server CPU is gRPC's per-call work, not the write).
A session pays that once: its writes are the same Annotate writes (`Annotations.annotate`: same rules,
same group commit, same idempotency), applied one after the other in the order sent.

What a session checks once, it checks when it opens (membership, role, the project writable: a refusal
before anything is written); what may change while it is open, it checks with every write: the token
(expiry, revocation) ends the session, the rules of each write answer that write alone.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from harvest.common.auth import Principal, RevocationCheck, check_still_valid
from harvest.common.errors import InvalidArgument
from harvest.common.streams import StreamSlots
from harvest.labels import policies
from harvest.labels.annotations import Annotations, LabelWrite
from harvest.labels.db import Database
from harvest.labels.events import WriteResult

#: How often an open session asks again whether its token is still valid (seconds).
RECHECK_S = 0.25


class LabelSession:
    """An open session: `write` applies one write of the session's project."""

    def __init__(self, annotations: Annotations, principal: Principal, project_id: str,
                 is_revoked: RevocationCheck | None) -> None:
        self._annotations = annotations
        self._principal = principal
        self.project_id = project_id
        self._is_revoked = is_revoked
        self._checked_at = -math.inf

    async def check_token(self) -> None:
        """UNAUTHENTICATED once the token expired or was revoked: the session ends, not just one write.
        Asked again at most every `RECHECK_S` (the directory's own answer may be a second old anyway), in a
        thread, since the answer may need a query."""
        now = time.monotonic()
        if now - self._checked_at >= RECHECK_S:
            await asyncio.to_thread(check_still_valid, self._principal, self._is_revoked)
            self._checked_at = now

    async def write(self, project_id: str, write: LabelWrite) -> WriteResult:
        if project_id != self.project_id:
            raise InvalidArgument(f"this session labels project {self.project_id}; open another session to "
                                  f"label project {project_id or '(none given)'}")
        return await self._annotations.annotate(self._principal, project_id, write)


class LabelSessions:
    """Opens sessions, at most `max_sessions` at once in this process and `max_per_user` per user."""

    def __init__(self, db: Database, annotations: Annotations, max_sessions: int, max_per_user: int,
                 is_revoked: RevocationCheck | None = None) -> None:
        self._db = db
        self._annotations = annotations
        self._is_revoked = is_revoked
        self._slots = StreamSlots("labeling sessions", max_sessions, max_per_user,
                                  "HARVEST_LABELS_MAX_SESSIONS", "HARVEST_LABELS_MAX_SESSIONS_PER_USER")

    @property
    def open_sessions(self) -> int:
        return self._slots.open

    @asynccontextmanager
    async def open(self, principal: Principal, project_id: str) -> AsyncIterator[LabelSession]:
        """A session of `project_id`, if the caller may label it (the same refusals as Annotate's, so a
        non-member learns nothing about a project that exists); the check runs in a thread."""
        with self._slots.slot(principal.user_id):
            await asyncio.to_thread(self._check_access, principal, project_id)
            yield LabelSession(self._annotations, principal, project_id, self._is_revoked)

    def _check_access(self, principal: Principal, project_id: str) -> None:
        if not project_id:
            raise InvalidArgument("project_id is required (the first request of a session names its project)")
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.annotate(principal, access)
