"""Reading the image index: listing with filters and stable pagination, statistics and quotas,
originals, thumbnails, presigned downloads, deletion."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from harvest.common.errors import InvalidArgument, NotFound
from harvest.common.objectstore import ObjectStore
from harvest.common.settings import StorageSettings
from harvest.storage.index import ImageRow, SnapshotRow
from harvest.storage.ingest import check_project_id

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
IMAGE_ID_LENGTH = 64


@dataclass(frozen=True)
class ImageFilters:
    format: str = ""
    upload_id: str = ""
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    suggested_label: str = ""
    name_contains: str = ""

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DatasetStats:
    image_count: int
    total_bytes: int
    quota_bytes: int
    quota_images: int
    images_by_format: dict[str, int]
    snapshot_count: int


def check_image_id(image_id: str) -> str:
    if len(image_id) != IMAGE_ID_LENGTH or any(c not in "0123456789abcdef" for c in image_id):
        raise InvalidArgument(f"invalid image id {image_id!r}: expected 64 lowercase hex characters (SHA-256)")
    return image_id


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(position: dict[str, str], filters: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"p": position, "f": filters}).encode()).decode()


def decode_token(token: str, filters: str) -> dict[str, str] | None:
    if not token:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(token.encode()))
        position, issued_for = raw["p"], raw["f"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token is not one this service issued") from None
    if issued_for != filters:
        raise InvalidArgument("page_token was issued for other filters; start again without it")
    return position  # type: ignore[no-any-return]


class Catalog:
    def __init__(self, store: ObjectStore, sessions: sessionmaker[Session], settings: StorageSettings,
                 external_store: Callable[[str], ObjectStore] | None = None,
                 on_delete: Callable[[str, list[str]], None] | None = None) -> None:
        self.store = store
        self._on_delete = on_delete
        self.sessions = sessions
        self.settings = settings
        self._external_store = external_store

    def image(self, project_id: str, image_id: str) -> ImageRow:
        check_project_id(project_id)
        with self.sessions() as session:
            row = session.get(ImageRow, (project_id, check_image_id(image_id)))
        if row is None:
            raise NotFound(f"no image {image_id} in project {project_id}")
        return row

    def store_for(self, row: ImageRow) -> ObjectStore:
        """Where the original lives: our store, or the bucket an ImportPrefix registered it from."""
        if row.source_bucket and self._external_store is not None:
            return self._external_store(row.source_bucket)
        return self.store

    def open_original(self, project_id: str, image_id: str) -> tuple[ImageRow, Iterator[bytes]]:
        row = self.image(project_id, image_id)
        return row, self.store_for(row).iter_chunks(row.object_key, 1024 * 1024)

    def thumbnails(self, project_id: str, image_ids: list[str]) -> tuple[list[tuple[ImageRow, bytes]], list[str]]:
        check_project_id(project_id)
        ids = [check_image_id(i) for i in image_ids]
        if len(ids) > MAX_PAGE_SIZE:
            raise InvalidArgument(f"at most {MAX_PAGE_SIZE} thumbnails per call")
        with self.sessions() as session:
            rows = {r.image_id: r for r in session.scalars(
                select(ImageRow).where(ImageRow.project_id == project_id, ImageRow.image_id.in_(ids)))}
        found, missing = [], []
        by_pack: dict[str, list[ImageRow]] = {}
        for image_id in ids:
            row = rows.get(image_id)
            if row is None or not row.thumbnail_key:
                missing.append(image_id)
            else:
                by_pack.setdefault(row.thumbnail_key, []).append(row)
        data: dict[str, bytes] = {}
        for pack, members in by_pack.items():
            data.update(self._read_pack(pack, members))
        for image_id in ids:
            if image_id in data:
                found.append((rows[image_id], data[image_id]))
            elif image_id not in missing:
                missing.append(image_id)
        return found, missing

    def _read_pack(self, pack: str, members: list[ImageRow]) -> dict[str, bytes]:
        """Thumbnails from one pack with one ranged read covering them all."""
        start = min(r.thumbnail_offset for r in members)
        end = max(r.thumbnail_offset + r.thumbnail_length for r in members)
        try:
            block = self.store.get_range(pack, start, end - start)
        except NotFound:
            return {}
        return {r.image_id: block[r.thumbnail_offset - start:r.thumbnail_offset - start + r.thumbnail_length]
                for r in members}

    def list(self, project_id: str, filters: ImageFilters, requested_size: int = 0,
             token: str = "") -> tuple[list[ImageRow], str, int]:
        """A page of images in upload order (stable under concurrent uploads), the next token, the total."""
        check_project_id(project_id)
        size = page_size(requested_size)
        fingerprint = filters.fingerprint()
        position = decode_token(token, fingerprint)
        conditions = [ImageRow.project_id == project_id]
        if filters.format:
            conditions.append(ImageRow.format == filters.format)
        if filters.upload_id:
            conditions.append(ImageRow.upload_id == filters.upload_id)
        if filters.created_after:
            conditions.append(ImageRow.created_at >= filters.created_after)
        if filters.created_before:
            conditions.append(ImageRow.created_at < filters.created_before)
        if filters.suggested_label:
            conditions.append(ImageRow.suggested_label == filters.suggested_label)
        if filters.name_contains:
            conditions.append(ImageRow.original_name.contains(filters.name_contains, autoescape=True))
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(ImageRow).where(*conditions)) or 0
            query = select(ImageRow).where(*conditions)
            if position is not None:
                after = dt.datetime.fromisoformat(position["t"])
                query = query.where(or_(ImageRow.created_at > after,
                                        and_(ImageRow.created_at == after, ImageRow.image_id > position["i"])))
            rows = list(session.scalars(query.order_by(ImageRow.created_at, ImageRow.image_id).limit(size + 1)))
        next_token = ""
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            next_token = encode_token({"t": last.created_at.isoformat(), "i": last.image_id}, fingerprint)
        return rows, next_token, int(total)

    def stats(self, project_id: str) -> DatasetStats:
        check_project_id(project_id)
        with self.sessions() as session:
            by_format = dict(session.execute(
                select(ImageRow.format, func.count()).where(ImageRow.project_id == project_id)
                .group_by(ImageRow.format)).all())
            total_bytes = session.scalar(select(func.coalesce(func.sum(ImageRow.size_bytes), 0))
                                         .where(ImageRow.project_id == project_id)) or 0
            snapshots = session.scalar(select(func.count()).select_from(SnapshotRow)
                                       .where(SnapshotRow.project_id == project_id)) or 0
        return DatasetStats(sum(by_format.values()), int(total_bytes), self.settings.quota_bytes,
                            self.settings.quota_images, {k: int(v) for k, v in by_format.items()}, int(snapshots))

    def delete(self, project_id: str, image_ids: list[str]) -> tuple[list[str], list[str]]:
        """Remove images: the index row first (so they vanish at once), then their objects."""
        check_project_id(project_id)
        ids = list(dict.fromkeys(check_image_id(i) for i in image_ids))
        with self.sessions.begin() as session:
            rows = list(session.scalars(select(ImageRow).where(ImageRow.project_id == project_id,
                                                               ImageRow.image_id.in_(ids))))
            session.execute(delete(ImageRow).where(ImageRow.project_id == project_id,
                                                   ImageRow.image_id.in_([r.image_id for r in rows])))
        if self._on_delete is not None:
            self._on_delete(project_id, [r.image_id for r in rows])
        for row in rows:  # thumbnails stay in their pack (shared with other images) until it is compacted
            if not row.external:
                self.store.delete(row.object_key)
        deleted = {r.image_id for r in rows}
        return [i for i in ids if i in deleted], [i for i in ids if i not in deleted]

    def presign_image(self, project_id: str, image_id: str, expires_s: int) -> str:
        row = self.image(project_id, image_id)
        return self.store_for(row).presign_get(row.object_key, _expiry(expires_s))


def _expiry(expires_s: int) -> int:
    if expires_s < 0 or expires_s > 7 * 24 * 3600:
        raise InvalidArgument("expires_in_s must be between 0 and 604800 (7 days)")
    return expires_s or 3600
