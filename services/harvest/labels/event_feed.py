"""The annotation event feed behind WatchAnnotations: every event of a project, numbered 1, 2, 3 … without
gaps, replayed from a sequence the client names and then sent live as it commits.

Writers never number anything. Thirty annotators labeling one project would all queue on a per-project
counter row, so events are written with `sequence` NULL and the *sequencer* numbers them afterwards: in one
write transaction, serialized per project (PostgreSQL: a transaction-scoped advisory lock on the project;
SQLite: its write transaction already is), it reads the project's highest sequence and gives the next
numbers to the unnumbered events it can see, in id order. Only committed events are visible to it, and no
two sequencers of a project overlap, so each number is given once, right after the previous one: no gaps,
and a number is never given to an event below one a reader may already have seen. A writer that commits
after a later writer (ids are taken before commit) simply has its event numbered in the next round: a
reader resuming from `after_sequence` never skips it, which ordering by id or time could not promise.

Numbering fills in a column of an append-only event once; it is bookkeeping of the feed, not a change of
the event (see models.Annotation). Events are never deleted, so every sequence stays readable: there is no
retained window a resume could fall out of.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ScalarSelect, exists, func, literal, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from harvest.common.auth import Principal, check_still_valid
from harvest.common.errors import InvalidArgument
from harvest.common.streams import Pause, StreamSlots
from harvest.labels import policies
from harvest.labels.db import Database
from harvest.labels.items import ItemView, decorate
from harvest.labels.models import Annotation, Item

#: Events numbered per sequencer transaction (a backlog is numbered in several short transactions).
NUMBERING_PAGE = 2000
#: Events read per query when sending (a long replay is read in several, without holding a transaction).
SENDING_PAGE = 500

_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(CAST(:key AS BIGINT))")


def sequencer_lock_key(project_id: str) -> int:
    """A stable signed 64-bit key for the project's advisory lock (the same in every process and version)."""
    digest = hashlib.blake2b(f"harvest.labels.sequence:{project_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _last_sequence(project_id: str) -> ScalarSelect[Any]:
    return select(func.max(Annotation.sequence)).where(Annotation.project_id == project_id).scalar_subquery()


def _unnumbered(project_id: str) -> ColumnElement[bool]:
    return exists().where(Annotation.project_id == project_id, Annotation.sequence.is_(None))


class Sequencer:
    """Numbers a project's committed, unnumbered events (see the module docstring for why this is gap-free)."""

    def __init__(self, db: Database, page: int = NUMBERING_PAGE) -> None:
        self._db = db
        self._page = page
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def number(self, project_id: str) -> int:
        """Number every event of the project committed so far; returns the project's last sequence (0: none).

        Costs one small read when nothing is pending, so a watch may call it at every poll. The streams of
        one process number a project one at a time: those that waited then find nothing pending instead
        of each opening a write transaction.
        """
        with self._guard:
            lock = self._locks.setdefault(project_id, threading.Lock())
        with lock:
            return self._number(project_id)

    def _number(self, project_id: str) -> int:
        with self._db.read() as session:
            last, pending = session.execute(select(_last_sequence(project_id), _unnumbered(project_id))).one()
        while pending:
            last, pending = self._number_page(project_id)
        return int(last or 0)

    def _number_page(self, project_id: str) -> tuple[int, bool]:
        """One transaction: the next numbers for up to a page of unnumbered events, oldest id first.
        Returns the last sequence after it, and whether a full page was numbered (more may wait)."""
        with self._db.write() as session:
            if self._db.dialect == "postgresql":
                session.execute(_ADVISORY_LOCK, {"key": sequencer_lock_key(project_id)})
            # Read after taking the lock: READ COMMITTED shows every number the previous holder committed.
            last = session.scalar(select(_last_sequence(project_id))) or 0
            page = (select(Annotation.id)
                    .where(Annotation.project_id == project_id, Annotation.sequence.is_(None))
                    .order_by(Annotation.id).limit(self._page).subquery())
            numbered = select(page.c.id, (literal(last, BigInteger) + func.row_number().over(order_by=page.c.id))
                              .label("number")).subquery()
            table = Annotation.__table__
            result = session.connection().execute(
                update(table).where(table.c.id == numbered.c.id).values(sequence=numbered.c.number))
            count = result.rowcount
        return last + count, count == self._page


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event as WatchAnnotations sends it: the numbered event and its item as it is when sent (an item
    version above the event's `item_version` means later events of the item follow)."""

    annotation: Annotation
    item: ItemView | None

    @property
    def sequence(self) -> int:
        return self.annotation.sequence or 0


class AnnotationFeed:
    """WatchAnnotations in two steps: `start` checks the call (before the stream sends anything), `events`
    streams. Between polls it waits on the call, so it stops as soon as the client or the server ends it."""

    def __init__(self, db: Database, interval_s: float, sequencer: Sequencer | None = None,
                 page: int = SENDING_PAGE, *, max_streams: int = 4, max_streams_per_user: int = 2,
                 is_revoked: Callable[[str], bool] | None = None) -> None:
        self._db = db
        self._interval_s = interval_s
        self._sequencer = sequencer or Sequencer(db)
        self._page = page
        self._is_revoked = is_revoked
        self._slots = StreamSlots("annotation streams", max_streams, max_streams_per_user,
                                  "HARVEST_LABELS_MAX_WATCH_STREAMS", "HARVEST_LABELS_MAX_WATCH_STREAMS_PER_USER")

    @contextmanager
    def slot(self, principal: Principal) -> Iterator[None]:
        """One open stream of this process, while the block runs (`StreamSlots`: capped below the server's
        threads, in all and per user)."""
        with self._slots.slot(principal.user_id):
            yield

    @property
    def open_streams(self) -> int:
        """Streams of this process that still hold their place (and their serving thread)."""
        return self._slots.open

    def start(self, principal: Principal, project_id: str, after_sequence: int, from_beginning: bool = False) -> int:
        """The sequence the stream continues after: `after_sequence`; with 0 the project's last one now, or
        0 itself when `from_beginning` (every event is replayed)."""
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
        if after_sequence < 0:
            raise InvalidArgument("after_sequence must not be negative (0: only events written from now on)")
        if from_beginning and after_sequence:
            raise InvalidArgument("give after_sequence or from_beginning, not both")
        last = self._sequencer.number(project_id)
        if after_sequence > last:
            raise InvalidArgument(f"after_sequence {after_sequence} is beyond the last sequence of this project, "
                                  f"{last}; resume from a sequence this stream sent")
        return 0 if from_beginning else after_sequence or last

    def events(self, principal: Principal, project_id: str, after: int, pause: Pause) -> Iterator[FeedEvent]:
        """Events with a sequence above `after`, oldest first, then each new one after it commits (within a
        poll interval), until `pause` reports the call ended. No transaction is held while a page is sent.

        In blind projects annotators get only their own events: their sequences have gaps where others'
        events are. Access is read again with every page, so a member removed meanwhile is refused, and the
        token is checked at every poll."""
        cursor = after
        while True:
            check_still_valid(principal, self._is_revoked)
            last = self._sequencer.number(project_id)
            while cursor < last:
                page, cursor = self._read(principal, project_id, cursor, last)
                yield from page
            if not pause.wait(self._interval_s):
                return

    def _read(self, principal: Principal, project_id: str, cursor: int, last: int) -> tuple[list[FeedEvent], int]:
        """Events in (cursor, last] the caller may see, up to a page; and the sequence read up to."""
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            query = select(Annotation).where(Annotation.project_id == project_id, Annotation.sequence > cursor,
                                             Annotation.sequence <= last)
            if not policies.see_other_votes(principal, access):
                query = query.where(Annotation.user_id == principal.user_id)
            rows = list(session.scalars(query.order_by(Annotation.sequence).limit(self._page)))
            if not rows:
                return [], last
            reached = int(rows[-1].sequence or last) if len(rows) == self._page else last
            items = session.scalars(select(Item).where(Item.id.in_({row.item_id for row in rows}))).all()
            views = {view.item.id: view for view in decorate(session, access, principal, items)}
        return [FeedEvent(row, views.get(row.item_id)) for row in rows], reached
