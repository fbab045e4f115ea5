"""Persistence models of the labels service (SQLAlchemy 2). Schema changes go through Alembic.

Two kinds of tables live here. *Facts* are append-only (`annotations`, `audit_log`): nothing ever updates
or deletes a row, which is what makes "no label is ever lost" checkable (the one exception is bookkeeping,
not a change of a fact: an annotation's `sequence` is filled in once, after the event committed). *Derived
state* (`items.class_id`, `votes`, `leases`) is rewritten in the same transaction as the fact it follows
from, so a read never needs to replay history.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import threading
import time
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return uuid.uuid4().hex


_id_lock = threading.Lock()
_last_ns = 0
_node = os.urandom(4).hex()
_counter = itertools.count()


def new_sortable_id() -> str:
    """32 hex characters that sort by creation time (16 of nanoseconds, then process and counter bits).

    Items and events are listed in creation order and paginated by id: with time-ordered ids the primary
    key is also the order, so one index serves both and page tokens stay small.
    """
    global _last_ns
    with _id_lock:
        now = max(time.time_ns(), _last_ns + 1)
        _last_ns = now
    return f"{now:016x}{_node}{next(_counter) & 0xFFFFFFFF:08x}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes (stored as UTC); PostgreSQL aware ones. Compare them as aware."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: dict[Any, Any] = {dt.datetime: DateTime(timezone=True)}


class User(Base):
    """A person or automated client; `role` is their global role (admin, expert, annotator)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiToken(Base):
    """An issued token, by its id (`jti`): the record that makes revocation possible."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Project(Base):
    """A set of images and classes labeled together, with its workflow settings."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    required_annotations: Mapped[int] = mapped_column(Integer, default=1)
    lease_s: Mapped[int] = mapped_column(Integer, default=600)
    blind_annotation: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_threshold: Mapped[float] = mapped_column(Float, default=0.0)
    max_active_jobs: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class LabelClass(Base):
    """A class of a project. Its id never changes: renames keep `previous_names`, merges set `merged_into`."""

    __tablename__ = "label_classes"
    __table_args__ = (
        Index("ux_label_classes_active_name", "project_id", "name", unique=True,
              sqlite_where=text("retired = 0"), postgresql_where=text("retired = false")),
        Index("ux_label_classes_shortcut", "project_id", "shortcut", unique=True,
              sqlite_where=text("shortcut <> '' AND retired = 0"),
              postgresql_where=text("shortcut <> '' AND retired = false")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    color: Mapped[str] = mapped_column(String(7))
    shortcut: Mapped[str] = mapped_column(String(8), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into: Mapped[str | None] = mapped_column(String(32), default=None)
    previous_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user may see and work on a project only while this row exists (admins see every project)."""

    __tablename__ = "memberships"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_by: Mapped[str] = mapped_column(String(32), default="")
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Item(Base):
    """One image of a project and its derived label state; `version` grows with every event on it."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ux_items_project_image", "project_id", "image_id", unique=True),
        Index("ix_items_project_status", "project_id", "status", "id"),
        Index("ix_items_project_class", "project_id", "class_id"),
        Index("ix_items_project_assigned", "project_id", "assigned_to"),
        Index("ix_items_project_updated", "project_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_sortable_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    image_id: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(512), default="")
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    object_key: Mapped[str] = mapped_column(String(1024), default="")
    format: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[int] = mapped_column(Integer, default=1)
    class_id: Mapped[str | None] = mapped_column(String(32), default=None)
    label_source: Mapped[int] = mapped_column(Integer, default=0)
    noisy: Mapped[bool] = mapped_column(Boolean, default=False)
    suggested_class_id: Mapped[str | None] = mapped_column(String(32), default=None)
    suggested_label: Mapped[str] = mapped_column(String(255), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    annotation_count: Mapped[int] = mapped_column(Integer, default=0)
    assigned_to: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Annotation(Base):
    """An append-only annotation event: never changed, never deleted.

    `sequence` is the event's project-wide number for WatchAnnotations (1, 2, 3 … without gaps). Writers
    leave it NULL, so they never contend on a per-project counter; the event feed's sequencer numbers
    committed events afterwards (event_feed.Sequencer). Filling it in once is bookkeeping of the feed, not a
    change of the event: every column that says what happened stays as written.
    """

    __tablename__ = "annotations"
    __table_args__ = (
        Index("ix_annotations_item", "item_id", "id"),
        Index("ix_annotations_project", "project_id", "id"),
        Index("ix_annotations_project_user", "project_id", "user_id", "item_id"),
        Index("ix_annotations_undoes", "undoes_annotation_id"),
        Index("ux_annotations_request", "user_id", "client_request_id", unique=True,
              sqlite_where=text("client_request_id IS NOT NULL"),
              postgresql_where=text("client_request_id IS NOT NULL")),
        Index("ux_annotations_project_sequence", "project_id", "sequence", unique=True),
        Index("ix_annotations_unnumbered", "project_id", "id",
              sqlite_where=text("sequence IS NULL"), postgresql_where=text("sequence IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_sortable_id)
    project_id: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    kind: Mapped[int] = mapped_column(Integer)
    class_id: Mapped[str | None] = mapped_column(String(32), default=None)
    previous_class_id: Mapped[str | None] = mapped_column(String(32), default=None)
    source: Mapped[int] = mapped_column(Integer)
    noisy: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(64), default="")
    undoes_annotation_id: Mapped[str | None] = mapped_column(String(32), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    item_version: Mapped[int] = mapped_column(Integer)
    client_request_id: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sequence: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Vote(Base):
    """Each annotator's current value for an item (derived from their events; NULL class = cleared)."""

    __tablename__ = "votes"
    __table_args__ = (Index("ix_votes_project_user", "project_id", "user_id"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(32))
    class_id: Mapped[str | None] = mapped_column(String(32), default=None)
    item_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """An item reserved by NextItems for one annotator until `expires_at` (one live lease per item)."""

    __tablename__ = "leases"
    __table_args__ = (Index("ix_leases_project_user", "project_id", "user_id"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    lease_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    project_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[dt.datetime] = mapped_column()


class Prediction(Base):
    """A model's output for an item, written by PutPredictions; queue strategies only read these."""

    __tablename__ = "predictions"
    __table_args__ = (Index("ix_predictions_project_model", "project_id", "model_id", "created_at"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(32))
    predicted_class_id: Mapped[str] = mapped_column(String(32), default="")
    predicted_class_name: Mapped[str] = mapped_column(String(64), default="")
    confidence: Mapped[float] = mapped_column(Float)
    entropy: Mapped[float] = mapped_column(Float)
    margin: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    embedding_ref: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SuspectedError(Base):
    """A detector's suspicion that an item's label is wrong.

    It is open while the item is unchanged since it was recorded (`item_version` equals the item's
    version) and it was not cleared: annotating the item again closes it without touching this row.
    """

    __tablename__ = "suspected_errors"
    __table_args__ = (Index("ix_suspected_errors_project", "project_id", "cleared_at", "score"),
                      Index("ix_suspected_errors_item", "item_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_sortable_id)
    project_id: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    detector: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(64), default="")
    score: Mapped[float] = mapped_column(Float)
    given_class_id: Mapped[str | None] = mapped_column(String(32), default=None)
    suggested_class_id: Mapped[str | None] = mapped_column(String(32), default=None)
    item_version: Mapped[int] = mapped_column(Integer)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SnapshotRecord(Base):
    """A snapshot frozen from a project (the manifest itself lives in storage)."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_project", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    manifest_key: Mapped[str] = mapped_column(String(255))
    manifest_sha256: Mapped[str] = mapped_column(String(64), default="")
    format: Mapped[str] = mapped_column(String(32))
    classes: Mapped[list[Any]] = mapped_column(JSON)
    labeled_count: Mapped[int] = mapped_column(Integer)
    unlabeled_count: Mapped[int] = mapped_column(Integer)
    validation_count: Mapped[int] = mapped_column(Integer)
    noisy_count: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """An administrative action, append-only, written in the same transaction as the action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_project", "project_id", "id"), Index("ix_audit_actor", "actor_id", "id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_sortable_id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(32))
    actor_username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(String(32), default="")
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str] = mapped_column(String(64), default="")
