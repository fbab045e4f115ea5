"""The jobs table and its events: the persisted state machine (plain Python over SQLAlchemy).

Every change of state goes through `transition`, which checks the state machine, stamps the time, and
appends a `transition` event in the same transaction. Events get a per-job sequence from
`jobs.last_sequence` (read under a row lock where the database has one), so WatchJob can resume without
gaps. Conditional transitions (`expect=`) make concurrent actors (a worker's poll, a user's cancel) safe:
the loser sees the state it lost to and does nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from harvest.common.errors import NotFound
from harvest.scheduler.models import EventRow, JobRow
from harvest.scheduler.states import ACTIVE, State, check_transition


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Event:
    job_id: str
    sequence: int
    time: dt.datetime
    kind: str  # transition | progress | metric
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JobFilter:
    project_ids: Sequence[str] | None = None  # None: every project (admins)
    states: Sequence[State] = ()
    kind: int = 0
    backend: str = ""
    created_by: str = ""
    created_after: dt.datetime | None = None
    snapshot_id: str = ""


class JobStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- reads ----------------------------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRow:
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
        if row is None:
            raise NotFound(f"job {job_id!r} does not exist; list jobs with ListJobs")
        return row

    def find_request(self, created_by: str, request_id: str) -> JobRow | None:
        with self._sessions() as session:
            return session.scalars(select(JobRow).where(JobRow.created_by == created_by,
                                                        JobRow.request_id == request_id)).first()

    def count_project(self, project_id: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).where(JobRow.project_id == project_id)) or 0)

    def list(self, where: JobFilter, offset: int, limit: int) -> tuple[list[JobRow], int]:
        clauses = []
        if where.project_ids is not None:
            clauses.append(JobRow.project_id.in_(list(where.project_ids)))
        if where.states:
            clauses.append(JobRow.state.in_([int(s) for s in where.states]))
        if where.kind:
            clauses.append(JobRow.kind == where.kind)
        if where.backend:
            clauses.append(JobRow.backend == where.backend)
        if where.created_by:
            clauses.append(JobRow.created_by == where.created_by)
        if where.created_after is not None:
            clauses.append(JobRow.created_at >= where.created_after)
        if where.snapshot_id:
            clauses.append(JobRow.snapshot_id == where.snapshot_id)
        condition = and_(*clauses) if clauses else and_(True)
        with self._sessions() as session:
            total = int(session.scalar(select(func.count()).select_from(JobRow).where(condition)) or 0)
            rows = session.scalars(select(JobRow).where(condition)
                                   .order_by(JobRow.created_at.desc(), JobRow.job_id.desc())
                                   .offset(offset).limit(limit)).all()
        return list(rows), total

    def with_states(self, states: Iterable[State]) -> list[JobRow]:
        with self._sessions() as session:
            return list(session.scalars(select(JobRow).where(JobRow.state.in_([int(s) for s in states]))
                                        .order_by(JobRow.created_at, JobRow.job_id)).all())

    def active_count(self, project_id: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).where(
                JobRow.project_id == project_id, JobRow.state.in_([int(s) for s in ACTIVE]))) or 0)

    def queue_position(self, row: JobRow) -> int:
        """1-based position among the deployment's QUEUED jobs (oldest first); 0 when not QUEUED."""
        if row.state != State.QUEUED:
            return 0
        with self._sessions() as session:
            ahead = session.scalar(select(func.count()).where(
                JobRow.state == int(State.QUEUED),
                or_(JobRow.created_at < row.created_at,
                    and_(JobRow.created_at == row.created_at, JobRow.job_id < row.job_id))))
        return int(ahead or 0) + 1

    def events(self, job_id: str, after: int = 0, kinds: Sequence[str] = (), limit: int = 1000) -> list[Event]:
        query = select(EventRow).where(EventRow.job_id == job_id, EventRow.sequence > after)
        if kinds:
            query = query.where(EventRow.kind.in_(list(kinds)))
        with self._sessions() as session:
            rows = session.scalars(query.order_by(EventRow.sequence).limit(limit)).all()
        return [Event(r.job_id, r.sequence, _aware(r.time), r.kind, r.payload) for r in rows]

    def transitions(self, job_id: str) -> list[Event]:
        return self.events(job_id, kinds=("transition",), limit=100_000)

    # -- writes ---------------------------------------------------------------------------------------------
    def create(self, row: JobRow) -> JobRow:
        """Insert a job and its creation event (`None -> QUEUED`)."""
        now = utcnow()
        row.created_at = now
        row.state = int(State.QUEUED)
        row.last_sequence = 1
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            session.add(EventRow(job_id=row.job_id, sequence=1, time=now, kind="transition",
                                 payload={"from": 0, "to": int(State.QUEUED), "reason": "submitted"}))
        return row

    def update(self, job_id: str, **fields: Any) -> JobRow:
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFound(f"job {job_id!r} does not exist")
            for key, value in fields.items():
                setattr(row, key, value)
        return row

    def transition(self, job_id: str, new: State, reason: str, *, expect: Iterable[State] | None = None,
                   **fields: Any) -> JobRow | None:
        """Move the job to `new` (with `fields` set) unless its state is not in `expect` (returns None then)."""
        now = utcnow()
        with self._sessions.begin() as session:
            row = self._locked(session, job_id)
            old = State(row.state)
            if expect is not None and old not in set(expect):
                return None
            if old == new:
                for key, value in fields.items():
                    setattr(row, key, value)
                return row
            check_transition(old, new)
            row.state = int(new)
            if new == State.RUNNING and row.started_at is None:
                row.started_at = now
            if new.terminal:
                row.finished_at = now
            for key, value in fields.items():
                setattr(row, key, value)
            self._append(session, row, now, "transition", {"from": int(old), "to": int(new), "reason": reason})
        return row

    def append(self, job_id: str, items: Sequence[tuple[str, dict[str, Any]]], **fields: Any) -> JobRow:
        """Append progress/metric events (and set `fields`) in one transaction."""
        now = utcnow()
        with self._sessions.begin() as session:
            row = self._locked(session, job_id)
            for kind, payload in items:
                self._append(session, row, now, kind, payload)
            for key, value in fields.items():
                setattr(row, key, value)
        return row

    def claim(self, job_id: str, now: float, lease_s: float, limit: int) -> str:
        """Take the right to submit a QUEUED job: "ok", or why not ("state", "claimed", "limit").

        The claim is a lease: a worker that died while submitting loses it after `lease_s`, and the next
        attempt adopts what it may have launched. The project's concurrency limit counts active jobs and
        jobs being submitted; on PostgreSQL an advisory lock per project makes the count-and-claim atomic
        (SQLite runs every transaction with BEGIN IMMEDIATE, one writer at a time).
        """
        with self._sessions.begin() as session:
            row = self._locked(session, job_id)
            if row.state != State.QUEUED:
                return "state"
            if row.claimed_at > now - lease_s:
                return "claimed"
            if session.get_bind().dialect.name == "postgresql":
                session.execute(select(func.pg_advisory_xact_lock(func.hashtext(row.project_id))))
            busy = session.scalar(select(func.count()).where(
                JobRow.project_id == row.project_id, JobRow.job_id != job_id,
                or_(JobRow.state.in_([int(s) for s in ACTIVE]),
                    and_(JobRow.state == int(State.QUEUED), JobRow.claimed_at > now - lease_s))))
            if int(busy or 0) >= limit:
                row.dispatched_at = 0.0  # the next poll with a free slot sends it again
                return "limit"
            row.claimed_at = now
            row.submit_attempts += 1
        return "ok"

    def _locked(self, session: Session, job_id: str) -> JobRow:
        row = session.scalars(select(JobRow).where(JobRow.job_id == job_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return row

    @staticmethod
    def _append(session: Session, row: JobRow, now: dt.datetime, kind: str, payload: dict[str, Any]) -> None:
        row.last_sequence += 1
        session.add(EventRow(job_id=row.job_id, sequence=row.last_sequence, time=now, kind=kind, payload=payload))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
