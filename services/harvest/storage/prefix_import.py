"""ImportPrefix: register images that already live in a bucket (no copy) as a background operation.

Each object is downloaded once to be validated and thumbnailed, then indexed where it is; progress is
observable with WatchImport. Like an upload, nothing becomes visible until the whole import commits.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from harvest.common.errors import InvalidArgument, NotFound
from harvest.common.objectstore import ObjectStore, check_prefix
from harvest.storage.ingest import FileResult, Ingestor

State = Literal["pending", "running", "succeeded", "failed", "cancelled"]
#: Objects listed under a prefix that are not candidate images (skipped silently).
_SKIP_SUFFIXES = (".json", ".txt", ".csv", ".md")


@dataclass
class ImportOperation:
    operation_id: str
    project_id: str
    created_by: str
    state: State = "pending"
    done: int = 0
    total: int = 0
    error: str = ""
    results: list[FileResult] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    updated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "cancelled")

    @property
    def rate_per_s(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-6)


class PrefixImports:
    def __init__(self, ingestor: Ingestor, source_store: Callable[[str], ObjectStore]) -> None:
        self._ingestor = ingestor
        self._source_store = source_store
        self._operations: dict[str, ImportOperation] = {}
        self._changed = threading.Condition()

    def start(self, project_id: str, bucket: str, prefix: str, *, image_folder: bool = False,
              created_by: str = "", after: Callable[[list[FileResult]], str] | None = None) -> str:
        if not prefix:
            raise InvalidArgument("prefix is required (importing a whole bucket by accident is too easy)")
        check_prefix(prefix)
        source = self._source_store(bucket)
        upload = self._ingestor.start(project_id, created_by=created_by, folder_labels=image_folder)
        operation = ImportOperation(uuid.uuid4().hex, project_id, created_by)
        with self._changed:
            self._operations[operation.operation_id] = operation
        threading.Thread(target=self._run, args=(operation, source, bucket, prefix, upload, image_folder, after),
                         name=f"import-{operation.operation_id[:8]}", daemon=True).start()
        return operation.operation_id

    def _run(self, operation: ImportOperation, source: ObjectStore, bucket: str, prefix: str, upload,  # type: ignore[no-untyped-def]
             image_folder: bool, after: Callable[[list[FileResult]], str] | None) -> None:
        try:
            keys = [o.key for o in source.list(prefix) if not o.key.lower().endswith(_SKIP_SUFFIXES)]
            self._update(operation, state="running", total=len(keys))
            for key in keys:
                label = PurePosixPath(key).parent.name if image_folder else ""
                upload.add_external(key, source.get(key), bucket, suggested_label=label)
                self._update(operation, done=operation.done + 1)
            results = upload.finish()
            error = after(results) if after else ""
            self._update(operation, state="succeeded", results=results, error=error)
        except Exception as exc:  # noqa: BLE001 - reported on the operation, nothing left visible
            upload.abort()
            self._update(operation, state="failed", error=f"import failed: {exc}")

    def _update(self, operation: ImportOperation, **changes: object) -> None:
        with self._changed:
            for name, value in changes.items():
                setattr(operation, name, value)
            operation.updated_at = dt.datetime.now(dt.UTC)
            if operation.finished and operation.finished_at is None:
                operation.finished_at = operation.updated_at
            operation.version += 1
            self._changed.notify_all()

    def get(self, operation_id: str) -> ImportOperation:
        with self._changed:
            operation = self._operations.get(operation_id)
        if operation is None:
            raise NotFound(f"no import operation {operation_id!r} (operations are kept while the service runs)")
        return operation

    def watch(self, operation_id: str, active: Callable[[], bool], poll_s: float = 0.5) -> Iterator[ImportOperation]:
        """Snapshots of the operation each time it changes, until it finishes or the caller goes away."""
        operation = self.get(operation_id)
        seen = -1
        while active():
            with self._changed:
                if operation.version == seen:
                    self._changed.wait(poll_s)
                if operation.version == seen:
                    continue
                seen = operation.version
                snapshot = copy.copy(operation)
            yield snapshot
            if snapshot.finished:
                return
