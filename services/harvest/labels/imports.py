"""Importing labels for existing items from a CSV file or an ImageFolder path list.

The file arrives in chunks and is spooled (memory, then disk) so any size works; rows are applied in
transactions of a few hundred, each label as an IMPORT event (history kept, optionally flagged noisy).
Rows naming no item or an unknown class are reported with their line number and do not stop the import.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import InvalidArgument
from harvest.labels import audit, policies
from harvest.labels.classes import ClassSpec, new_classes, project_classes
from harvest.labels.db import Database
from harvest.labels.events import EventWriter, WriteRequest
from harvest.labels.models import Item, LabelClass
from harvest.labels.states import AnnotationKind, LabelSource

CSV, IMAGE_FOLDER = 1, 2
SKIP, OVERWRITE = 1, 2
MAX_REPORTED_ERRORS = 100
ROWS_PER_TRANSACTION = 500
SPOOL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportOptions:
    format: int
    noisy: bool = False
    conflict_policy: int = SKIP
    create_missing_classes: bool = False
    key_column: str = "image"
    label_column: str = "label"


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One label to apply: the item named by `key` gets class `label`."""

    line: int
    key: str
    label: str


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    created_classes: list[LabelClass] = field(default_factory=list)

    def fail(self, line: int, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, message))


def spool(chunks: Iterable[bytes]) -> tempfile.SpooledTemporaryFile[bytes]:
    buffer: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    for chunk in chunks:
        buffer.write(chunk)
    buffer.seek(0)
    return buffer


def csv_rows(text: io.TextIOBase, key_column: str, label_column: str) -> Iterator[ImportRow]:
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidArgument("the CSV file is empty: it needs a header row") from None
    except csv.Error as exc:
        raise InvalidArgument(f"unreadable CSV header: {exc}") from None
    columns = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in (key_column, label_column) if c not in columns]
    if missing:
        raise InvalidArgument(f"CSV header lacks column(s) {', '.join(missing)}; it has {', '.join(columns)}")
    key_at, label_at = columns.index(key_column), columns.index(label_column)
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        line = reader.line_num
        if len(values) <= max(key_at, label_at):
            yield ImportRow(line, "", "")
            continue
        yield ImportRow(line, values[key_at].strip(), values[label_at].strip())


def image_folder_rows(text: io.TextIOBase) -> Iterator[ImportRow]:
    """`<class>/<file name>` per line: the parent directory is the class, the file name the item's name."""
    for line, raw in enumerate(text, start=1):
        path = raw.strip().replace("\\", "/")
        if not path:
            continue
        parts = PurePosixPath(path)
        yield ImportRow(line, parts.name if len(parts.parts) >= 2 else "", parts.parent.name)


class ItemIndex:
    """Finds a project's item by id, image id or original name (full or file name), in that order."""

    def __init__(self, session: Session, project_id: str) -> None:
        self.by_id: dict[str, str] = {}
        self.by_image: dict[str, str] = {}
        self.by_name: dict[str, set[str]] = {}
        for item_id, image_id, name in session.execute(select(Item.id, Item.image_id, Item.original_name)
                                                       .where(Item.project_id == project_id)).all():
            self.by_id[item_id] = item_id
            self.by_image[image_id] = item_id
            for key in {name, PurePosixPath(name.replace("\\", "/")).name} - {""}:
                self.by_name.setdefault(key, set()).add(item_id)

    def find(self, key: str) -> str:
        """The item id, or raise ValueError saying why none is unique."""
        if key in self.by_id:
            return key
        if key in self.by_image:
            return self.by_image[key]
        named = self.by_name.get(key, set())
        if len(named) == 1:
            return next(iter(named))
        if named:
            raise ValueError(f"{len(named)} items are named {key!r}; use the item id or image id")
        raise ValueError(f"no item matches {key!r}")


class LabelImports:
    """ImportLabels."""

    def __init__(self, db: Database, events: EventWriter) -> None:
        self._db = db
        self._events = events

    def run(self, principal: Principal, project_id: str, options: ImportOptions,
            chunks: Iterable[bytes]) -> ImportReport:
        if options.format not in (CSV, IMAGE_FOLDER):
            raise InvalidArgument("format must be CSV or IMAGE_FOLDER for imports")
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.import_labels(principal, access)
            index = ItemIndex(session, project_id)
        report = ImportReport()
        with spool(chunks) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
            try:
                rows = (csv_rows(text, options.key_column or "image", options.label_column or "label")
                        if options.format == CSV else image_folder_rows(text))
                batch: list[ImportRow] = []
                for row in rows:
                    report.rows += 1
                    batch.append(row)
                    if len(batch) == ROWS_PER_TRANSACTION:
                        self._apply(principal, project_id, options, index, batch, report)
                        batch = []
                if batch:
                    self._apply(principal, project_id, options, index, batch, report)
            except UnicodeDecodeError as exc:
                raise InvalidArgument(f"the file is not UTF-8 text ({exc})") from None
            finally:
                text.detach()
        with self._db.write() as session:
            audit.record(session, principal, "ImportLabels", "project", project_id, project_id=project_id,
                         rows=report.rows, applied=report.applied, skipped=report.skipped, failed=report.failed,
                         noisy=options.noisy)
        return report

    def _apply(self, principal: Principal, project_id: str, options: ImportOptions, index: ItemIndex,
               rows: list[ImportRow], report: ImportReport) -> None:
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id, lock=options.create_missing_classes)
            policies.import_labels(principal, access)
            classes = project_classes(session, project_id)
            by_name = {c.name.casefold(): c for c in classes if not c.retired}
            resolved: list[tuple[ImportRow, str, LabelClass]] = []
            for row in rows:
                if not row.key or not row.label:
                    report.fail(row.line, "row needs both an item key and a label")
                    continue
                try:
                    item_id = index.find(row.key)
                except ValueError as exc:
                    report.fail(row.line, str(exc))
                    continue
                target = by_name.get(row.label.casefold())
                if target is None and options.create_missing_classes:
                    (target,) = new_classes(session, project_id, classes, [ClassSpec(row.label)])
                    classes.append(target)
                    by_name[target.name.casefold()] = target
                    report.created_classes.append(target)
                    access.project.version += 1
                if target is None:
                    report.fail(row.line, f"unknown class {row.label!r}")
                    continue
                resolved.append((row, item_id, target))
            ids = sorted({item_id for _, item_id, _ in resolved})
            query = select(Item).where(Item.id.in_(ids)).order_by(Item.id)
            if self._db.locks_rows:
                query = query.with_for_update()
            items = {i.id: i for i in session.scalars(query)}
            for _, item_id, target in resolved:
                item = items[item_id]
                if item.class_id == target.id or (item.class_id is not None and options.conflict_policy != OVERWRITE):
                    report.skipped += 1
                    continue
                self._events.write(session, access, principal, item, WriteRequest(
                    kind=AnnotationKind.LABEL, class_id=target.id, source=LabelSource.IMPORT, noisy=options.noisy,
                    comment="imported"))
                report.applied += 1
