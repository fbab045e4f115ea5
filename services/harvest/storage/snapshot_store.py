"""Dataset snapshots: immutable manifests written once to `snapshots/<id>.json` (format in
`harvest.common.snapshots`), and the run objects (`runs/<job>/…`) training jobs write."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from harvest.common import snapshots
from harvest.common.errors import InvalidArgument, NotFound
from harvest.common.objectstore import ObjectInfo, ObjectStore, check_key
from harvest.storage.catalog import decode_token, encode_token, page_size
from harvest.storage.index import ImageRow, SnapshotRow
from harvest.storage.ingest import check_project_id

SNAPSHOT_ID = re.compile(r"^[0-9a-f]{32}$")
JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_snapshot_id(snapshot_id: str) -> str:
    if not SNAPSHOT_ID.match(snapshot_id or ""):
        raise InvalidArgument(f"invalid snapshot id {snapshot_id!r}: expected 32 lowercase hex characters")
    return snapshot_id


class SnapshotStore:
    #: Parsed manifests kept in memory (they never change once written).
    CACHED_MANIFESTS = 8

    def __init__(self, store: ObjectStore, sessions: sessionmaker[Session]) -> None:
        self.store = store
        self.sessions = sessions
        self._manifests: OrderedDict[str, snapshots.Manifest] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, project_id: str, classes: list[str], entries: Iterable[snapshots.ManifestEntry],
               options: dict[str, object] | None = None, created_by: str = "",
               seed: int = 0) -> tuple[SnapshotRow, bool]:
        """Write a manifest once; writing identical contents again returns the existing snapshot.
        Returns the snapshot and whether this call created it.

        Every entry must name an image of this project with its true SHA-256, so a training job never
        meets a key it cannot download.
        """
        check_project_id(project_id)
        entries = list(entries)
        self._check_entries(project_id, entries)
        manifest = snapshots.build(project_id, classes, entries, seed=seed)
        with self.sessions() as session:
            existing = session.get(SnapshotRow, manifest.snapshot_id)
        if existing is not None:
            return existing, False
        data = snapshots.dumps(manifest)
        key = snapshots.manifest_key(manifest.snapshot_id)
        self.store.put(key, data, content_type="application/x-ndjson")
        counts = {split: sum(1 for e in entries if e.split == split) for split in snapshots.SPLITS}
        row = SnapshotRow(snapshot_id=manifest.snapshot_id, project_id=project_id, manifest_key=key,
                          manifest_sha256=hashlib.sha256(data).hexdigest(), classes=list(manifest.classes),
                          options=options or {}, labeled_count=counts["labeled"],
                          unlabeled_count=counts["unlabeled"], validation_count=counts["validation"],
                          noisy_count=sum(1 for e in entries if e.noisy), created_by=created_by)
        with self.sessions.begin() as session:
            created = session.get(SnapshotRow, manifest.snapshot_id) is None
            if created:
                session.add(row)
        return self.get(manifest.snapshot_id), created

    def _check_entries(self, project_id: str, entries: list[snapshots.ManifestEntry]) -> None:
        if not entries:
            raise InvalidArgument("a snapshot needs at least one entry")
        with self.sessions() as session:
            known = dict(session.execute(select(ImageRow.object_key, ImageRow.image_id)
                                         .where(ImageRow.project_id == project_id)).all())
        for number, entry in enumerate(entries, start=1):
            image_id = known.get(entry.key)
            if image_id is None:
                raise InvalidArgument(f"entry {number}: {entry.key!r} is not an image of project {project_id}")
            if image_id != entry.sha256:
                raise InvalidArgument(f"entry {number}: sha256 of {entry.key!r} is {image_id}, not {entry.sha256}")

    def get(self, snapshot_id: str) -> SnapshotRow:
        with self.sessions() as session:
            row = session.get(SnapshotRow, check_snapshot_id(snapshot_id))
        if row is None:
            raise NotFound(f"no snapshot {snapshot_id}")
        return row

    def manifest(self, snapshot_id: str) -> snapshots.Manifest:
        with self._lock:
            cached = self._manifests.get(snapshot_id)
            if cached is not None:
                self._manifests.move_to_end(snapshot_id)
                return cached
        manifest = snapshots.loads(self.store.get(self.get(snapshot_id).manifest_key))
        with self._lock:
            self._manifests[snapshot_id] = manifest
            if len(self._manifests) > self.CACHED_MANIFESTS:
                self._manifests.popitem(last=False)
        return manifest

    def entries(self, snapshot_id: str, requested_size: int = 0, token: str = "",
                split: str = "") -> tuple[list[snapshots.ManifestEntry], str, int]:
        """A page of a manifest's entries (optionally of one split), its next token and the total."""
        manifest = self.manifest(snapshot_id)
        selected = [e for e in manifest.entries if not split or e.split == split]
        size = page_size(requested_size)
        position = decode_token(token, f"{snapshot_id}:{split}")
        start = int(position["o"]) if position else 0
        page = selected[start:start + size]
        end = start + len(page)
        next_token = encode_token({"o": str(end)}, f"{snapshot_id}:{split}") if end < len(selected) else ""
        return page, next_token, len(selected)


def run_prefix(job_id: str) -> str:
    if not JOB_ID.match(job_id or ""):
        raise InvalidArgument(f"invalid job id {job_id!r}")
    return f"runs/{job_id}/"


def run_key(job_id: str, path: str) -> str:
    """The key of `path` inside a job's run directory; `path` may not climb out of it."""
    return check_key(run_prefix(job_id) + path.lstrip("/"))


class RunObjects:
    """Read access to what training jobs wrote under `runs/<job>/`."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def list(self, job_id: str, prefix: str = "") -> list[ObjectInfo]:
        base = run_prefix(job_id)
        if prefix:
            check_key(base + prefix.rstrip("/") + "x")
        return list(self.store.list(base + prefix))

    def project_of(self, job_id: str) -> str | None:
        """The project a run belongs to, from the `job.json` the scheduler writes at submission."""
        try:
            record = json.loads(self.store.get(run_key(job_id, "job.json")))
        except (NotFound, ValueError):
            return None
        project = record.get("project_id") if isinstance(record, dict) else None
        return project if isinstance(project, str) and project else None

    def read(self, job_id: str, path: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        key = run_key(job_id, path)
        return self.store.stat(key), self.store.iter_chunks(key)
