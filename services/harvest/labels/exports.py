"""Exporting a project's labels as CSV, COCO-style JSON or an ImageFolder layout listing, streamed.

Items are read in keyset pages and written out as they come, so memory stays flat however large the
project; the caller (the servicer) cuts the text into chunks of at most 1 MiB.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select

from harvest.common.auth import Principal
from harvest.common.errors import FailedPrecondition, InvalidArgument, NotFound
from harvest.labels import audit, policies
from harvest.labels.db import Database
from harvest.labels.models import Annotation, Item, LabelClass, SnapshotRecord
from harvest.labels.states import ImageFormat, LabelSource

CSV, IMAGE_FOLDER, COCO = 1, 2, 3
PAGE = 2000
FLUSH_BYTES = 256 * 1024
CSV_COLUMNS = ("item_id", "image_id", "original_name", "label", "source", "annotator", "updated_at", "noisy")


@dataclass(frozen=True, slots=True)
class ExportHeader:
    file_name: str
    content_type: str
    item_count: int


@dataclass(frozen=True, slots=True)
class ExportedItem:
    item: Item
    label: str | None
    annotator: str


#: Re-iterable item source: `rows()` from the start, `rows(last_id)` bounded to a first pass.
Rows = Callable[..., Iterator["ExportedItem"]]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower()).strip("-") or "project"


def _extension(item: Item) -> str:
    if item.object_key and "." in item.object_key.rsplit("/", 1)[-1]:
        return item.object_key.rsplit(".", 1)[-1]
    return ImageFormat(item.format).extension if item.format in ImageFormat._value2member_map_ else ""


class LabelExports:
    """ExportLabels."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def export(self, principal: Principal, project_id: str, format_: int, snapshot_id: str, include_unlabeled: bool,
               include_noisy: bool) -> tuple[ExportHeader, Iterator[str]]:
        if format_ not in (CSV, IMAGE_FOLDER, COCO):
            raise InvalidArgument("format is required: CSV, IMAGE_FOLDER or COCO")
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            policies.export_labels(principal, access)
            if snapshot_id:
                record = session.get(SnapshotRecord, snapshot_id)
                if record is None or record.project_id != project_id:
                    raise NotFound(f"no snapshot {snapshot_id!r} in this project")
                raise FailedPrecondition("exporting a snapshot's labels is not available yet; export the current "
                                         "labels, or read the snapshot's manifest from storage")
            classes = {c.id: c.name for c in session.scalars(select(LabelClass).where(
                LabelClass.project_id == project_id))}
            conditions = [Item.project_id == project_id]
            if not include_unlabeled:
                conditions.append(Item.class_id.is_not(None))
                if not include_noisy:
                    conditions.append(Item.noisy.is_(False))
            count = session.scalar(select(func.count()).select_from(Item).where(*conditions)) or 0
            audit.record(session, principal, "ExportLabels", "project", project_id, project_id=project_id,
                         format=format_, items=count)
        name = _slug(access.project.name)
        header = {CSV: ExportHeader(f"{name}-labels.csv", "text/csv", count),
                  IMAGE_FOLDER: ExportHeader(f"{name}-imagefolder.tsv", "text/tab-separated-values", count),
                  COCO: ExportHeader(f"{name}-coco.json", "application/json", count)}[format_]
        def rows(up_to: str = "") -> Iterator[ExportedItem]:
            return self._rows(conditions, classes, include_noisy, up_to)

        writer = {CSV: self._csv, IMAGE_FOLDER: self._image_folder, COCO: self._coco}[format_]
        return header, _buffered(writer(rows, classes, access.project.name))

    def _rows(self, conditions: list[ColumnElement[bool]], classes: dict[str, str], include_noisy: bool,
              up_to: str) -> Iterator[ExportedItem]:
        """Items in id order, a page per short read transaction; `up_to` bounds a second pass to the first's."""
        after = ""
        bound = [Item.id <= up_to] if up_to else []
        while True:
            with self._db.read() as session:
                items = list(session.scalars(select(Item).where(*conditions, *bound, Item.id > after)
                                             .order_by(Item.id).limit(PAGE)))
                if not items:
                    return
                authors: dict[str, str] = {}
                for item_id, username in session.execute(
                        select(Annotation.item_id, Annotation.username)
                        .where(Annotation.item_id.in_([i.id for i in items]))
                        .order_by(Annotation.id)).all():
                    authors[item_id] = username  # the latest event wins
            for item in items:
                usable = item.class_id is not None and (include_noisy or not item.noisy)
                yield ExportedItem(item, classes.get(item.class_id or "") if usable else None,
                                   authors.get(item.id, ""))
            after = items[-1].id

    @staticmethod
    def _csv(rows: Rows, classes: dict[str, str], project: str) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows():
            item = row.item
            source = LabelSource(item.label_source).name.lower() if row.label and item.label_source else ""
            writer.writerow((item.id, item.image_id, item.original_name, row.label or "", source,
                             row.annotator if row.label else "", item.updated_at.isoformat(),
                             "true" if row.label and item.noisy else "false"))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    @staticmethod
    def _image_folder(rows: Rows, classes: dict[str, str], project: str) -> Iterator[str]:
        for row in rows():
            folder = row.label or "unlabeled"
            extension = _extension(row.item)
            name = f"{row.item.image_id}.{extension}" if extension else row.item.image_id
            yield f"{folder}/{name}\t{row.item.object_key}\n"

    @staticmethod
    def _coco(rows: Rows, classes: dict[str, str], project: str) -> Iterator[str]:
        """COCO layout with one whole-image annotation per labeled image (bbox = the full image). Two passes
        over the items (images, then annotations) keep memory flat."""
        category = {class_id: index for index, class_id in enumerate(sorted(classes, key=classes.get), start=1)}
        categories = [{"id": category[cid], "name": classes[cid], "harvest_class_id": cid} for cid in category]
        yield json.dumps({"info": {"description": f"HARVEST labels of {project}", "version": "1"},
                          "categories": categories})[:-1] + ', "images": ['
        last = ""
        for number, row in enumerate(rows(), start=1):
            item = row.item
            last = item.id
            yield ("" if number == 1 else ", ") + json.dumps({
                "id": number, "file_name": f"{item.image_id}.{_extension(item)}", "width": item.width,
                "height": item.height, "harvest_item_id": item.id, "original_name": item.original_name})
        yield '], "annotations": ['
        written = 0
        if last:
            for number, row in enumerate(rows(last), start=1):
                item = row.item
                if row.label is None or item.class_id not in category:
                    continue
                written += 1
                yield ("" if written == 1 else ", ") + json.dumps({
                    "id": written, "image_id": number, "category_id": category[item.class_id],
                    "bbox": [0, 0, item.width, item.height], "area": item.width * item.height, "iscrowd": 0,
                    "noisy": bool(item.noisy)})
        yield "]}"

def _buffered(pieces: Iterator[str]) -> Iterator[str]:
    """Join small pieces into larger strings so each stream message carries a useful amount."""
    parts: list[str] = []
    size = 0
    for piece in pieces:
        parts.append(piece)
        size += len(piece)
        if size >= FLUSH_BYTES:
            yield "".join(parts)
            parts, size = [], 0
    if parts:
        yield "".join(parts)
