"""The inference service's tables: the model registry and pool-scoring operations.

Operations are rows (not memory only) so `WatchScoring` answers after a restart and "this model already
scored the pool" survives one; a row left RUNNING by a crash is marked FAILED at start.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ModelRow(Base):
    __tablename__ = "models"

    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str] = mapped_column(String(128), unique=True)
    snapshot_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # classifier | backbone
    status: Mapped[str] = mapped_column(String(16))  # ready | active | archived
    algorithm: Mapped[str] = mapped_column(String(64), default="")
    backbone: Mapped[str] = mapped_column(String(64), default="")
    class_names: Mapped[list] = mapped_column(JSON)  # type: ignore[type-arg]
    class_ids: Mapped[list] = mapped_column(JSON)  # type: ignore[type-arg]
    preprocessing: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    network: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    embedding_dim: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    evaluation: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    package_prefix: Mapped[str] = mapped_column(String(256))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    promoted_by: Mapped[str] = mapped_column(String(64), default="")
    scoring_operation_id: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("uq_models_project_version", "project_id", "version", unique=True),
        # At most one active model per project, enforced by the database itself.
        Index("uq_models_project_active", "project_id", unique=True,
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
    )


class OperationRow(Base):
    __tablename__ = "scoring_operations"

    operation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # pending | running | succeeded | failed
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    counters: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]
    error_message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
