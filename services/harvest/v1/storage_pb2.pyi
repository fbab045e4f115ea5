import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from harvest.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadFileKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPLOAD_FILE_KIND_UNSPECIFIED: _ClassVar[UploadFileKind]
    UPLOAD_FILE_KIND_IMAGE: _ClassVar[UploadFileKind]
    UPLOAD_FILE_KIND_ZIP: _ClassVar[UploadFileKind]
    UPLOAD_FILE_KIND_TAR: _ClassVar[UploadFileKind]

class FileStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_STATUS_UNSPECIFIED: _ClassVar[FileStatus]
    FILE_STATUS_STORED: _ClassVar[FileStatus]
    FILE_STATUS_DUPLICATE: _ClassVar[FileStatus]
    FILE_STATUS_REJECTED: _ClassVar[FileStatus]
    FILE_STATUS_EXPANDED: _ClassVar[FileStatus]

class RejectReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECT_REASON_UNSPECIFIED: _ClassVar[RejectReason]
    REJECT_REASON_UNSUPPORTED_TYPE: _ClassVar[RejectReason]
    REJECT_REASON_CORRUPT: _ClassVar[RejectReason]
    REJECT_REASON_TOO_MANY_PIXELS: _ClassVar[RejectReason]
    REJECT_REASON_TOO_LARGE: _ClassVar[RejectReason]
    REJECT_REASON_CHECKSUM_MISMATCH: _ClassVar[RejectReason]
    REJECT_REASON_UNSAFE_PATH: _ClassVar[RejectReason]
    REJECT_REASON_NOT_REGULAR_FILE: _ClassVar[RejectReason]
    REJECT_REASON_COMPRESSION_RATIO: _ClassVar[RejectReason]
    REJECT_REASON_ARCHIVE_LIMIT: _ClassVar[RejectReason]
    REJECT_REASON_QUOTA_EXCEEDED: _ClassVar[RejectReason]
    REJECT_REASON_EMPTY: _ClassVar[RejectReason]
UPLOAD_FILE_KIND_UNSPECIFIED: UploadFileKind
UPLOAD_FILE_KIND_IMAGE: UploadFileKind
UPLOAD_FILE_KIND_ZIP: UploadFileKind
UPLOAD_FILE_KIND_TAR: UploadFileKind
FILE_STATUS_UNSPECIFIED: FileStatus
FILE_STATUS_STORED: FileStatus
FILE_STATUS_DUPLICATE: FileStatus
FILE_STATUS_REJECTED: FileStatus
FILE_STATUS_EXPANDED: FileStatus
REJECT_REASON_UNSPECIFIED: RejectReason
REJECT_REASON_UNSUPPORTED_TYPE: RejectReason
REJECT_REASON_CORRUPT: RejectReason
REJECT_REASON_TOO_MANY_PIXELS: RejectReason
REJECT_REASON_TOO_LARGE: RejectReason
REJECT_REASON_CHECKSUM_MISMATCH: RejectReason
REJECT_REASON_UNSAFE_PATH: RejectReason
REJECT_REASON_NOT_REGULAR_FILE: RejectReason
REJECT_REASON_COMPRESSION_RATIO: RejectReason
REJECT_REASON_ARCHIVE_LIMIT: RejectReason
REJECT_REASON_QUOTA_EXCEEDED: RejectReason
REJECT_REASON_EMPTY: RejectReason

class UploadMetadata(_message.Message):
    __slots__ = ("project_id", "suggested_label_policy", "skip_item_registration", "upload_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_POLICY_FIELD_NUMBER: _ClassVar[int]
    SKIP_ITEM_REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    suggested_label_policy: _common_pb2.SuggestedLabelPolicy
    skip_item_registration: bool
    upload_id: str
    def __init__(self, project_id: _Optional[str] = ..., suggested_label_policy: _Optional[_Union[_common_pb2.SuggestedLabelPolicy, str]] = ..., skip_item_registration: _Optional[bool] = ..., upload_id: _Optional[str] = ...) -> None: ...

class UploadFile(_message.Message):
    __slots__ = ("name", "size_bytes", "sha256", "kind", "suggested_label")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    size_bytes: int
    sha256: str
    kind: UploadFileKind
    suggested_label: str
    def __init__(self, name: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., kind: _Optional[_Union[UploadFileKind, str]] = ..., suggested_label: _Optional[str] = ...) -> None: ...

class UploadChunk(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class UploadImagesRequest(_message.Message):
    __slots__ = ("metadata", "file", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadMetadata
    file: UploadFile
    chunk: UploadChunk
    def __init__(self, metadata: _Optional[_Union[UploadMetadata, _Mapping]] = ..., file: _Optional[_Union[UploadFile, _Mapping]] = ..., chunk: _Optional[_Union[UploadChunk, _Mapping]] = ...) -> None: ...

class FileResult(_message.Message):
    __slots__ = ("name", "status", "image_id", "reject_reason", "message", "suggested_label", "item_id", "format", "width", "height", "size_bytes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: FileStatus
    image_id: str
    reject_reason: RejectReason
    message: str
    suggested_label: str
    item_id: str
    format: _common_pb2.ImageFormat
    width: int
    height: int
    size_bytes: int
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[FileStatus, str]] = ..., image_id: _Optional[str] = ..., reject_reason: _Optional[_Union[RejectReason, str]] = ..., message: _Optional[str] = ..., suggested_label: _Optional[str] = ..., item_id: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ImageFormat, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class IngestSummary(_message.Message):
    __slots__ = ("stored", "duplicate", "rejected", "stored_bytes")
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    STORED_BYTES_FIELD_NUMBER: _ClassVar[int]
    stored: int
    duplicate: int
    rejected: int
    stored_bytes: int
    def __init__(self, stored: _Optional[int] = ..., duplicate: _Optional[int] = ..., rejected: _Optional[int] = ..., stored_bytes: _Optional[int] = ...) -> None: ...

class UploadImagesResponse(_message.Message):
    __slots__ = ("results", "summary", "upload_id")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[FileResult]
    summary: IngestSummary
    upload_id: str
    def __init__(self, results: _Optional[_Iterable[_Union[FileResult, _Mapping]]] = ..., summary: _Optional[_Union[IngestSummary, _Mapping]] = ..., upload_id: _Optional[str] = ...) -> None: ...

class ImportPrefixRequest(_message.Message):
    __slots__ = ("project_id", "bucket", "prefix", "image_folder", "suggested_label_policy", "skip_item_registration")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FOLDER_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_POLICY_FIELD_NUMBER: _ClassVar[int]
    SKIP_ITEM_REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    bucket: str
    prefix: str
    image_folder: bool
    suggested_label_policy: _common_pb2.SuggestedLabelPolicy
    skip_item_registration: bool
    def __init__(self, project_id: _Optional[str] = ..., bucket: _Optional[str] = ..., prefix: _Optional[str] = ..., image_folder: _Optional[bool] = ..., suggested_label_policy: _Optional[_Union[_common_pb2.SuggestedLabelPolicy, str]] = ..., skip_item_registration: _Optional[bool] = ...) -> None: ...

class ImportPrefixResponse(_message.Message):
    __slots__ = ("operation_id",)
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    def __init__(self, operation_id: _Optional[str] = ...) -> None: ...

class WatchImportRequest(_message.Message):
    __slots__ = ("operation_id",)
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    def __init__(self, operation_id: _Optional[str] = ...) -> None: ...

class WatchImportResponse(_message.Message):
    __slots__ = ("operation", "results", "summary")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    operation: _common_pb2.Operation
    results: _containers.RepeatedCompositeFieldContainer[FileResult]
    summary: IngestSummary
    def __init__(self, operation: _Optional[_Union[_common_pb2.Operation, _Mapping]] = ..., results: _Optional[_Iterable[_Union[FileResult, _Mapping]]] = ..., summary: _Optional[_Union[IngestSummary, _Mapping]] = ...) -> None: ...

class ImageRecord(_message.Message):
    __slots__ = ("image_id", "project_id", "object_key", "format", "width", "height", "size_bytes", "original_name", "suggested_label", "upload_id", "external", "created_by", "created_at")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_NAME_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    project_id: str
    object_key: str
    format: _common_pb2.ImageFormat
    width: int
    height: int
    size_bytes: int
    original_name: str
    suggested_label: str
    upload_id: str
    external: bool
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, image_id: _Optional[str] = ..., project_id: _Optional[str] = ..., object_key: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ImageFormat, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., size_bytes: _Optional[int] = ..., original_name: _Optional[str] = ..., suggested_label: _Optional[str] = ..., upload_id: _Optional[str] = ..., external: _Optional[bool] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetImageRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: _common_pb2.ImageRef
    def __init__(self, image: _Optional[_Union[_common_pb2.ImageRef, _Mapping]] = ...) -> None: ...

class GetImageResponse(_message.Message):
    __slots__ = ("info", "chunk")
    INFO_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    info: ImageRecord
    chunk: bytes
    def __init__(self, info: _Optional[_Union[ImageRecord, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class GetThumbnailRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: _common_pb2.ImageRef
    def __init__(self, image: _Optional[_Union[_common_pb2.ImageRef, _Mapping]] = ...) -> None: ...

class Thumbnail(_message.Message):
    __slots__ = ("image_id", "data", "content_type", "width", "height")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    data: bytes
    content_type: str
    width: int
    height: int
    def __init__(self, image_id: _Optional[str] = ..., data: _Optional[bytes] = ..., content_type: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class GetThumbnailResponse(_message.Message):
    __slots__ = ("thumbnail",)
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    thumbnail: Thumbnail
    def __init__(self, thumbnail: _Optional[_Union[Thumbnail, _Mapping]] = ...) -> None: ...

class BatchGetThumbnailsRequest(_message.Message):
    __slots__ = ("project_id", "image_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    image_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., image_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetThumbnailsResponse(_message.Message):
    __slots__ = ("thumbnails", "missing_image_ids")
    THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    MISSING_IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    thumbnails: _containers.RepeatedCompositeFieldContainer[Thumbnail]
    missing_image_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, thumbnails: _Optional[_Iterable[_Union[Thumbnail, _Mapping]]] = ..., missing_image_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RunObjectRef(_message.Message):
    __slots__ = ("job_id", "path")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    path: str
    def __init__(self, job_id: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class PresignDownloadRequest(_message.Message):
    __slots__ = ("image", "snapshot_id", "run_object", "expires_in_s")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_OBJECT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_S_FIELD_NUMBER: _ClassVar[int]
    image: _common_pb2.ImageRef
    snapshot_id: str
    run_object: RunObjectRef
    expires_in_s: int
    def __init__(self, image: _Optional[_Union[_common_pb2.ImageRef, _Mapping]] = ..., snapshot_id: _Optional[str] = ..., run_object: _Optional[_Union[RunObjectRef, _Mapping]] = ..., expires_in_s: _Optional[int] = ...) -> None: ...

class PresignDownloadResponse(_message.Message):
    __slots__ = ("url", "expires_at")
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    url: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, url: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListImagesRequest(_message.Message):
    __slots__ = ("project_id", "page", "format", "upload_id", "created_after", "created_before", "suggested_label", "name_contains")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_FIELD_NUMBER: _ClassVar[int]
    NAME_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    page: _common_pb2.PageRequest
    format: _common_pb2.ImageFormat
    upload_id: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    suggested_label: str
    name_contains: str
    def __init__(self, project_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., format: _Optional[_Union[_common_pb2.ImageFormat, str]] = ..., upload_id: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., suggested_label: _Optional[str] = ..., name_contains: _Optional[str] = ...) -> None: ...

class ListImagesResponse(_message.Message):
    __slots__ = ("images", "page")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[ImageRecord]
    page: _common_pb2.PageInfo
    def __init__(self, images: _Optional[_Iterable[_Union[ImageRecord, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class GetDatasetStatsRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetDatasetStatsResponse(_message.Message):
    __slots__ = ("image_count", "total_bytes", "quota_bytes", "quota_images", "images_by_format", "snapshot_count")
    class ImagesByFormatEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    IMAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUOTA_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUOTA_IMAGES_FIELD_NUMBER: _ClassVar[int]
    IMAGES_BY_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    image_count: int
    total_bytes: int
    quota_bytes: int
    quota_images: int
    images_by_format: _containers.ScalarMap[str, int]
    snapshot_count: int
    def __init__(self, image_count: _Optional[int] = ..., total_bytes: _Optional[int] = ..., quota_bytes: _Optional[int] = ..., quota_images: _Optional[int] = ..., images_by_format: _Optional[_Mapping[str, int]] = ..., snapshot_count: _Optional[int] = ...) -> None: ...

class DeleteImagesRequest(_message.Message):
    __slots__ = ("project_id", "image_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    image_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., image_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteImagesResponse(_message.Message):
    __slots__ = ("deleted_image_ids", "missing_image_ids")
    DELETED_IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    MISSING_IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    deleted_image_ids: _containers.RepeatedScalarFieldContainer[str]
    missing_image_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deleted_image_ids: _Optional[_Iterable[str]] = ..., missing_image_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SnapshotMetadata(_message.Message):
    __slots__ = ("project_id", "classes", "options")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    classes: _containers.RepeatedCompositeFieldContainer[_common_pb2.SnapshotClass]
    options: _common_pb2.FreezeOptions
    def __init__(self, project_id: _Optional[str] = ..., classes: _Optional[_Iterable[_Union[_common_pb2.SnapshotClass, _Mapping]]] = ..., options: _Optional[_Union[_common_pb2.FreezeOptions, _Mapping]] = ...) -> None: ...

class SnapshotEntries(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_common_pb2.SnapshotEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[_common_pb2.SnapshotEntry, _Mapping]]] = ...) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ("metadata", "entries")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    metadata: SnapshotMetadata
    entries: SnapshotEntries
    def __init__(self, metadata: _Optional[_Union[SnapshotMetadata, _Mapping]] = ..., entries: _Optional[_Union[SnapshotEntries, _Mapping]] = ...) -> None: ...

class CreateSnapshotResponse(_message.Message):
    __slots__ = ("snapshot", "already_existed")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_EXISTED_FIELD_NUMBER: _ClassVar[int]
    snapshot: _common_pb2.Snapshot
    already_existed: bool
    def __init__(self, snapshot: _Optional[_Union[_common_pb2.Snapshot, _Mapping]] = ..., already_existed: _Optional[bool] = ...) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id",)
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    def __init__(self, snapshot_id: _Optional[str] = ...) -> None: ...

class GetSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _common_pb2.Snapshot
    def __init__(self, snapshot: _Optional[_Union[_common_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class ListSnapshotEntriesRequest(_message.Message):
    __slots__ = ("snapshot_id", "split", "page")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    split: _common_pb2.Split
    page: _common_pb2.PageRequest
    def __init__(self, snapshot_id: _Optional[str] = ..., split: _Optional[_Union[_common_pb2.Split, str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListSnapshotEntriesResponse(_message.Message):
    __slots__ = ("entries", "page")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_common_pb2.SnapshotEntry]
    page: _common_pb2.PageInfo
    def __init__(self, entries: _Optional[_Iterable[_Union[_common_pb2.SnapshotEntry, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class RunObjectInfo(_message.Message):
    __slots__ = ("path", "size_bytes", "updated_at", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    size_bytes: int
    updated_at: _timestamp_pb2.Timestamp
    sha256: str
    def __init__(self, path: _Optional[str] = ..., size_bytes: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sha256: _Optional[str] = ...) -> None: ...

class ListRunObjectsRequest(_message.Message):
    __slots__ = ("job_id", "prefix", "page")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    prefix: str
    page: _common_pb2.PageRequest
    def __init__(self, job_id: _Optional[str] = ..., prefix: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListRunObjectsResponse(_message.Message):
    __slots__ = ("objects", "page")
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    objects: _containers.RepeatedCompositeFieldContainer[RunObjectInfo]
    page: _common_pb2.PageInfo
    def __init__(self, objects: _Optional[_Iterable[_Union[RunObjectInfo, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class ReadRunObjectRequest(_message.Message):
    __slots__ = ("object", "offset", "length")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    object: RunObjectRef
    offset: int
    length: int
    def __init__(self, object: _Optional[_Union[RunObjectRef, _Mapping]] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class ReadRunObjectResponse(_message.Message):
    __slots__ = ("info", "chunk")
    INFO_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    info: RunObjectInfo
    chunk: bytes
    def __init__(self, info: _Optional[_Union[RunObjectInfo, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...
