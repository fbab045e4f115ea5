"""Safe reading of zip and tar archives: each member is judged on its own, so one bad member never
fails the archive, and nothing an archive says is trusted — paths that could escape, links and devices,
absurd compression ratios, lying sizes and member counts are all refused before anything is read out.
"""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from harvest.storage.validation import Rejected, RejectReason

#: Members smaller than this are never judged by ratio (tiny files compress absurdly well legitimately).
RATIO_FLOOR_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    max_member_bytes: int
    max_members: int
    max_total_bytes: int
    max_ratio: float


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member: its (checked) path and either its bytes or why it was refused."""

    path: str
    data: bytes | None = None
    rejected: Rejected | None = None

    @property
    def folder_label(self) -> str | None:
        """ImageFolder layout: the name of the directory holding the file (`cat/001.jpg` → `cat`)."""
        parent = PurePosixPath(self.path).parent
        return parent.name or None


def check_member_path(name: str) -> str:
    """A normalised relative path, or Rejected(UNSAFE_PATH) for absolute paths, `..`, drive letters."""
    cleaned = name.replace("\\", "/")
    if not cleaned.strip("/.") or cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise Rejected(RejectReason.UNSAFE_PATH, f"absolute path {name!r} in the archive")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Rejected(RejectReason.UNSAFE_PATH, f"path {name!r} climbs out of the archive with '..'")
    if "\x00" in cleaned:
        raise Rejected(RejectReason.UNSAFE_PATH, "path contains a NUL byte")
    return "/".join(parts)


def _skip(path: str) -> bool:
    """Metadata files archivers add (macOS resource forks, Thumbs.db): not images, not worth a rejection."""
    name = PurePosixPath(path).name
    return path.startswith("__MACOSX/") or name.startswith("._") or name in (".DS_Store", "Thumbs.db", "desktop.ini")


def read_zip(source: BinaryIO, limits: ArchiveLimits) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, zlib.error) as exc:
        raise Rejected(RejectReason.CORRUPT, f"not a readable zip archive ({exc})") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.filename.endswith("/")]
        if len(infos) > limits.max_members:
            raise Rejected(RejectReason.ARCHIVE_LIMIT,
                           f"{len(infos):,} members is over the {limits.max_members:,}-member limit")
        total = 0
        for info in infos:
            try:
                path = check_member_path(info.filename)
                if _skip(path):
                    continue
                mode = info.external_attr >> 16
                if mode and (mode & 0o170000) not in (0, 0o100000):
                    raise Rejected(RejectReason.NOT_REGULAR_FILE, "symbolic link or special file, not an image")
                if info.file_size > limits.max_member_bytes:
                    raise Rejected(RejectReason.TOO_LARGE, f"{info.file_size:,} bytes is over the per-image limit")
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
                    raise Rejected(RejectReason.COMPRESSION_RATIO,
                                   f"compresses {ratio:,.0f}:1, over the {limits.max_ratio:,.0f}:1 limit (zip bomb?)")
                total += info.file_size
                if total > limits.max_total_bytes:
                    raise Rejected(RejectReason.ARCHIVE_LIMIT, "the archive expands beyond the total size limit")
                with archive.open(info) as member:
                    data = member.read(info.file_size + 1)  # never more than the header promised, plus one
                if len(data) != info.file_size:
                    raise Rejected(RejectReason.CORRUPT, "member size does not match the archive directory")
                yield Member(path, data=data)
            except Rejected as rejected:
                yield Member(info.filename, rejected=rejected)
                if rejected.reason is RejectReason.ARCHIVE_LIMIT:
                    return
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
                    zlib.error) as exc:
                yield Member(info.filename, rejected=Rejected(RejectReason.CORRUPT, f"cannot be read ({exc})"))


def read_tar(source: BinaryIO, compressed_size: int, limits: ArchiveLimits) -> Iterator[Member]:
    try:
        archive = tarfile.open(fileobj=source, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise Rejected(RejectReason.CORRUPT, f"not a readable tar archive ({exc})") from None
    with archive:
        count = total = 0
        try:
            for info in archive:
                if info.isdir():
                    continue
                count += 1
                try:
                    if count > limits.max_members:
                        raise Rejected(RejectReason.ARCHIVE_LIMIT,
                                       f"more than {limits.max_members:,} members")
                    path = check_member_path(info.name)
                    if _skip(path):
                        continue
                    if not info.isfile():
                        kind = "link" if info.issym() or info.islnk() else "special file"
                        raise Rejected(RejectReason.NOT_REGULAR_FILE, f"{kind}, not an image")
                    if info.size > limits.max_member_bytes:
                        raise Rejected(RejectReason.TOO_LARGE, f"{info.size:,} bytes is over the per-image limit")
                    total += info.size
                    if total > limits.max_total_bytes:
                        raise Rejected(RejectReason.ARCHIVE_LIMIT, "the archive expands beyond the total size limit")
                    if total > RATIO_FLOOR_BYTES * 16 and total > limits.max_ratio * max(compressed_size, 1):
                        raise Rejected(RejectReason.COMPRESSION_RATIO,
                                       f"the archive expands over {limits.max_ratio:,.0f}:1 (tar bomb?)")
                    handle = archive.extractfile(info)
                    if handle is None:
                        raise Rejected(RejectReason.NOT_REGULAR_FILE, "not a regular file")
                    data = handle.read(info.size + 1)
                    if len(data) != info.size:
                        raise Rejected(RejectReason.CORRUPT, "member is truncated")
                    yield Member(path, data=data)
                except Rejected as rejected:
                    yield Member(info.name, rejected=rejected)
                    if rejected.reason in (RejectReason.ARCHIVE_LIMIT, RejectReason.COMPRESSION_RATIO):
                        return
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            yield Member("(rest of archive)", rejected=Rejected(RejectReason.CORRUPT, f"archive is damaged ({exc})"))


def sniff_archive(head: bytes) -> str | None:
    """'zip', 'tar' (plain or gzip/bzip2/xz-compressed) or None, from the first bytes."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or head[257:262] == b"ustar":
        return "tar"
    return None
