"""Plain records of an item and an annotation, as the hot label write returns them.

Why not the ORM classes: building a mapped instance (attribute instrumentation, instance state) for the
item and the event of every write was a sixth of the labels server's CPU per write under load, for objects
that are only read once, to build the reply. These records have the same attribute names, so the message
builders take either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """An item's columns (the order of `ITEM_COLUMNS`)."""

    id: str
    project_id: str
    image_id: str
    original_name: str
    width: int
    height: int
    object_key: str
    format: int
    status: int
    class_id: str | None
    label_source: int
    noisy: bool
    suggested_class_id: str | None
    suggested_label: str
    version: int
    annotation_count: int
    assigned_to: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


#: The item columns a write returns, in `ItemRecord`'s order.
ITEM_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ItemRecord))


@dataclass(frozen=True, slots=True)
class AnnotationRecord:
    """One appended annotation event."""

    id: str
    project_id: str
    item_id: str
    kind: int
    class_id: str | None
    previous_class_id: str | None
    source: int
    noisy: bool
    user_id: str
    username: str
    model_id: str
    undoes_annotation_id: str | None
    comment: str
    item_version: int
    client_request_id: str | None
    created_at: dt.datetime
