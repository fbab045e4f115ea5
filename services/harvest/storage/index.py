"""The storage service's index of images and snapshots (SQL): what makes an object visible.

Objects are written first and indexed after; an image exists for HARVEST once its row is committed, so
an interrupted upload leaves nothing visible, and listing and quota checks never scan the object store.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ImageRow(Base):
    __tablename__ = "images"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    image_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the bytes
    object_key: Mapped[str] = mapped_column(String(1024))
    thumbnail_key: Mapped[str] = mapped_column(String(1024), default="")  # the pack holding it
    thumbnail_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    thumbnail_length: Mapped[int] = mapped_column(Integer, default=0)
    thumbnail_type: Mapped[str] = mapped_column(String(16), default="")
    thumbnail_width: Mapped[int] = mapped_column(Integer, default=0)
    thumbnail_height: Mapped[int] = mapped_column(Integer, default=0)
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    original_name: Mapped[str] = mapped_column(String(1024), default="")
    suggested_label: Mapped[str] = mapped_column(String(128), default="")
    upload_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    external: Mapped[bool] = mapped_column(default=False)
    source_bucket: Mapped[str] = mapped_column(String(255), default="")  # for ImportPrefix objects elsewhere
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_images_project_created", "project_id", "created_at", "image_id"),)


class SnapshotRow(Base):
    __tablename__ = "snapshots"

    snapshot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    manifest_key: Mapped[str] = mapped_column(String(1024))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    classes: Mapped[list] = mapped_column(JSON)  # type: ignore[type-arg]
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]
    labeled_count: Mapped[int] = mapped_column(BigInteger, default=0)
    unlabeled_count: Mapped[int] = mapped_column(BigInteger, default=0)
    validation_count: Mapped[int] = mapped_column(BigInteger, default=0)
    noisy_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
