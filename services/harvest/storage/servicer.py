"""gRPC layer of the storage service: checks the caller may see the project, translates messages to and
from the core (ingest, catalog, snapshots, run objects, prefix imports), nothing else."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from harvest.common import snapshots
from harvest.common.auth import Role, caller_token, current_principal
from harvest.common.errors import InvalidArgument, NotFound, PermissionDenied
from harvest.common.server import Register, registrar
from harvest.common.timestamps import to_timestamp
from harvest.storage.catalog import Catalog, ImageFilters
from harvest.storage.formats import FORMAT_NAMES, IMAGE_FORMATS
from harvest.storage.index import ImageRow, SnapshotRow
from harvest.storage.ingest import FileResult, Ingestor, Upload, UploadCancelled, check_project_id
from harvest.storage.labels_link import LabelsLink
from harvest.storage.prefix_import import ImportOperation, PrefixImports
from harvest.storage.snapshot_store import RunObjects, SnapshotStore
from harvest.storage.validation import RejectReason
from harvest.v1 import common_pb2, storage_pb2, storage_pb2_grpc

MAX_CHUNK = common_pb2.LIMIT_MAX_CHUNK_BYTES
SPOOL_IN_MEMORY = 8 * 1024 * 1024
_STATUS = {"stored": storage_pb2.FILE_STATUS_STORED, "duplicate": storage_pb2.FILE_STATUS_DUPLICATE,
           "rejected": storage_pb2.FILE_STATUS_REJECTED, "expanded": storage_pb2.FILE_STATUS_EXPANDED}
_KIND = {storage_pb2.UPLOAD_FILE_KIND_IMAGE: "image", storage_pb2.UPLOAD_FILE_KIND_ZIP: "zip",
         storage_pb2.UPLOAD_FILE_KIND_TAR: "tar"}
_SPLIT = {"labeled": common_pb2.SPLIT_LABELED, "unlabeled": common_pb2.SPLIT_UNLABELED,
          "validation": common_pb2.SPLIT_VALIDATION}
_SPLIT_NAME = {value: name for name, value in _SPLIT.items()}


def file_result_message(result: FileResult) -> storage_pb2.FileResult:
    reason = storage_pb2.RejectReason.Value(f"REJECT_REASON_{result.reason.name}") if result.reason else 0
    return storage_pb2.FileResult(
        name=result.name, status=_STATUS[result.status], image_id=result.image_id, reject_reason=reason,
        message=result.message, suggested_label=result.suggested_label, item_id=result.item_id,
        format=IMAGE_FORMATS.get(result.format, 0), width=result.width, height=result.height,
        size_bytes=result.size_bytes)


def summary_message(results: list[FileResult]) -> storage_pb2.IngestSummary:
    stored = [r for r in results if r.status == "stored"]
    return storage_pb2.IngestSummary(stored=len(stored), duplicate=sum(r.status == "duplicate" for r in results),
                                     rejected=sum(r.status == "rejected" for r in results),
                                     stored_bytes=sum(r.size_bytes for r in stored))


def image_record(row: ImageRow) -> storage_pb2.ImageRecord:
    return storage_pb2.ImageRecord(
        image_id=row.image_id, project_id=row.project_id, object_key=row.object_key,
        format=IMAGE_FORMATS.get(row.format, 0), width=row.width, height=row.height, size_bytes=row.size_bytes,
        original_name=row.original_name, suggested_label=row.suggested_label, upload_id=row.upload_id,
        external=row.external, created_by=row.created_by, created_at=to_timestamp(row.created_at))


def snapshot_message(row: SnapshotRow) -> common_pb2.Snapshot:
    message = common_pb2.Snapshot(
        snapshot_id=row.snapshot_id, project_id=row.project_id, manifest_key=row.manifest_key,
        manifest_sha256=row.manifest_sha256, format=snapshots.FORMAT, labeled_count=row.labeled_count,
        unlabeled_count=row.unlabeled_count, validation_count=row.validation_count, noisy_count=row.noisy_count,
        created_by=row.created_by, created_at=to_timestamp(row.created_at))
    for index, name in enumerate(row.classes):
        message.classes.add(index=index, name=name)
    return message


class _IncomingFile:
    """One file of an upload stream being received: in memory up to 8 MiB, then spooled to disk; hashed
    as it arrives so the declared SHA-256 is checked end to end."""

    def __init__(self, header: storage_pb2.UploadFile, max_bytes: int) -> None:
        self.header = header
        self.max_bytes = max_bytes
        self.memory = bytearray()
        self.disk: BinaryIO | None = None
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            return  # keep draining the stream; the file is refused when it ends
        self.digest.update(data)
        if self.disk is None and len(self.memory) + len(data) > SPOOL_IN_MEMORY:
            self.disk = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            self.disk.write(self.memory)
            self.memory = bytearray()
        if self.disk is not None:
            self.disk.write(data)
        else:
            self.memory.extend(data)

    def hand_to(self, upload: Upload) -> None:
        header = self.header
        name = header.name or f"file-{upload.results_so_far() + 1}"
        if self.size > self.max_bytes:
            upload.record(FileResult(name, "rejected", reason=RejectReason.TOO_LARGE, size_bytes=self.size,
                                     message=f"{self.size:,} bytes is over the {self.max_bytes:,}-byte upload limit"))
            return
        if header.size_bytes and header.size_bytes != self.size:
            upload.record(FileResult(name, "rejected", reason=RejectReason.CORRUPT, size_bytes=self.size,
                                     message=f"received {self.size:,} bytes, the header announced "
                                             f"{header.size_bytes:,} (interrupted transfer?)"))
            return
        actual = self.digest.hexdigest()
        if header.sha256 and header.sha256.lower() != actual:
            upload.record(FileResult(name, "rejected", reason=RejectReason.CHECKSUM_MISMATCH, size_bytes=self.size,
                                     message=f"SHA-256 {actual} does not match the declared {header.sha256}"))
            return
        kind = _KIND.get(header.kind, "auto")
        if self.disk is None:
            upload.add(name, bytes(self.memory), kind=kind, suggested_label=header.suggested_label)  # type: ignore[arg-type]
        else:
            self.disk.seek(0)
            upload.add(name, self.disk, size=self.size, kind=kind, suggested_label=header.suggested_label)  # type: ignore[arg-type]

    def close(self) -> None:
        self.memory = bytearray()
        if self.disk is not None:
            self.disk.close()


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    def __init__(self, ingestor: Ingestor, catalog: Catalog, snapshot_store: SnapshotStore, runs: RunObjects,
                 imports: PrefixImports, link: LabelsLink | None) -> None:
        self.ingestor = ingestor
        self.catalog = catalog
        self.snapshots = snapshot_store
        self.runs = runs
        self.imports = imports
        self.link = link

    def _member(self, context: grpc.ServicerContext, project_id: str) -> str:
        """Check the caller may see the project; returns their token (to act on their behalf)."""
        check_project_id(project_id)
        token = caller_token(context.invocation_metadata())
        if self.link is not None:
            self.link.check_member(current_principal(), token, project_id)
        return token

    # -- ingest ---------------------------------------------------------------------------------------

    def UploadImages(self, request_iterator: Iterator[storage_pb2.UploadImagesRequest],
                     context: grpc.ServicerContext) -> storage_pb2.UploadImagesResponse:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("payload") != "metadata":
            raise InvalidArgument("the first message of UploadImages must carry `metadata` (project_id, …)")
        meta = first.metadata
        token = self._member(context, meta.project_id)
        policy = meta.suggested_label_policy or common_pb2.SUGGESTED_LABEL_POLICY_SUGGEST
        upload = self.ingestor.start(meta.project_id, created_by=current_principal().username,
                                     upload_id=meta.upload_id,
                                     folder_labels=policy != common_pb2.SUGGESTED_LABEL_POLICY_IGNORE)
        incoming: _IncomingFile | None = None
        try:
            for request in request_iterator:
                kind = request.WhichOneof("payload")
                if kind == "file":
                    if incoming is not None:
                        incoming.hand_to(upload)
                        incoming.close()
                    incoming = _IncomingFile(request.file, self.ingestor.settings.max_upload_bytes)
                elif kind == "chunk":
                    if incoming is None:
                        raise InvalidArgument("a chunk arrived before any `file` message")
                    if len(request.chunk.data) > MAX_CHUNK:
                        size = len(request.chunk.data)
                        raise InvalidArgument(f"chunks carry at most {MAX_CHUNK:,} bytes; got {size:,}")
                    incoming.write(request.chunk.data)
                else:
                    raise InvalidArgument("`metadata` may only be sent once, first")
            if not context.is_active():  # a cancelled stream can simply end: never commit its remains
                raise UploadCancelled("the client cancelled the upload")
            if incoming is not None:
                incoming.hand_to(upload)
            results = upload.finish(still_wanted=context.is_active)
        except BaseException:
            upload.abort()
            raise
        finally:
            if incoming is not None:
                incoming.close()
        if not meta.skip_item_registration and self.link is not None:
            problem = self.link.register(token, meta.project_id, results, policy)
            if problem:
                context.set_trailing_metadata((("harvest-registration-error", problem),))
        return storage_pb2.UploadImagesResponse(results=[file_result_message(r) for r in results],
                                                summary=summary_message(results), upload_id=upload.upload_id)

    def ImportPrefix(self, request: storage_pb2.ImportPrefixRequest,
                     context: grpc.ServicerContext) -> storage_pb2.ImportPrefixResponse:
        token = self._member(context, request.project_id)
        operation_id = self.imports.start(
            request.project_id, request.bucket, request.prefix, image_folder=request.image_folder,
            created_by=current_principal().username,
            after=None if request.skip_item_registration or self.link is None else
            (lambda results: self.link.register(token, request.project_id, results,  # type: ignore[union-attr]
                                                request.suggested_label_policy or 1)))
        return storage_pb2.ImportPrefixResponse(operation_id=operation_id)

    def WatchImport(self, request: storage_pb2.WatchImportRequest,
                    context: grpc.ServicerContext) -> Iterator[storage_pb2.WatchImportResponse]:
        operation = self.imports.get(request.operation_id)
        self._member(context, operation.project_id)
        for snapshot in self.imports.watch(request.operation_id, lambda: context.is_active()):
            response = storage_pb2.WatchImportResponse(operation=operation_message(snapshot))
            if snapshot.finished:
                response.results.extend(file_result_message(r) for r in snapshot.results)
                response.summary.CopyFrom(summary_message(snapshot.results))
            yield response

    # -- reading images -------------------------------------------------------------------------------

    def GetImage(self, request: storage_pb2.GetImageRequest,
                 context: grpc.ServicerContext) -> Iterator[storage_pb2.GetImageResponse]:
        self._member(context, request.image.project_id)
        row, chunks = self.catalog.open_original(request.image.project_id, request.image.image_id)
        yield storage_pb2.GetImageResponse(info=image_record(row))
        for chunk in chunks:
            yield storage_pb2.GetImageResponse(chunk=chunk)

    def GetThumbnail(self, request: storage_pb2.GetThumbnailRequest,
                     context: grpc.ServicerContext) -> storage_pb2.GetThumbnailResponse:
        self._member(context, request.image.project_id)
        found, _ = self.catalog.thumbnails(request.image.project_id, [request.image.image_id])
        if not found:
            raise NotFound(f"no thumbnail for image {request.image.image_id}")
        return storage_pb2.GetThumbnailResponse(thumbnail=_thumbnail(*found[0]))

    def BatchGetThumbnails(self, request: storage_pb2.BatchGetThumbnailsRequest,
                           context: grpc.ServicerContext) -> storage_pb2.BatchGetThumbnailsResponse:
        self._member(context, request.project_id)
        found, missing = self.catalog.thumbnails(request.project_id, list(request.image_ids))
        return storage_pb2.BatchGetThumbnailsResponse(thumbnails=[_thumbnail(r, d) for r, d in found],
                                                      missing_image_ids=missing)

    def PresignDownload(self, request: storage_pb2.PresignDownloadRequest,
                        context: grpc.ServicerContext) -> storage_pb2.PresignDownloadResponse:
        expires = request.expires_in_s or 3600
        target = request.WhichOneof("target")
        if target == "image":
            self._member(context, request.image.project_id)
            url = self.catalog.presign_image(request.image.project_id, request.image.image_id, expires)
        elif target == "snapshot_id":
            row = self.snapshots.get(request.snapshot_id)
            self._member(context, row.project_id)
            url = self.snapshots.store.presign_get(row.manifest_key, expires)
        elif target == "run_object":
            self._run_member(context, request.run_object.job_id)
            info, _ = self.runs.read(request.run_object.job_id, request.run_object.path)
            url = self.runs.store.presign_get(info.key, expires)
        else:
            raise InvalidArgument("name what to download: image, snapshot_id or run_object")
        expires_at = Timestamp()
        expires_at.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires))
        return storage_pb2.PresignDownloadResponse(url=url, expires_at=expires_at)

    def ListImages(self, request: storage_pb2.ListImagesRequest,
                   context: grpc.ServicerContext) -> storage_pb2.ListImagesResponse:
        self._member(context, request.project_id)
        filters = ImageFilters(
            format=FORMAT_NAMES.get(request.format, ""), upload_id=request.upload_id,
            created_after=request.created_after.ToDatetime(dt.UTC) if request.HasField("created_after") else None,
            created_before=request.created_before.ToDatetime(dt.UTC) if request.HasField("created_before") else None,
            suggested_label=request.suggested_label, name_contains=request.name_contains)
        rows, token, total = self.catalog.list(request.project_id, filters, request.page.page_size,
                                               request.page.page_token)
        return storage_pb2.ListImagesResponse(images=[image_record(r) for r in rows],
                                              page=common_pb2.PageInfo(next_page_token=token, total_size=total))

    def GetDatasetStats(self, request: storage_pb2.GetDatasetStatsRequest,
                        context: grpc.ServicerContext) -> storage_pb2.GetDatasetStatsResponse:
        self._member(context, request.project_id)
        stats = self.catalog.stats(request.project_id)
        return storage_pb2.GetDatasetStatsResponse(
            image_count=stats.image_count, total_bytes=stats.total_bytes, quota_bytes=stats.quota_bytes,
            quota_images=stats.quota_images, images_by_format=stats.images_by_format,
            snapshot_count=stats.snapshot_count)

    def DeleteImages(self, request: storage_pb2.DeleteImagesRequest,
                     context: grpc.ServicerContext) -> storage_pb2.DeleteImagesResponse:
        self._member(context, request.project_id)
        if not request.image_ids:
            raise InvalidArgument("image_ids is empty")
        deleted, missing = self.catalog.delete(request.project_id, list(request.image_ids))
        return storage_pb2.DeleteImagesResponse(deleted_image_ids=deleted, missing_image_ids=missing)

    # -- snapshots and runs ---------------------------------------------------------------------------

    def CreateSnapshot(self, request_iterator: Iterator[storage_pb2.CreateSnapshotRequest],
                       context: grpc.ServicerContext) -> storage_pb2.CreateSnapshotResponse:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("payload") != "metadata":
            raise InvalidArgument("the first message of CreateSnapshot must carry `metadata`")
        meta = first.metadata
        self._member(context, meta.project_id)
        classes = [c.name for c in sorted(meta.classes, key=lambda c: c.index)]
        entries = []
        for request in request_iterator:
            if request.WhichOneof("payload") != "entries":
                raise InvalidArgument("after `metadata`, CreateSnapshot takes only `entries` messages")
            for entry in request.entries.entries:
                if entry.split not in _SPLIT_NAME:
                    raise InvalidArgument(f"entry {entry.key!r}: split is not set")
                entries.append(snapshots.ManifestEntry(
                    key=entry.key, sha256=entry.sha256, width=entry.width, height=entry.height,
                    label=entry.label if entry.HasField("label") else None, split=_SPLIT_NAME[entry.split],  # type: ignore[arg-type]
                    item_id=entry.item_id, noisy=entry.noisy))
        from google.protobuf.json_format import MessageToDict

        row, created = self.snapshots.create(meta.project_id, classes, entries, options=MessageToDict(meta.options),
                                            created_by=current_principal().username, seed=meta.options.seed)
        return storage_pb2.CreateSnapshotResponse(snapshot=snapshot_message(row), already_existed=not created)

    def GetSnapshot(self, request: storage_pb2.GetSnapshotRequest,
                    context: grpc.ServicerContext) -> storage_pb2.GetSnapshotResponse:
        row = self.snapshots.get(request.snapshot_id)
        self._member(context, row.project_id)
        return storage_pb2.GetSnapshotResponse(snapshot=snapshot_message(row))

    def ListSnapshotEntries(self, request: storage_pb2.ListSnapshotEntriesRequest,
                            context: grpc.ServicerContext) -> storage_pb2.ListSnapshotEntriesResponse:
        row = self.snapshots.get(request.snapshot_id)
        self._member(context, row.project_id)
        split = _SPLIT_NAME.get(request.split, "")
        entries, token, total = self.snapshots.entries(request.snapshot_id, request.page.page_size,
                                                       request.page.page_token, split=split)
        response = storage_pb2.ListSnapshotEntriesResponse(page=common_pb2.PageInfo(next_page_token=token,
                                                                                    total_size=total))
        for entry in entries:
            message = response.entries.add(key=entry.key, sha256=entry.sha256, width=entry.width,
                                           height=entry.height, split=_SPLIT[entry.split], item_id=entry.item_id,
                                           noisy=entry.noisy)
            if entry.label is not None:
                message.label = entry.label
        return response

    def _run_member(self, context: grpc.ServicerContext, job_id: str) -> None:
        """Runs belong to the project recorded in `runs/<job>/job.json` by the scheduler."""
        principal = current_principal()
        project_id = self.runs.project_of(job_id)
        if project_id is None:
            if principal.role is not Role.ADMIN:
                raise PermissionDenied(f"run {job_id!r} records no project; only administrators may read it")
            return
        self._member(context, project_id)

    def ListRunObjects(self, request: storage_pb2.ListRunObjectsRequest,
                       context: grpc.ServicerContext) -> storage_pb2.ListRunObjectsResponse:
        self._run_member(context, request.job_id)
        objects = self.runs.list(request.job_id, request.prefix)
        prefix_len = len(f"runs/{request.job_id}/")
        return storage_pb2.ListRunObjectsResponse(
            objects=[storage_pb2.RunObjectInfo(path=o.key[prefix_len:], size_bytes=o.size,
                                               updated_at=to_timestamp(o.modified)) for o in objects],
            page=common_pb2.PageInfo(total_size=len(objects)))

    def ReadRunObject(self, request: storage_pb2.ReadRunObjectRequest,
                      context: grpc.ServicerContext) -> Iterator[storage_pb2.ReadRunObjectResponse]:
        self._run_member(context, request.object.job_id)
        if request.offset < 0 or request.length < 0:
            raise InvalidArgument("offset and length must not be negative")
        info, chunks = self.runs.read(request.object.job_id, request.object.path)
        yield storage_pb2.ReadRunObjectResponse(info=storage_pb2.RunObjectInfo(
            path=request.object.path, size_bytes=info.size, updated_at=to_timestamp(info.modified)))
        skip, remaining = request.offset, request.length or info.size
        for chunk in chunks:
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            piece = chunk[skip:skip + remaining]
            skip = 0
            remaining -= len(piece)
            yield storage_pb2.ReadRunObjectResponse(chunk=piece)
            if remaining <= 0:
                return


_OPERATION_STATE = {"pending": common_pb2.OPERATION_STATE_PENDING, "running": common_pb2.OPERATION_STATE_RUNNING,
                    "succeeded": common_pb2.OPERATION_STATE_SUCCEEDED, "failed": common_pb2.OPERATION_STATE_FAILED,
                    "cancelled": common_pb2.OPERATION_STATE_CANCELLED}


def operation_message(operation: ImportOperation) -> common_pb2.Operation:
    rate = operation.rate_per_s
    remaining = max(operation.total - operation.done, 0)
    return common_pb2.Operation(
        operation_id=operation.operation_id, kind="import_prefix", project_id=operation.project_id,
        state=_OPERATION_STATE[operation.state], error_message=operation.error, created_by=operation.created_by,
        progress=common_pb2.Progress(done=operation.done, total=operation.total, rate_per_s=rate,
                                     eta_s=remaining / rate if rate > 0 else 0.0, unit="images"),
        created_at=to_timestamp(operation.created_at), updated_at=to_timestamp(operation.updated_at),
        finished_at=to_timestamp(operation.finished_at))


def _thumbnail(row: ImageRow, data: bytes) -> storage_pb2.Thumbnail:
    return storage_pb2.Thumbnail(image_id=row.image_id, data=data, content_type=row.thumbnail_type,
                                 width=row.thumbnail_width, height=row.thumbnail_height)


def register_storage(servicer: StorageServicer) -> Register:
    return registrar(storage_pb2_grpc, "StorageService", servicer)
