"""Annotations: label, clear, batch-label and undo items under optimistic concurrency, and read history.

Each write locks the item row, compares the caller's `expected_version` and appends one event, all in one
transaction: two annotators writing the same item concurrently are serialized by the row lock, the second
one finds a newer version and gets ABORTED with the current value, and nothing is written for it. A
client_request_id makes a retried write return the first result instead of writing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from harvest.labels import policies
from harvest.labels.db import Database
from harvest.labels.events import EventWriter, WriteRequest, WriteResult
from harvest.labels.label_writes import DirectLabelWriter
from harvest.labels.models import Annotation, Item, LabelClass, Vote
from harvest.labels.paging import after_key, page_request
from harvest.labels.policies import ProjectAccess
from harvest.labels.states import AnnotationKind, ItemStatus, LabelSource

MAX_BATCH = 1000
MAX_REQUEST_ID = 64
MAX_COMMENT = 1000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LabelWrite:
    """One Annotate call: set `class_id`, or clear when it is None."""

    item_id: str
    expected_version: int
    class_id: str | None
    source: LabelSource = LabelSource.HUMAN
    model_id: str = ""
    comment: str = ""
    client_request_id: str = ""


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    item_id: str = ""
    user_id: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def lock_item(db: Database, session: Session, project_id: str, item_id: str) -> Item:
    """The item row, locked for the rest of the transaction (SQLite: the write transaction already is)."""
    query = select(Item).where(Item.id == item_id, Item.project_id == project_id)
    if db.locks_rows:
        query = query.with_for_update()
    item = session.scalars(query).one_or_none()
    if item is None:
        raise NotFound(f"no item with id {item_id!r} in this project")
    return item


def active_class(session: Session, project_id: str, class_id: str) -> LabelClass:
    row = session.get(LabelClass, class_id)
    if row is None or row.project_id != project_id:
        raise InvalidArgument(f"unknown class id {class_id!r} for this project")
    if row.retired:
        raise InvalidArgument(f"class {row.name!r} was merged into another class; use that one")
    return row


def conflict(session: Session, item: Item, expected: int) -> Aborted:
    """The ABORTED error for a stale write, carrying the item's current state."""
    name = ""
    if item.class_id:
        name = session.scalar(select(LabelClass.name).where(LabelClass.id == item.class_id)) or ""
    last_by = session.scalar(select(Annotation.username).where(Annotation.item_id == item.id)
                             .order_by(Annotation.id.desc()).limit(1)) or ""
    state = f"labeled {name!r}" if name else "unlabeled"
    who = f" (last change by {last_by})" if last_by else ""
    return Aborted(f"item {item.id} changed since version {expected}: it is now at version {item.version}, "
                   f"{state}{who}; re-read it and retry",
                   details={"current-version": str(item.version), "current-class-id": item.class_id or "",
                            "current-label": name})


def check_expected(session: Session, access: ProjectAccess, principal: Principal, item: Item, expected: int) -> None:
    """The concurrency rule: with K = 1 any change since `expected` conflicts; with K > 1 only the caller's own
    vote or a review written since does, so concurrent voters never block each other."""
    if expected <= 0:
        raise InvalidArgument("expected_version is required: send the item version you read (>= 1)")
    if expected > item.version:
        raise conflict(session, item, expected)
    if item.status == ItemStatus.REVIEWED:
        if expected < item.version:
            raise conflict(session, item, expected)
        raise FailedPrecondition(f"item {item.id} was finalized by review; a reviewer can change it")
    if access.project.required_annotations <= 1:
        if expected != item.version:
            raise conflict(session, item, expected)
        return
    own = session.scalar(select(Vote.item_version).where(Vote.item_id == item.id, Vote.user_id == principal.user_id))
    if own is not None and own > expected:
        raise conflict(session, item, expected)


def request_key(value: str) -> str | None:
    if len(value) > MAX_REQUEST_ID:
        raise InvalidArgument(f"client_request_id is longer than {MAX_REQUEST_ID} characters")
    return value or None


class Annotations:
    """Annotate, batch, undo and history."""

    def __init__(self, db: Database, events: EventWriter, write_batch: int = 64) -> None:
        self._db = db
        self._events = events
        self._direct = DirectLabelWriter(db, write_batch)

    @property
    def direct_writer(self) -> DirectLabelWriter:
        """The hot-path writer (tests and benchmarks read its group-commit counters)."""
        return self._direct

    async def annotate(self, principal: Principal, project_id: str, write: LabelWrite) -> WriteResult:
        """Try the one-statement write (label_writes); when it matches nothing, the general path decides.
        A coroutine of the labels server's event loop: the one-statement write waits for its group commit
        without a thread, the general path runs in a thread."""
        key = request_key(write.client_request_id)
        if len(write.comment) > MAX_COMMENT:
            raise InvalidArgument(f"comment is longer than {MAX_COMMENT} characters")
        if write.source == LabelSource.MODEL and not write.model_id:
            raise InvalidArgument("source MODEL needs model_id")
        if write.source in (LabelSource.REVIEW, LabelSource.IMPORT):
            raise InvalidArgument("source REVIEW and IMPORT are set by Review and ImportLabels only")

        direct = await self._direct.try_write(principal, project_id, write.item_id, write.expected_version,
                                              write.class_id, write.source, write.model_id, write.comment, key)
        if direct is not None:
            return WriteResult(direct.item, direct.annotation, (principal.user_id,) if write.class_id else ())
        return await asyncio.to_thread(self._annotate_general, principal, project_id, write, key)

    def _annotate_general(self, principal: Principal, project_id: str, write: LabelWrite,
                          key: str | None) -> WriteResult:
        """Every rule re-read in one transaction: the precise error, or the write the direct path leaves out."""
        def run() -> WriteResult:
            with self._db.write() as session:
                access = policies.load_access(session, principal, project_id)
                policies.annotate(principal, access)
                if key is not None:
                    earlier = self._replayed(session, principal, key, write.item_id)
                    if earlier is not None:
                        return earlier
                if write.class_id is not None:
                    active_class(session, project_id, write.class_id)
                item = lock_item(self._db, session, project_id, write.item_id)
                check_expected(session, access, principal, item, write.expected_version)
                return self._events.write(session, access, principal, item, WriteRequest(
                    kind=AnnotationKind.LABEL if write.class_id is not None else AnnotationKind.CLEAR,
                    class_id=write.class_id, source=write.source, model_id=write.model_id, comment=write.comment,
                    client_request_id=key))

        return self._idempotent(run, key, lambda: self._replay(principal, key, write.item_id))

    def batch(self, principal: Principal, project_id: str, items: Sequence[tuple[str, int]], class_id: str,
              source: LabelSource, model_id: str, client_request_id: str) -> list[WriteResult]:
        """One class on up to 1000 items: every item's version must be current, or nothing is written."""
        key = request_key(client_request_id)
        if not 1 <= len(items) <= MAX_BATCH:
            raise InvalidArgument(f"send 1 to {MAX_BATCH} items")
        ids = [item_id for item_id, _ in items]
        if len(set(ids)) != len(ids):
            raise InvalidArgument("an item appears twice in the batch")
        if not class_id:
            raise InvalidArgument("class_id is required")
        if source == LabelSource.MODEL and not model_id:
            raise InvalidArgument("source MODEL needs model_id")

        def run() -> list[WriteResult]:
            with self._db.write() as session:
                access = policies.load_access(session, principal, project_id)
                policies.annotate(principal, access)
                if key is not None:
                    earlier = self._replayed_batch(session, principal, key, ids)
                    if earlier is not None:
                        return earlier
                active_class(session, project_id, class_id)
                locked = self._lock_many(session, project_id, ids)
                stale = []
                for item_id, expected in items:
                    try:
                        check_expected(session, access, principal, locked[item_id], expected)
                    except Aborted:
                        stale.append(item_id)
                if stale:
                    raise Aborted(f"{len(stale)} of {len(items)} items changed since they were read; nothing was "
                                  "written; re-read them and retry", details={"stale-item-ids": ",".join(stale)})
                return [self._events.write(session, access, principal, locked[item_id], WriteRequest(
                    kind=AnnotationKind.LABEL, class_id=class_id, source=source, model_id=model_id,
                    client_request_id=None if key is None else f"{key}#{index}"))
                    for index, item_id in enumerate(ids)]

        return self._idempotent(run, key, lambda: self._replay_batch(principal, key, ids))

    def undo(self, principal: Principal, project_id: str, item_id: str, annotation_id: str,
             expected_version: int) -> WriteResult:
        """Append an UNDO event restoring the value before `annotation_id` (default: the caller's latest)."""
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            item = lock_item(self._db, session, project_id, item_id)
            target = self._undo_target(session, principal, item, annotation_id)
            policies.undo(principal, access, target)
            if item.status == ItemStatus.REVIEWED:
                raise FailedPrecondition(f"item {item.id} was finalized by review; a reviewer can change it")
            if expected_version <= 0:
                raise InvalidArgument("expected_version is required: send the item version you read (>= 1)")
            if expected_version != item.version:
                raise conflict(session, item, expected_version)
            restored = target.previous_class_id
            origin = self._origin_of(session, target)
            return self._events.write(session, access, principal, item, WriteRequest(
                kind=AnnotationKind.UNDO, class_id=restored,
                source=LabelSource(origin.source) if origin else LabelSource.HUMAN,
                noisy=origin.noisy if origin else False, undoes=target, comment=f"undo of {target.id}"))

    @staticmethod
    def _origin_of(session: Session, target: Annotation) -> Annotation | None:
        """The event that set the value `target` replaced, so an undo restores its source and noisy flag."""
        if target.previous_class_id is None:
            return None
        return session.scalars(select(Annotation).where(
            Annotation.item_id == target.item_id, Annotation.id < target.id,
            Annotation.class_id == target.previous_class_id).order_by(Annotation.id.desc()).limit(1)).one_or_none()

    def _undo_target(self, session: Session, principal: Principal, item: Item, annotation_id: str) -> Annotation:
        undone = select(Annotation.undoes_annotation_id).where(Annotation.item_id == item.id,
                                                               Annotation.undoes_annotation_id.is_not(None))
        undoable = (AnnotationKind.LABEL, AnnotationKind.CLEAR)
        if annotation_id:
            target = session.get(Annotation, annotation_id)
            if target is None or target.item_id != item.id:
                raise NotFound(f"no annotation {annotation_id!r} on item {item.id}")
            if target.kind not in undoable:
                raise FailedPrecondition("only LABEL and CLEAR events can be undone (reviews are changed by "
                                         "another review, merges by labeling)")
            if session.scalar(select(func.count()).where(Annotation.undoes_annotation_id == target.id)):
                raise FailedPrecondition(f"annotation {target.id} was already undone")
            return target
        target = session.scalars(
            select(Annotation).where(Annotation.item_id == item.id, Annotation.user_id == principal.user_id,
                                     Annotation.kind.in_(undoable), Annotation.id.not_in(undone))
            .order_by(Annotation.id.desc()).limit(1)).one_or_none()
        if target is None:
            raise FailedPrecondition(f"you have nothing to undo on item {item.id}")
        return target

    def history(self, principal: Principal, project_id: str, query: HistoryQuery, page_size: int,
                page_token: str) -> tuple[list[Annotation], str, int]:
        """Events oldest first, for one item or the whole project."""
        if query.since and query.until and query.since >= query.until:
            raise InvalidArgument("since must be before until")
        page = page_request(page_size, page_token, "history", project_id, query.item_id, query.user_id,
                            query.since, query.until)
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            conditions = [Annotation.project_id == project_id]
            if query.item_id:
                if session.scalar(select(func.count()).select_from(Item).where(
                        Item.id == query.item_id, Item.project_id == project_id)) == 0:
                    raise NotFound(f"no item with id {query.item_id!r} in this project")
                conditions.append(Annotation.item_id == query.item_id)
            if not policies.see_other_votes(principal, access):
                conditions.append(Annotation.user_id == principal.user_id)
            elif query.user_id:
                conditions.append(Annotation.user_id == query.user_id)
            if query.since:
                conditions.append(Annotation.created_at >= query.since)
            if query.until:
                conditions.append(Annotation.created_at < query.until)
            total = session.scalar(select(func.count()).select_from(Annotation).where(*conditions)) or 0
            statement = select(Annotation).where(*conditions)
            if page.after is not None:
                statement = statement.where(after_key([(Annotation.id, False)], page.after))
            rows = list(session.scalars(statement.order_by(Annotation.id).limit(page.size + 1)))
        return rows[:page.size], page.next_token(rows, lambda a: (a.id,)), total

    # ---- helpers ----

    def _lock_many(self, session: Session, project_id: str, ids: Sequence[str]) -> dict[str, Item]:
        """Lock items in id order (two batches over the same items never deadlock)."""
        query = select(Item).where(Item.project_id == project_id, Item.id.in_(ids)).order_by(Item.id)
        if self._db.locks_rows:
            query = query.with_for_update()
        found = {item.id: item for item in session.scalars(query)}
        missing = [item_id for item_id in ids if item_id not in found]
        if missing:
            raise NotFound(f"no item(s) {', '.join(missing[:10])} in this project")
        return found

    @staticmethod
    def _idempotent(run: Callable[[], T], key: str | None, replay: Callable[[], T | None]) -> T:
        """Run a write; when a concurrent retry with the same key committed first, return its result."""
        try:
            return run()
        except IntegrityError:
            if key is None:
                raise
            result = replay()
            if result is None:
                raise
            return result

    @staticmethod
    def _replayed(session: Session, principal: Principal, key: str, item_id: str) -> WriteResult | None:
        earlier = session.scalars(select(Annotation).where(Annotation.user_id == principal.user_id,
                                                           Annotation.client_request_id == key)).one_or_none()
        if earlier is None:
            return None
        if earlier.item_id != item_id:
            raise InvalidArgument(f"client_request_id {key!r} was already used for another item")
        item = session.get(Item, item_id)
        assert item is not None  # the annotation's foreign key keeps its item
        voters = tuple(session.scalars(select(Vote.user_id).where(Vote.item_id == item_id,
                                                                  Vote.class_id.is_not(None))))
        return WriteResult(item, earlier, voters or ((earlier.user_id,) if item.class_id else ()))

    def _replay(self, principal: Principal, key: str | None, item_id: str) -> WriteResult | None:
        assert key is not None
        with self._db.read() as session:
            return self._replayed(session, principal, key, item_id)

    def _replayed_batch(self, session: Session, principal: Principal, key: str,
                        ids: Sequence[str]) -> list[WriteResult] | None:
        keys = [f"{key}#{index}" for index in range(len(ids))]
        earlier = {a.client_request_id: a for a in session.scalars(select(Annotation).where(
            and_(Annotation.user_id == principal.user_id, Annotation.client_request_id.in_(keys))))}
        if not earlier:
            return None
        if [earlier[k].item_id if k in earlier else None for k in keys] != list(ids):
            raise InvalidArgument(f"client_request_id {key!r} was already used for another batch")
        items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))}
        return [WriteResult(items[item_id], earlier[k], ()) for item_id, k in zip(ids, keys, strict=True)]

    def _replay_batch(self, principal: Principal, key: str | None, ids: Sequence[str]) -> list[WriteResult] | None:
        assert key is not None
        with self._db.read() as session:
            return self._replayed_batch(session, principal, key, ids)
