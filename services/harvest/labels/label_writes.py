"""The common label write in one database round trip: an annotator with a membership sets or clears the
label of an item in a single-annotation project, with the version they read.

Labeling is the hot path (an annotator presses a key every second or two, and dozens do at once), so this
write is one statement on PostgreSQL: an UPDATE whose WHERE clause holds every rule at once (member, project
not archived, K = 1, class active, item not reviewed, version unchanged), with data-modifying CTEs appending
the event, recording the vote and releasing the lease. Under concurrency the row lock serializes writers and
PostgreSQL re-checks the version on the newest row, so a stale writer simply matches nothing. SQLite, with
no network round trip, runs the same checks as a SELECT and the writes as separate statements inside its
IMMEDIATE transaction.

On PostgreSQL, concurrent writes are group-committed: the writes queued while one batch is in flight go
together as one set-based statement of the same shape over arrays (one row per write, one write per item),
so the round trip, statement and commit are paid once per batch; each write gets its own outcome.

It never decides an error: when the statement matches nothing, `Annotations` runs the general path, which
re-reads everything and raises the precise error (or handles the cases this path leaves out: admins who
are not members, K > 1, reviewed items).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, String, TextClause, bindparam, column, text
from sqlalchemy.exc import IntegrityError

from harvest.common.auth import Principal
from harvest.common.group_commit import GroupCommit
from harvest.labels.db import Database
from harvest.labels.models import Item, new_sortable_id, utcnow
from harvest.labels.records import ITEM_COLUMNS, AnnotationRecord, ItemRecord
from harvest.labels.states import AnnotationKind, ItemStatus, LabelSource

_RULES = """
    items.id = {item_id} AND items.project_id = {project_id} AND items.version = {expected}
    AND items.status <> {reviewed}
    AND EXISTS (SELECT 1 FROM projects p JOIN memberships m ON m.project_id = p.id
                WHERE p.id = {project_id} AND m.user_id = {user_id} AND p.archived = {false}
                      AND p.required_annotations <= 1)
    AND ({class_id} IS NULL OR EXISTS (
         SELECT 1 FROM label_classes c WHERE c.id = {class_id} AND c.project_id = {project_id}
                                          AND c.retired = {false}))
"""
#: The rules over one write's bound parameters, or over the `req` row of a batched write.
_ONE = {"item_id": ":item_id", "project_id": ":project_id", "expected": ":expected", "user_id": ":user_id",
        "class_id": "CAST(:class_id AS VARCHAR(32))", "reviewed": int(ItemStatus.REVIEWED)}
_BATCHED = {name: f"req.{name}" for name in ("item_id", "project_id", "expected", "user_id", "class_id")}
_BATCHED["reviewed"] = int(ItemStatus.REVIEWED)
_SET = """version = items.version + 1, class_id = {p}class_id, status = {p}status, label_source = {p}label_source,
          noisy = {false}, annotation_count = {p}count, updated_at = :now"""
_RETURNING = ", ".join(f"items.{c}" for c in ITEM_COLUMNS)



def _typed(statement: TextClause, returns_item: bool = False, previous: bool = False,
           ordinal: bool = False) -> TextClause:
    """Bind `now` as a timestamp and read returned item columns with their model types (SQLite returns
    text and integers for them otherwise)."""
    statement = statement.bindparams(bindparam("now", type_=DateTime(timezone=True)))
    if returns_item:
        columns = [Item.__table__.c[name] for name in ITEM_COLUMNS]
        if previous:
            columns.append(column("previous_class_id", String))
        if ordinal:
            columns.append(column("ord", Integer))
        return statement.columns(*columns)
    return statement


POSTGRES_WRITE = _typed(text(f"""
WITH prev AS (
    SELECT id, class_id FROM items WHERE id = :item_id
), upd AS (
    UPDATE items SET {_SET.format(p=":", false="false")}
    FROM prev
    WHERE prev.id = items.id AND {_RULES.format(**_ONE, false="false")}
    RETURNING {_RETURNING}, prev.class_id AS previous_class_id
), event AS (
    INSERT INTO annotations (id, project_id, item_id, kind, class_id, previous_class_id, source, noisy, user_id,
                             username, model_id, undoes_annotation_id, comment, item_version, client_request_id,
                             created_at)
    SELECT :annotation_id, :project_id, upd.id, :kind, :class_id, upd.previous_class_id, :source, false,
           :user_id, :username, :model_id, NULL, :comment, upd.version, :request_id, :now
    FROM upd
), vote AS (
    INSERT INTO votes (item_id, user_id, project_id, class_id, item_version, updated_at)
    SELECT upd.id, :user_id, :project_id, :class_id, upd.version, :now FROM upd
    ON CONFLICT (item_id, user_id) DO UPDATE SET class_id = excluded.class_id,
        item_version = excluded.item_version, updated_at = excluded.updated_at
), released AS (
    DELETE FROM leases WHERE item_id = :item_id AND user_id = :user_id AND EXISTS (SELECT 1 FROM upd)
)
SELECT * FROM upd
"""), returns_item=True, previous=True)

#: The columns of one queued write in a batch, with their PostgreSQL array types (bound as one array each).
_BATCH_COLUMNS = (("ord", "int"), ("item_id", "VARCHAR(32)"), ("project_id", "VARCHAR(32)"), ("expected", "int"),
                  ("user_id", "VARCHAR(32)"), ("username", "text"), ("class_id", "VARCHAR(32)"),
                  ("annotation_id", "VARCHAR(32)"),
                  ("kind", "int"), ("source", "int"), ("model_id", "text"), ("comment", "text"),
                  ("request_id", "text"), ("status", "int"), ("label_source", "int"), ("count", "int"))
_UNNEST = ", ".join(f"CAST(:{name}s AS {kind}[])" for name, kind in _BATCH_COLUMNS)

# The same write for a batch of items (at most one write per item), as one autocommit statement: every write
# of the batch is committed together or, on an error, none is. Each returned row carries its write's `ord`.
POSTGRES_BATCH_WRITE = _typed(text(f"""
WITH req AS (
    SELECT * FROM unnest({_UNNEST}) AS r({", ".join(name for name, _ in _BATCH_COLUMNS)})
), ok AS (
    -- the writes whose rules hold, each with its item's current class; the LATERAL lookup (kept apart by
    -- OFFSET 0) can only use the primary key, whatever the statistics of a new project's items say
    SELECT req.*, items.class_id AS previous_class_id
    FROM req CROSS JOIN LATERAL (SELECT * FROM items i WHERE i.id = req.item_id OFFSET 0) AS items
    WHERE {_RULES.format(**_BATCHED, false="false")}
), upd AS (
    -- the version is compared again on the newest row under its lock: a writer that got in first wins
    UPDATE items SET {_SET.format(p="ok.", false="false")}
    FROM ok
    WHERE items.id = ok.item_id AND items.version = ok.expected
    RETURNING {_RETURNING}, ok.previous_class_id AS previous_class_id, ok.ord AS ord
), event AS (
    INSERT INTO annotations (id, project_id, item_id, kind, class_id, previous_class_id, source, noisy, user_id,
                             username, model_id, undoes_annotation_id, comment, item_version, client_request_id,
                             created_at)
    SELECT req.annotation_id, req.project_id, upd.id, req.kind, req.class_id, upd.previous_class_id, req.source,
           false, req.user_id, req.username, req.model_id, NULL, req.comment, upd.version, req.request_id, :now
    FROM upd JOIN req ON req.ord = upd.ord
), vote AS (
    INSERT INTO votes (item_id, user_id, project_id, class_id, item_version, updated_at)
    SELECT upd.id, req.user_id, req.project_id, req.class_id, upd.version, :now FROM upd JOIN req ON req.ord = upd.ord
    ON CONFLICT (item_id, user_id) DO UPDATE SET class_id = excluded.class_id,
        item_version = excluded.item_version, updated_at = excluded.updated_at
), released AS (
    DELETE FROM leases USING upd JOIN req ON req.ord = upd.ord
    WHERE leases.item_id = upd.id AND leases.user_id = req.user_id
)
SELECT * FROM upd
"""), returns_item=True, previous=True, ordinal=True)

SQLITE_CHECK = text(f"""
SELECT items.class_id FROM items
WHERE {_RULES.format(**_ONE, false="0")}
""")
SQLITE_UPDATE = _typed(text(f"""
UPDATE items SET {_SET.format(p=":", false="0")} WHERE id = :item_id AND version = :expected
RETURNING {_RETURNING.replace("items.", "")}
"""), returns_item=True)
SQLITE_EVENT = _typed(text("""
INSERT INTO annotations (id, project_id, item_id, kind, class_id, previous_class_id, source, noisy, user_id,
                         username, model_id, undoes_annotation_id, comment, item_version, client_request_id,
                         created_at)
VALUES (:annotation_id, :project_id, :item_id, :kind, :class_id, :previous_class_id, :source, 0, :user_id,
        :username, :model_id, NULL, :comment, :version, :request_id, :now)
"""))
SQLITE_VOTE = _typed(text("""
INSERT INTO votes (item_id, user_id, project_id, class_id, item_version, updated_at)
VALUES (:item_id, :user_id, :project_id, :class_id, :version, :now)
ON CONFLICT (item_id, user_id) DO UPDATE SET class_id = excluded.class_id, item_version = excluded.item_version,
    updated_at = excluded.updated_at
"""))
SQLITE_RELEASE = text("DELETE FROM leases WHERE item_id = :item_id AND user_id = :user_id")


def _item_key(params: dict[str, Any]) -> str:
    return params["item_id"]  # type: ignore[no-any-return]


#: A write's returned row (None: the rules did not match) and the time it was committed with.
_Written = tuple[Any, dt.datetime]


@dataclass(frozen=True, slots=True)
class DirectWrite:
    """A successful direct write: the item after it and the event appended."""

    item: ItemRecord
    annotation: AnnotationRecord


class DirectLabelWriter:
    """Tries the one-statement write; returns None when the general path must decide.

    On PostgreSQL concurrent writes are group-committed (`harvest.common.group_commit`): the writes that
    arrive while one is in flight go together as one `POSTGRES_BATCH_WRITE`, at most `max_batch` of them and
    one per item. `max_batch=1` sends each write alone.
    """

    def __init__(self, db: Database, max_batch: int = 64) -> None:
        self._db = db
        self._group: GroupCommit[dict[str, Any], _Written] | None = None
        # One thread of their own writes them (started on first use): on PostgreSQL the group commit's
        # batches; otherwise each write alone, in arrival order (SQLite runs one writer at a time anyway, and
        # more threads only queue on its lock: sessions p99 88-93 ms with the server's 16 threads, 57-60 with one).
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labels-commit")
        if db.dialect == "postgresql" and max_batch > 1:
            self._group = GroupCommit(self.write_batch, key=_item_key, max_batch=max_batch, executor=self._writer)

    @staticmethod
    def request(principal: Principal, project_id: str, item_id: str, expected: int, class_id: str | None,
                source: LabelSource = LabelSource.HUMAN, model_id: str = "", comment: str = "",
                request_id: str | None = None) -> dict[str, Any]:
        """The bound parameters of one write (also one row of a batch)."""
        return {
            "item_id": item_id, "project_id": project_id, "expected": expected, "user_id": principal.user_id,
            "username": principal.username, "class_id": class_id, "annotation_id": new_sortable_id(),
            "kind": int(AnnotationKind.LABEL if class_id else AnnotationKind.CLEAR), "source": int(source),
            "model_id": model_id, "comment": comment, "request_id": request_id,
            "status": int(ItemStatus.LABELED if class_id else ItemStatus.UNLABELED),
            "label_source": int(source) if class_id else 0, "count": 1 if class_id else 0}

    @property
    def group_commit(self) -> GroupCommit[dict[str, Any], _Written] | None:
        """The PostgreSQL group commit (None on SQLite or with batching off); its counters show batching."""
        return self._group

    async def try_write(self, principal: Principal, project_id: str, item_id: str, expected: int,
                        class_id: str | None, source: LabelSource, model_id: str, comment: str,
                        request_id: str | None) -> DirectWrite | None:
        """The write, for a caller on the event loop: it waits for its batch without holding a thread (on
        SQLite, or with batching off, the write itself runs in the writer thread)."""
        params = self.request(principal, project_id, item_id, expected, class_id, source, model_id, comment,
                              request_id)
        if self._group is not None:
            row, now = await self._group.submit(params)
        else:
            row, now = await asyncio.get_running_loop().run_in_executor(self._writer, self._write_one, params)
        if row is None:
            return None
        item = ItemRecord(*row[:len(ITEM_COLUMNS)])  # then previous_class_id (and, from a batch, ord)
        annotation = AnnotationRecord(id=params["annotation_id"], project_id=project_id, item_id=item_id,
                                      kind=params["kind"], class_id=class_id,
                                      previous_class_id=row[len(ITEM_COLUMNS)],
                                      source=params["source"], noisy=False, user_id=principal.user_id,
                                      username=principal.username, model_id=model_id, undoes_annotation_id=None,
                                      comment=comment, item_version=item.version, client_request_id=request_id,
                                      created_at=now)
        return DirectWrite(item, annotation)

    def _write_one(self, params: dict[str, Any]) -> _Written:
        """One write alone, in its own transaction."""
        if self._db.dialect == "postgresql":
            return self._postgres_one(params)
        return self._sqlite_one(params)

    def _postgres_one(self, params: dict[str, Any]) -> _Written:
        now = utcnow()
        try:
            with self._db.statement_connection() as connection:
                return connection.execute(POSTGRES_WRITE, {**params, "now": now}).first(), now
        except IntegrityError:
            return None, now  # e.g. a repeated client_request_id: the general path replays the first result

    def write_batch(self, batch: Sequence[dict[str, Any]]) -> list[_Written]:
        """PostgreSQL, the group commit's flush: one statement for writes to distinct items (`request()`
        rows), one (row or None, time) each. If it breaks a constraint (a repeated client_request_id), none
        of it was written and each write is retried alone, so only the offending one falls back."""
        if len(batch) == 1:
            return [self._postgres_one(batch[0])]
        now = utcnow()
        arrays: dict[str, Any] = {f"{name}s": [params[name] for params in batch]
                                  for name, _ in _BATCH_COLUMNS if name != "ord"}
        arrays["ords"] = list(range(len(batch)))
        arrays["now"] = now
        try:
            with self._db.statement_connection() as connection:
                rows = connection.execute(POSTGRES_BATCH_WRITE, arrays).all()
        except IntegrityError:
            return [self._postgres_one(params) for params in batch]
        by_ord = {row.ord: row for row in rows}
        return [(by_ord.get(index), now) for index in range(len(batch))]

    def _sqlite_one(self, params: dict[str, Any]) -> _Written:
        now = utcnow()
        try:
            with self._db.write_connection() as connection:
                return self._sqlite(connection, {**params, "now": now}), now
        except IntegrityError:
            return None, now

    def _sqlite(self, connection: Connection, params: dict[str, Any]) -> Any:
        checked = connection.execute(SQLITE_CHECK, params).first()
        if checked is None:
            return None
        row = connection.execute(SQLITE_UPDATE, params).first()
        if row is None:
            return None
        params = {**params, "previous_class_id": checked[0], "version": row.version}
        connection.execute(SQLITE_EVENT, params)
        connection.execute(SQLITE_VOTE, params)
        connection.execute(SQLITE_RELEASE, params)
        return (*row, checked[0])  # the item's columns, then the class before (as PostgreSQL returns them)
