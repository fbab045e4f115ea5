"""The common label write in one database round trip: an annotator with a membership sets or clears the
label of an item in a single-annotation project, with the version they read.

Labeling is the hot path (an annotator presses a key every second or two, and dozens do at once), so this
write is one statement on PostgreSQL: an UPDATE whose WHERE clause holds every rule at once (member, project
not archived, K = 1, class active, item not reviewed, version unchanged), with data-modifying CTEs appending
the event, recording the vote and releasing the lease. Under concurrency the row lock serializes writers and
PostgreSQL re-checks the version on the newest row, so a stale writer simply matches nothing. SQLite, with
no network round trip, runs the same checks as a SELECT and the writes as separate statements inside its
IMMEDIATE transaction.

It never decides an error: when the statement matches nothing, `Annotations` runs the general path, which
re-reads everything and raises the precise error (or handles the cases this path leaves out: admins who
are not members, K > 1, reviewed items).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, DateTime, String, TextClause, bindparam, column, text
from sqlalchemy.exc import IntegrityError

from harvest.common.auth import Principal
from harvest.labels.db import Database
from harvest.labels.models import Annotation, Item, new_sortable_id, utcnow
from harvest.labels.states import AnnotationKind, ItemStatus, LabelSource

_RULES = """
    items.id = :item_id AND items.project_id = :project_id AND items.version = :expected
    AND items.status <> {reviewed}
    AND EXISTS (SELECT 1 FROM projects p JOIN memberships m ON m.project_id = p.id
                WHERE p.id = :project_id AND m.user_id = :user_id AND p.archived = {false}
                      AND p.required_annotations <= 1)
    AND (CAST(:class_id AS VARCHAR(32)) IS NULL OR EXISTS (
         SELECT 1 FROM label_classes c WHERE c.id = :class_id AND c.project_id = :project_id
                                          AND c.retired = {false}))
"""
_SET = """version = items.version + 1, class_id = :class_id, status = :status, label_source = :label_source,
          noisy = {false}, annotation_count = :count, updated_at = :now"""
_ITEM_COLUMNS = ("id", "project_id", "image_id", "original_name", "width", "height", "object_key", "format",
                 "status", "class_id", "label_source", "noisy", "suggested_class_id", "suggested_label", "version",
                 "annotation_count", "assigned_to", "created_at", "updated_at")
_RETURNING = ", ".join(f"items.{c}" for c in _ITEM_COLUMNS)



def _typed(statement: TextClause, returns_item: bool = False, previous: bool = False) -> TextClause:
    """Bind `now` as a timestamp and read returned item columns with their model types (SQLite returns
    text and integers for them otherwise)."""
    statement = statement.bindparams(bindparam("now", type_=DateTime(timezone=True)))
    if returns_item:
        columns = [Item.__table__.c[name] for name in _ITEM_COLUMNS]
        if previous:
            columns.append(column("previous_class_id", String))
        return statement.columns(*columns)
    return statement


POSTGRES_WRITE = _typed(text(f"""
WITH prev AS (
    SELECT id, class_id FROM items WHERE id = :item_id
), upd AS (
    UPDATE items SET {_SET.format(false="false")}
    FROM prev
    WHERE prev.id = items.id AND {_RULES.format(reviewed=int(ItemStatus.REVIEWED), false="false")}
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

SQLITE_CHECK = text(f"""
SELECT items.class_id FROM items
WHERE {_RULES.format(reviewed=int(ItemStatus.REVIEWED), false="0")}
""")
SQLITE_UPDATE = _typed(text(f"""
UPDATE items SET {_SET.format(false="0")} WHERE id = :item_id AND version = :expected
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


@dataclass(frozen=True, slots=True)
class DirectWrite:
    """A successful direct write: the item after it and the event appended."""

    item: Item
    annotation: Annotation


class DirectLabelWriter:
    """Tries the one-statement write; returns None when the general path must decide."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def try_write(self, principal: Principal, project_id: str, item_id: str, expected: int, class_id: str | None,
                  source: LabelSource, model_id: str, comment: str, request_id: str | None) -> DirectWrite | None:
        now = utcnow()
        params: dict[str, Any] = {
            "item_id": item_id, "project_id": project_id, "expected": expected, "user_id": principal.user_id,
            "username": principal.username, "class_id": class_id, "now": now, "annotation_id": new_sortable_id(),
            "kind": int(AnnotationKind.LABEL if class_id else AnnotationKind.CLEAR), "source": int(source),
            "model_id": model_id, "comment": comment, "request_id": request_id,
            "status": int(ItemStatus.LABELED if class_id else ItemStatus.UNLABELED),
            "label_source": int(source) if class_id else 0, "count": 1 if class_id else 0}
        try:
            if self._db.dialect == "postgresql":
                with self._db.statement_connection() as connection:
                    row = connection.execute(POSTGRES_WRITE, params).first()
            else:
                with self._db.write_connection() as connection:
                    row = self._sqlite(connection, params)
        except IntegrityError:
            return None  # e.g. a repeated client_request_id: the general path replays the first result
        if row is None:
            return None
        values = dict(row._mapping)
        previous = values.pop("previous_class_id")
        item = Item(**values)
        annotation = Annotation(id=params["annotation_id"], project_id=project_id, item_id=item_id,
                                kind=params["kind"], class_id=class_id, previous_class_id=previous,
                                source=params["source"], noisy=False, user_id=principal.user_id,
                                username=principal.username, model_id=model_id, undoes_annotation_id=None,
                                comment=comment, item_version=item.version, client_request_id=request_id,
                                created_at=now)
        return DirectWrite(item, annotation)

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
        return _WithPrevious(row, checked[0])


class _WithPrevious:
    """A returned item row plus the class it had before (SQLite cannot return it from the UPDATE)."""

    def __init__(self, row: Any, previous: str | None) -> None:
        self._mapping = {**row._mapping, "previous_class_id": previous}
