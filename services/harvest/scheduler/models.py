"""The scheduler's tables: jobs and their events (transitions, progress, metric points).

Every event carries a per-job sequence number without gaps (`jobs.last_sequence` is bumped in the same
transaction as the insert), which is what lets WatchJob resume exactly where a client left off.
"""

from __future__ import annotations

import datetime as dt
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
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class JobRow(Base):
    __tablename__ = "scheduler_jobs"

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64))
    snapshot_id: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[int] = mapped_column(Integer, default=1)
    preset: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(64))
    backbone: Mapped[str] = mapped_column(String(64))
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    training_args: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the `--set k=v` list
    backend: Mapped[str] = mapped_column(String(16))
    resources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    init_model_id: Mapped[str] = mapped_column(String(64), default="")
    display_name: Mapped[str] = mapped_column(String(256), default="")
    job_name: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str] = mapped_column(String(256), default="")
    state: Mapped[int] = mapped_column(Integer, default=1)
    restart_count: Mapped[int] = mapped_column(Integer, default=0)
    error_message: Mapped[str] = mapped_column(Text, default="")
    log_tail: Mapped[str] = mapped_column(Text, default="")
    model_id: Mapped[str] = mapped_column(String(64), default="")
    registration_note: Mapped[str] = mapped_column(Text, default="")
    registration_attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_dir: Mapped[str] = mapped_column(String(256))
    resolved_config: Mapped[str] = mapped_column(Text, default="")
    rendered_spec: Mapped[str] = mapped_column(Text, default="")
    total_steps: Mapped[int] = mapped_column(BigInteger, default=0)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metric_steps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # last step emitted per phase
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    dispatched_at: Mapped[float] = mapped_column(Float, default=0.0)  # epoch seconds of the last submit task
    claimed_at: Mapped[float] = mapped_column(Float, default=0.0)  # epoch seconds a worker began submitting
    request_id: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_scheduler_jobs_project_created", "project_id", "created_at"),
        Index("ix_scheduler_jobs_state", "state"),
        # Partial uniqueness is not portable: an empty request_id is stored as the job id instead.
        UniqueConstraint("created_by", "request_id", name="uq_scheduler_jobs_request"),
    )


class EventRow(Base):
    __tablename__ = "scheduler_job_events"

    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("scheduler_jobs.job_id", ondelete="CASCADE"),
                                        primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))  # transition | progress | metric
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
