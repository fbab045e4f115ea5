"""Ingest: validated, de-duplicated, content-addressed images become visible all at once.

An upload is a session: files (single images, or archive members expanded one by one) are validated,
thumbnailed and written to the object store in parallel threads as they arrive; nothing is visible until
`finish()` commits their index rows in one transaction. `abort()` (client cancelled, stream broke)
removes what the session wrote and nobody else references, so an interrupted upload leaves nothing.
One bad file never fails the batch: it gets a per-file result with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from harvest.common.errors import Cancelled, InvalidArgument
from harvest.common.objectstore import ObjectStore
from harvest.common.settings import StorageSettings
from harvest.storage.archives import ArchiveLimits, Member, read_tar, read_zip, sniff_archive
from harvest.storage.index import ImageRow
from harvest.storage.thumbnails import CONTENT_TYPES, ThumbnailPacker, make_thumbnail
from harvest.storage.validation import Rejected, RejectReason, ValidImage, validate_image

log = logging.getLogger(__name__)
PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
Status = Literal["stored", "duplicate", "rejected", "expanded"]
Kind = Literal["auto", "image", "zip", "tar"]


def check_project_id(project_id: str) -> str:
    if not PROJECT_ID.match(project_id or ""):
        raise InvalidArgument(f"invalid project id {project_id!r}")
    return project_id


def image_key(project_id: str, image_id: str, extension: str) -> str:
    return f"datasets/{project_id}/{image_id}.{extension}"


def thumbnail_prefix(project_id: str) -> str:
    return f"thumbnails/{project_id}/"


@dataclass
class FileResult:
    """What happened to one uploaded file or archive member."""

    name: str
    status: Status
    image_id: str = ""
    reason: RejectReason | None = None
    message: str = ""
    suggested_label: str = ""
    format: str = ""
    width: int = 0
    height: int = 0
    size_bytes: int = 0
    item_id: str = ""
    object_key: str = ""


@dataclass
class _Pending:
    result: FileResult
    row: ImageRow | None = None
    new_keys: list[str] = field(default_factory=list)


class UploadCancelled(Cancelled):
    """The client went away before the upload committed; the caller aborts it."""


class Ingestor:
    """Shared by all uploads of a storage process: thread pool, store, index, limits."""

    def __init__(self, store: ObjectStore, sessions: sessionmaker[Session], settings: StorageSettings) -> None:
        self.store = store
        self.sessions = sessions
        self.settings = settings
        self.pool = ThreadPoolExecutor(settings.ingest_workers, thread_name_prefix="ingest")
        self.archive_limits = ArchiveLimits(settings.max_image_bytes, settings.max_archive_members,
                                            settings.max_archive_bytes, settings.max_compression_ratio)
        # Commit and clean-up are serialised so an abort never deletes an object another upload just indexed;
        # keys written by uploads still in flight are counted so an abort never deletes one another
        # upload of the same image is about to index.
        self.index_lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._flight_lock = threading.Lock()
        self._known: dict[str, set[str]] = {}
        self._known_lock = threading.Lock()

    def known(self, project_id: str, image_id: str) -> bool:
        """Whether the project already holds the image (cache of committed ids, loaded once per project).

        A stale answer is harmless: an image another replica added meanwhile is processed again and
        then reported a duplicate by the insert's conflict check.
        """
        with self._known_lock:
            ids = self._known.get(project_id)
            if ids is None:
                with self.sessions() as session:
                    ids = set(session.scalars(select(ImageRow.image_id).where(ImageRow.project_id == project_id)))
                self._known[project_id] = ids
            return image_id in ids

    def remember(self, project_id: str, image_ids: set[str]) -> None:
        with self._known_lock:
            if project_id in self._known:
                self._known[project_id] |= image_ids

    def forget(self, project_id: str, image_ids: list[str]) -> None:
        with self._known_lock:
            if project_id in self._known:
                self._known[project_id].difference_update(image_ids)

    def hold(self, keys: list[str]) -> None:
        with self._flight_lock:  # not index_lock: workers must not wait for another upload's commit
            for key in keys:
                self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def release(self, keys: list[str]) -> list[str]:
        """Drop this upload's hold on keys (call with index_lock held); returns keys nobody else holds."""
        free = []
        with self._flight_lock:
            for key in keys:
                count = self._in_flight.get(key, 0) - 1
                if count <= 0:
                    self._in_flight.pop(key, None)
                    free.append(key)
                else:
                    self._in_flight[key] = count
        return free

    def start(self, project_id: str, *, created_by: str = "", upload_id: str = "",
              folder_labels: bool = True) -> Upload:
        return Upload(self, check_project_id(project_id), created_by, upload_id or uuid.uuid4().hex, folder_labels)

    def project_totals(self, project_id: str) -> tuple[int, int]:
        with self.sessions() as session:
            count, size = session.execute(
                select(func.count(ImageRow.image_id), func.coalesce(func.sum(ImageRow.size_bytes), 0))
                .where(ImageRow.project_id == project_id)).one()
        return int(count), int(size)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class Upload:
    """One upload session (one UploadImages stream, one ImageFolder import…)."""

    def __init__(self, ingestor: Ingestor, project_id: str, created_by: str, upload_id: str,
                 folder_labels: bool) -> None:
        self._ing = ingestor
        self.project_id = project_id
        self.created_by = created_by
        self.upload_id = upload_id
        self._folder_labels = folder_labels
        self._items: list[Future[_Pending] | _Pending] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._count, self._bytes = ingestor.project_totals(project_id)
        self._thumbnails = ThumbnailPacker(ingestor.store, thumbnail_prefix(project_id))
        self._finished = False

    # -- adding files ------------------------------------------------------------------------------

    def add_external(self, key: str, data: bytes, source_bucket: str, suggested_label: str = "") -> None:
        """Queue an object that already lives in a bucket: validated and indexed where it is, not copied."""
        self._items.append(self._ing.pool.submit(self._process, key, data, _clean_label(suggested_label),
                                                 (key, source_bucket)))

    def add(self, name: str, source: bytes | BinaryIO, *, size: int | None = None, kind: Kind = "auto",
            suggested_label: str = "") -> None:
        """Queue one uploaded file: an image, or a zip/tar archive whose members are each queued.

        A declared SHA-256 is checked by whoever receives the bytes (the servicer hashes as they arrive).
        """
        data = source if isinstance(source, bytes) else None
        head = data[:512] if data is not None else _peek(source, 512)  # type: ignore[arg-type]
        archive = sniff_archive(head) if kind == "auto" else (kind if kind in ("zip", "tar") else None)
        if archive is None:
            payload = data if data is not None else source.read()  # type: ignore[union-attr]
            self._submit(name, payload, suggested_label or self._label_from_name(name))
            return
        stream = _as_stream(source)
        total = size if size is not None else _stream_size(stream)
        try:
            members = read_zip(stream, self._ing.archive_limits) if archive == "zip" else \
                read_tar(stream, total, self._ing.archive_limits)
            expanded = 0
            for member in members:
                expanded += 1
                self._add_member(name, member)
        except Rejected as rejected:
            self.record(FileResult(name, "rejected", reason=rejected.reason, message=rejected.message))
            return
        self.record(FileResult(name, "expanded", message=f"{expanded} member(s)", size_bytes=total))

    def _add_member(self, archive_name: str, member: Member) -> None:
        name = f"{archive_name}/{member.path}"
        if member.rejected is not None:
            self.record(FileResult(name, "rejected", reason=member.rejected.reason, message=member.rejected.message))
            return
        assert member.data is not None
        label = (member.folder_label or "") if self._folder_labels else ""
        self._submit(name, member.data, label)

    def _label_from_name(self, name: str) -> str:
        """ImageFolder uploads send `class/file.jpg` names; the directory is the suggested class."""
        if not self._folder_labels or "/" not in name.replace("\\", "/"):
            return ""
        return name.replace("\\", "/").rsplit("/", 2)[-2]

    def _submit(self, name: str, data: bytes, label: str) -> None:
        self._items.append(self._ing.pool.submit(self._process, name, data, _clean_label(label)))

    def record(self, result: FileResult) -> None:
        """Add a result decided without processing (e.g. a file refused while it was received)."""
        self._items.append(_Pending(result))

    # -- per-file work (pool threads) ----------------------------------------------------------------

    def _process(self, name: str, data: bytes, label: str, external: tuple[str, str] | None = None) -> _Pending:
        settings = self._ing.settings
        image_id = hashlib.sha256(data).hexdigest()
        base = FileResult(name, "duplicate", image_id=image_id, suggested_label=label, size_bytes=len(data))
        with self._lock:
            if image_id in self._seen:
                base.message = "same image earlier in this upload"
                return _Pending(base)
            self._seen.add(image_id)
        if self._ing.known(self.project_id, image_id):
            existing = self._existing(image_id)
            if existing is not None:
                base.message = "already in the project"
                base.format, base.width, base.height = existing.format, existing.width, existing.height
                base.object_key = existing.object_key
                return _Pending(base)
        try:
            valid = validate_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
            self._reserve_quota(len(data))
        except Rejected as rejected:
            with self._lock:
                self._seen.discard(image_id)
            return _Pending(FileResult(name, "rejected", image_id=image_id, reason=rejected.reason,
                                       message=rejected.message, size_bytes=len(data)))
        return self._store(base, data, valid, external)

    def _existing(self, image_id: str) -> ImageRow | None:
        with self._ing.sessions() as session:
            return session.get(ImageRow, (self.project_id, image_id))

    def _reserve_quota(self, size: int) -> None:
        settings = self._ing.settings
        with self._lock:
            if settings.quota_images and self._count + 1 > settings.quota_images:
                raise Rejected(RejectReason.QUOTA_EXCEEDED,
                               f"the project already holds its quota of {settings.quota_images:,} images")
            if settings.quota_bytes and self._bytes + size > settings.quota_bytes:
                raise Rejected(RejectReason.QUOTA_EXCEEDED,
                               f"storing it would exceed the project's quota of {settings.quota_bytes:,} bytes")
            self._count += 1
            self._bytes += size

    def _store(self, result: FileResult, data: bytes, valid: ValidImage,
               external: tuple[str, str] | None) -> _Pending:
        settings = self._ing.settings
        key = external[0] if external else image_key(self.project_id, result.image_id, valid.extension)
        thumb, thumb_w, thumb_h = make_thumbnail(valid.image, settings.thumbnail_px, settings.thumbnail_format)
        self._thumbnails.add(result.image_id, thumb)
        new_keys = [] if external else [key]
        self._ing.hold(new_keys)
        if external is None:
            self._ing.store.put(key, data, content_type=f"image/{valid.format}")
        result.status, result.message, result.object_key = "stored", "", key
        result.format, result.width, result.height = valid.format, valid.width, valid.height
        row = ImageRow(project_id=self.project_id, image_id=result.image_id, object_key=key,
                       thumbnail_type=CONTENT_TYPES[settings.thumbnail_format],
                       thumbnail_width=thumb_w, thumbnail_height=thumb_h, format=valid.format, width=valid.width,
                       height=valid.height, size_bytes=len(data), original_name=result.name[-1024:],
                       suggested_label=result.suggested_label, upload_id=self.upload_id, created_by=self.created_by,
                       external=external is not None, source_bucket=external[1] if external else "")
        return _Pending(result, row, new_keys)

    # -- ending ----------------------------------------------------------------------------------------

    def results_so_far(self) -> int:
        return len(self._items)

    def finish(self, still_wanted: Callable[[], bool] = lambda: True) -> list[FileResult]:
        """Wait for every file, make the stored ones visible in one transaction, return per-file results.

        `still_wanted` is asked right before the commit: a client that went away meanwhile gets nothing
        committed (UploadCancelled), exactly as if it had cancelled mid-file.
        """
        pending = [item.result() if isinstance(item, Future) else item for item in self._items]
        self._thumbnails.flush()
        if not still_wanted():
            raise UploadCancelled("the client cancelled the upload before it was committed")
        rows = [p.row for p in pending if p.row is not None]
        for row in rows:
            placed = self._thumbnails.placed[row.image_id]
            row.thumbnail_key, row.thumbnail_offset, row.thumbnail_length = placed.key, placed.offset, placed.length
        with self._ing.index_lock:
            inserted = self._insert(rows)
            for item in pending:
                self._ing.release(item.new_keys)
        for item in pending:
            if item.row is not None and item.row.image_id not in inserted:
                item.result.status = "duplicate"  # a concurrent upload indexed the same image first
                item.result.message = "stored by a concurrent upload"
        used_packs = {row.thumbnail_key for row in rows if row.image_id in inserted}
        for pack in set(self._thumbnails.written) - used_packs:
            self._ing.store.delete(pack)  # every thumbnail in it lost the race to a concurrent upload
        self._finished = True
        return [item.result for item in pending]

    def _insert(self, rows: list[ImageRow]) -> set[str]:
        if not rows:
            return set()
        # One commit time for the whole upload (microsecond precision, set here rather than by the
        # database) keeps listing order and page tokens exact on SQLite and PostgreSQL alike.
        committed_at = dt.datetime.now(dt.UTC)
        columns = list(ImageRow.__table__.columns)
        values = [{**{c.name: getattr(r, c.key) for c in columns if getattr(r, c.key) is not None},
                   "created_at": committed_at} for r in rows]
        with self._ing.sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # executemany with RETURNING ("insertmanyvalues"): one cached statement, batched round trips.
            statement = insert(ImageRow).on_conflict_do_nothing().returning(ImageRow.image_id)
            result = session.execute(statement, values)
            inserted = set(result.scalars().all())
        self._ing.remember(self.project_id, inserted)
        return inserted

    def abort(self) -> None:
        """Forget the upload: delete the objects it created that no committed image references."""
        if self._finished:
            return
        pending: list[_Pending] = []
        for item in self._items:
            if isinstance(item, Future):
                item.cancel()
                if not item.cancelled():
                    try:
                        pending.append(item.result())
                    except Exception:  # noqa: BLE001 - a failed file left nothing to clean
                        continue
        garbage = list(self._thumbnails.written)  # packs belong to this upload alone
        with self._ing.index_lock:
            for item in pending:
                free = self._ing.release(item.new_keys)
                if item.row is not None and free and self._existing(item.row.image_id) is None:
                    garbage.extend(free)
            for key in garbage:
                try:
                    self._ing.store.delete(key)
                except Exception:  # noqa: BLE001 - an orphan is invisible; never mask the abort's cause
                    log.warning("could not remove %s after an aborted upload", key, exc_info=True)
        self._finished = True


def _clean_label(label: str) -> str:
    label = label.strip()
    return label[:128] if label and label not in (".", "..") else ""


def _peek(stream: BinaryIO, size: int) -> bytes:
    position = stream.tell()
    head = stream.read(size)
    stream.seek(position)
    return head


def _stream_size(stream: BinaryIO) -> int:
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


def _as_stream(source: bytes | BinaryIO) -> BinaryIO:
    import io

    return io.BytesIO(source) if isinstance(source, bytes) else source

