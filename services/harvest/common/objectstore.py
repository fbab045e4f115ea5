"""Object stores behind one small interface: a local directory (the embedded default) and S3/MinIO
through the `minio` SDK. Every HARVEST object — images, thumbnails, snapshots, runs, models — goes
through it, and so does the training job, which therefore runs the same on a laptop, a Slurm node or
a pod.

Writes are atomic: a reader sees the whole object or nothing. Locally that is a temporary file in the
same directory renamed into place; on S3 a PUT (single or multipart) becomes visible only when complete.
Keys are built by code (`datasets/<project>/<sha256>.<ext>` …), and every backend refuses keys that
could escape their namespace.
"""

from __future__ import annotations

import abc
import datetime as dt
import io
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from harvest.common.errors import InvalidArgument, NotFound
from harvest.common.settings import HomeSettings, ObjectStoreSettings

#: Parts of multipart uploads (S3's minimum is 5 MiB; 16 MiB keeps a 10 GB object under 1,000 parts).
PART_SIZE = 16 * 1024 * 1024
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,1023}$")


def check_key(key: str) -> str:
    """Refuse keys that are empty, absolute, contain `..`/`.` segments, empty segments or odd characters."""
    if not _KEY_PATTERN.match(key) or key.endswith("/"):
        raise InvalidArgument(f"invalid object key {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidArgument(f"invalid object key {key!r}: empty, '.' or '..' segment")
    return key


def check_prefix(prefix: str) -> str:
    if prefix == "":
        return prefix
    check_key(prefix.rstrip("/") or "x")
    return prefix


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    modified: dt.datetime
    etag: str = ""
    content_type: str = ""


class ObjectStore(abc.ABC):
    """The verbs HARVEST needs of an object store (one instance is safe to share between threads)."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes | BinaryIO, length: int = -1,
            content_type: str = "application/octet-stream") -> ObjectInfo:
        """Store an object atomically (replacing any object of that key)."""

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> ObjectInfo:
        with open(path, "rb") as handle:
            return self.put(key, handle, os.fstat(handle.fileno()).st_size, content_type)

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object (NotFound if absent); the caller closes it."""

    def get(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    @abc.abstractmethod
    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """`length` bytes of an object from `offset` (fewer at its end); NotFound if absent."""

    def iter_chunks(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def download(self, key: str, path: Path) -> None:
        """Write the object to a local file atomically (temporary file, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as source:
                shutil.copyfileobj(source, out, 1024 * 1024)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Metadata of an object (NotFound if absent)."""

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    @abc.abstractmethod
    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in key order, after `start_after` (recursive)."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object; removing an absent object is not an error."""

    @abc.abstractmethod
    def presign_get(self, key: str, expires_s: int = 3600) -> str:
        """A URL a client can download the object from without a token, for `expires_s` seconds."""

    def copy(self, source: str, target: str) -> ObjectInfo:
        with self.open(source) as handle:
            return self.put(target, handle, self.stat(source).size)


class LocalObjectStore(ObjectStore):
    """Objects as files under a root directory; the embedded default of `harvest up`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | BinaryIO, length: int = -1,
            content_type: str = "application/octet-stream") -> ObjectInfo:
        path = self._path(key)
        tmp = self._tmp / uuid.uuid4().hex
        try:
            with open(tmp, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return self.stat(key)

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"no object {key!r}") from None

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        with self.open(key) as handle:
            handle.seek(offset)
            return handle.read(length)

    def stat(self, key: str) -> ObjectInfo:
        try:
            info = self._path(key).stat()
        except FileNotFoundError:
            raise NotFound(f"no object {key!r}") from None
        if not self._path(key).is_file():
            raise NotFound(f"no object {key!r}")
        return ObjectInfo(key, info.st_size, dt.datetime.fromtimestamp(info.st_mtime, dt.UTC))

    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        # Walk only the directory the prefix names, so listing one project never scans the others.
        base_dir = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root / base_dir if base_dir else self.root
        if not start.is_dir():
            return
        keys = []
        for directory, dirs, files in os.walk(start):
            dirs[:] = [d for d in dirs if not (directory == str(self.root) and d == ".tmp")]
            rel_dir = os.path.relpath(directory, self.root)
            for name in files:
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix) and key > start_after:
                    keys.append(key)
        for key in sorted(keys):
            try:
                yield self.stat(key)
            except NotFound:  # deleted while listing
                continue

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def presign_get(self, key: str, expires_s: int = 3600) -> str:
        self.stat(key)
        return self._path(key).as_uri()


def _http_pool(max_connections: int) -> Any:
    """The minio SDK's own HTTP client settings (timeouts, retries on 5xx, CA bundle), with a connection
    pool as large as the store's concurrency instead of the SDK's 10."""
    import certifi
    import urllib3
    from urllib3.util import Retry, Timeout

    timeout = 300
    return urllib3.PoolManager(timeout=Timeout(connect=timeout, read=timeout), maxsize=max_connections,
                               cert_reqs="CERT_REQUIRED", ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
                               retries=Retry(total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]))


class S3ObjectStore(ObjectStore):
    """Objects in one bucket of MinIO or any S3 service, through the `minio` SDK."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, *, secure: bool = False,
                 region: str | None = None, create_bucket: bool = True, max_connections: int = 32) -> None:
        from minio import Minio

        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region,
                            http_client=_http_pool(max_connections))
        if create_bucket and not self.client.bucket_exists(bucket):
            from minio.error import S3Error

            try:
                self.client.make_bucket(bucket)
            except S3Error as exc:  # another process created it first
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    @classmethod
    def from_settings(cls, settings: ObjectStoreSettings, bucket: str | None = None,
                      create_bucket: bool = True) -> S3ObjectStore:
        """The configured endpoint and credentials, on the configured bucket or another one."""
        return cls(settings.s3_endpoint, settings.s3_access_key.get_secret_value(),
                   settings.s3_secret_key.get_secret_value(), bucket or settings.s3_bucket,
                   secure=settings.s3_secure, region=settings.s3_region, create_bucket=create_bucket,
                   max_connections=settings.s3_max_connections)

    def put(self, key: str, data: bytes | BinaryIO, length: int = -1,
            content_type: str = "application/octet-stream") -> ObjectInfo:
        check_key(key)
        if isinstance(data, bytes | bytearray | memoryview):
            length = len(data)
            data = io.BytesIO(bytes(data))
        # Always PART_SIZE: with 0 the SDK picks 5 MiB parts, so every object of 5-16 MiB went as a
        # multipart upload (three requests or more, and a thread pool) instead of one PUT.
        result = self.client.put_object(self.bucket, key, data, length, content_type=content_type,
                                        part_size=PART_SIZE)
        if length < 0:
            return self.stat(key)
        return ObjectInfo(key, length, dt.datetime.now(dt.UTC), (result.etag or "").strip('"'), content_type)

    def open(self, key: str) -> BinaryIO:
        return self._get(key)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        with self._get(key, offset, length) as handle:
            return handle.read()

    def _get(self, key: str, offset: int = 0, length: int = 0) -> BinaryIO:
        from minio.error import S3Error

        check_key(key)
        try:
            response = self.client.get_object(self.bucket, key, offset=offset, length=length)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise NotFound(f"no object {key!r}") from None
            raise
        return _ResponseStream(response)

    def stat(self, key: str) -> ObjectInfo:
        from minio.error import S3Error

        check_key(key)
        try:
            stat = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                raise NotFound(f"no object {key!r}") from None
            raise
        return ObjectInfo(key, int(stat.size or 0), stat.last_modified or dt.datetime.now(dt.UTC),
                          (stat.etag or "").strip('"'), stat.content_type or "")

    def list(self, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        for obj in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True,
                                            start_after=start_after or None):
            if obj.is_dir or obj.object_name is None:
                continue
            yield ObjectInfo(obj.object_name, int(obj.size or 0), obj.last_modified or dt.datetime.now(dt.UTC),
                             (obj.etag or "").strip('"'))

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, check_key(key))

    def presign_get(self, key: str, expires_s: int = 3600) -> str:
        self.stat(key)
        return self.client.presigned_get_object(self.bucket, key, expires=dt.timedelta(seconds=expires_s))

    def copy(self, source: str, target: str) -> ObjectInfo:
        from minio.commonconfig import CopySource

        self.stat(source)
        self.client.copy_object(self.bucket, check_key(target), CopySource(self.bucket, check_key(source)))
        return self.stat(target)


class _ResponseStream(io.RawIOBase):
    """A file-like view of a urllib3 response that releases the connection on close."""

    def __init__(self, response: object) -> None:
        self._response = response

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._response.read(len(buffer))  # type: ignore[attr-defined]
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        if size is None or size < 0:
            return self._response.read()  # type: ignore[attr-defined, no-any-return]
        return self._response.read(size)  # type: ignore[attr-defined, no-any-return]

    def close(self) -> None:
        if not self.closed:
            self._response.close()  # type: ignore[attr-defined]
            self._response.release_conn()  # type: ignore[attr-defined]
        super().close()


def open_store(settings: ObjectStoreSettings | None = None, home: Path | None = None) -> ObjectStore:
    """The object store the settings name (local directory by default)."""
    settings = settings or ObjectStoreSettings()
    if settings.backend == "s3":
        return S3ObjectStore.from_settings(settings)
    root = settings.local_root or (home or HomeSettings().home) / "objects"
    return LocalObjectStore(root)
