"""Items: registering a project's images (from storage ingests), listing them with filters, reading one.

Registration is idempotent per (project, image): storage may call it again after a retry and gets the same
item ids. Suggested labels (ImageFolder directories) are kept as suggestions, recorded as (possibly noisy)
import labels, or ignored, per the caller's policy.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import InvalidArgument, NotFound
from harvest.labels import policies
from harvest.labels.classes import ClassSpec, new_classes, project_classes
from harvest.labels.db import Database
from harvest.labels.events import EventWriter, WriteRequest
from harvest.labels.models import (
    Annotation,
    Item,
    LabelClass,
    Prediction,
    SuspectedError,
    Vote,
    new_sortable_id,
    utcnow,
)
from harvest.labels.paging import after_key, page_request
from harvest.labels.policies import ProjectAccess
from harvest.labels.predictions import latest_model_id, open_suspicion
from harvest.labels.records import ItemRecord
from harvest.labels.states import AnnotationKind, ImageFormat, ItemStatus, LabelSource, SuggestedLabelPolicy

MAX_REGISTER = 5000
SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 500


class ItemOrder:
    """ListItems orderings (numbers equal harvest.v1.ItemOrder)."""

    REGISTERED = 0
    UPDATED_DESC = 1
    CONFIDENCE_DESC = 2
    CONFIDENCE_ASC = 3
    SUSPICION_DESC = 4


@dataclass(frozen=True, slots=True)
class NewItemSpec:
    image_id: str
    original_name: str = ""
    width: int = 0
    height: int = 0
    suggested_label: str = ""
    object_key: str = ""
    format: int = 0


@dataclass(frozen=True, slots=True)
class Registered:
    image_id: str
    item_id: str
    created: bool


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """ListItems filters; every set filter must hold."""

    labeled: bool | None = None
    statuses: tuple[int, ...] = ()
    disagreement: bool = False
    suspected_error: bool = False
    class_ids: tuple[str, ...] = ()
    annotator_id: str = ""
    assigned_to: str = ""
    predicted_class_ids: tuple[str, ...] = ()
    prediction_disagrees: bool = False
    noisy: bool = False
    name_contains: str = ""

    @property
    def needs_prediction(self) -> bool:
        return bool(self.predicted_class_ids) or self.prediction_disagrees


@dataclass(slots=True)
class ItemView:
    """An item with what its message shows besides its own columns."""

    item: Item | ItemRecord
    annotator_ids: tuple[str, ...] = ()
    prediction: Prediction | None = None
    suspicion: SuspectedError | None = None
    annotations: list[Annotation] = field(default_factory=list)


def object_key(project_id: str, spec: NewItemSpec) -> str:
    """The stored key, or the storage convention `datasets/<project>/<sha256>.<ext>` from the format."""
    if spec.object_key:
        return spec.object_key
    extension = ImageFormat(spec.format).extension if spec.format in ImageFormat._value2member_map_ else ""
    return f"datasets/{project_id}/{spec.image_id}.{extension}" if extension else ""


def filter_conditions(query: ItemQuery, prediction: Any) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.labeled is True:
        conditions.append(Item.class_id.is_not(None))
    elif query.labeled is False:
        conditions.append(Item.class_id.is_(None))
    if query.statuses:
        conditions.append(Item.status.in_(query.statuses))
    if query.disagreement:
        split_votes = (select(func.count(func.distinct(Vote.class_id)))
                       .where(Vote.item_id == Item.id, Vote.class_id.is_not(None)).scalar_subquery())
        conditions.append((Item.status == ItemStatus.DISAGREEMENT)
                          | ((Item.status == ItemStatus.IN_PROGRESS) & (split_votes > 1)))
    if query.suspected_error:
        conditions.append(open_suspicion(Item))
    if query.class_ids:
        conditions.append(Item.class_id.in_(query.class_ids))
    if query.annotator_id:
        conditions.append(select(Annotation.id).where(Annotation.item_id == Item.id,
                                                      Annotation.user_id == query.annotator_id).exists())
    if query.assigned_to:
        conditions.append(Item.assigned_to == query.assigned_to)
    if query.predicted_class_ids:
        conditions.append(prediction.predicted_class_id.in_(query.predicted_class_ids))
    if query.prediction_disagrees:
        conditions.append(and_(Item.class_id.is_not(None), prediction.predicted_class_id != Item.class_id))
    if query.noisy:
        conditions.append(Item.noisy.is_(True))
    if query.name_contains:
        conditions.append(func.lower(Item.original_name).contains(query.name_contains.lower(), autoescape=True))
    return conditions


def ordering(order: int, prediction: Any) -> list[tuple[ColumnElement[Any], bool]]:
    """(sort expression, descending) pairs ending in the id, so every order is total and pageable."""
    if order == ItemOrder.REGISTERED:
        return [(Item.id, False)]
    if order == ItemOrder.UPDATED_DESC:
        return [(Item.updated_at, True), (Item.id, True)]
    if order == ItemOrder.CONFIDENCE_DESC:
        return [(func.coalesce(prediction.confidence, -1.0), True), (Item.id, False)]
    if order == ItemOrder.CONFIDENCE_ASC:
        return [(func.coalesce(prediction.confidence, 2.0), False), (Item.id, False)]
    if order == ItemOrder.SUSPICION_DESC:
        best = (select(func.max(SuspectedError.score)).where(
            SuspectedError.item_id == Item.id, SuspectedError.cleared_at.is_(None),
            SuspectedError.item_version == Item.version).scalar_subquery())
        return [(func.coalesce(best, -1.0), True), (Item.id, False)]
    raise InvalidArgument(f"unknown item order {order}")


def decorate(session: Session, access: ProjectAccess, principal: Principal, items: Sequence[Item],
             model_id: str | None = None) -> list[ItemView]:
    """Attach votes, the latest prediction and open suspicions to a page of items (three queries)."""
    views = [ItemView(item) for item in items]
    if not items:
        return views
    ids = [item.id for item in items]
    voters: dict[str, list[str]] = defaultdict(list)
    for item_id, user_id in session.execute(select(Vote.item_id, Vote.user_id).where(
            Vote.item_id.in_(ids), Vote.class_id.is_not(None)).order_by(Vote.user_id)).all():
        voters[item_id].append(user_id)
    model_id = model_id or latest_model_id(session, access.project_id)
    predictions = {}
    if model_id:
        predictions = {p.item_id: p for p in session.scalars(select(Prediction).where(
            Prediction.item_id.in_(ids), Prediction.model_id == model_id))}
    suspicions: dict[str, SuspectedError] = {}
    for row in session.scalars(select(SuspectedError).where(SuspectedError.item_id.in_(ids),
                                                            SuspectedError.cleared_at.is_(None))
                               .order_by(SuspectedError.score)):
        suspicions[row.item_id] = row  # highest score last, so it wins
    sees_all = policies.see_other_votes(principal, access)
    for view in views:
        item = view.item
        votes = voters.get(item.id, [])
        view.annotator_ids = tuple(votes if sees_all else [v for v in votes if v == principal.user_id])
        voted = principal.user_id in votes
        view.prediction = predictions.get(item.id) if sees_all or voted else None
        suspicion = suspicions.get(item.id)
        view.suspicion = suspicion if suspicion is not None and suspicion.item_version == item.version else None
    return views


class Items:
    """RegisterItems, ListItems, GetItem."""

    def __init__(self, db: Database, events: EventWriter) -> None:
        self._db = db
        self._events = events

    def register(self, principal: Principal, project_id: str, specs: Sequence[NewItemSpec],
                 policy: SuggestedLabelPolicy) -> tuple[list[Registered], list[LabelClass]]:
        if not 1 <= len(specs) <= MAX_REGISTER:
            raise InvalidArgument(f"send 1 to {MAX_REGISTER} items")
        for spec in specs:
            if not SHA256.match(spec.image_id):
                raise InvalidArgument(f"image_id {spec.image_id!r} is not a lowercase hex SHA-256")
            if spec.width < 0 or spec.height < 0:
                raise InvalidArgument(f"image {spec.image_id}: width and height must not be negative")
        records = policy in (SuggestedLabelPolicy.LABEL, SuggestedLabelPolicy.NOISY_LABEL)
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id, lock=records)
            policies.register_items(principal, access)
            classes = project_classes(session, project_id)
            created_classes = self._classes_for(session, access, classes, specs) if records else []
            by_name = {c.name.casefold(): c for c in [*classes, *created_classes] if not c.retired}
            existing = self._ids_by_image(session, project_id, [s.image_id for s in specs])
            fresh = {s.image_id: s for s in specs if s.image_id not in existing}
            if fresh:
                rows = [self._row(project_id, spec, by_name, policy) for spec in fresh.values()]
                session.execute(self._db.insert(Item).on_conflict_do_nothing(
                    index_elements=["project_id", "image_id"]), rows)
                ours = {row["image_id"]: row["id"] for row in rows}
                inserted = self._ids_by_image(session, project_id, list(fresh))
                created = {image for image, item_id in inserted.items() if ours[image] == item_id}
                existing.update(inserted)
                if records:
                    self._record_labels(session, access, principal, [ours[i] for i in created], fresh, by_name,
                                        noisy=policy == SuggestedLabelPolicy.NOISY_LABEL)
            else:
                created = set()
        seen: set[str] = set()
        results = []
        for spec in specs:
            results.append(Registered(spec.image_id, existing[spec.image_id],
                                      spec.image_id in created and spec.image_id not in seen))
            seen.add(spec.image_id)
        return results, created_classes

    @staticmethod
    def _classes_for(session: Session, access: ProjectAccess, classes: list[LabelClass],
                     specs: Sequence[NewItemSpec]) -> list[LabelClass]:
        known = {c.name.casefold() for c in classes if not c.retired}
        wanted = list(dict.fromkeys(s.suggested_label.strip() for s in specs if s.suggested_label.strip()))
        missing = [name for name in wanted if name.casefold() not in known]
        if not missing:
            return []
        created = new_classes(session, access.project_id, classes, [ClassSpec(name) for name in missing])
        access.project.version += 1
        return created

    @staticmethod
    def _ids_by_image(session: Session, project_id: str, image_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(image_ids))
        for start in range(0, len(unique), _CHUNK):
            found.update(session.execute(select(Item.image_id, Item.id).where(
                Item.project_id == project_id, Item.image_id.in_(unique[start:start + _CHUNK]))).all())
        return found

    @staticmethod
    def _row(project_id: str, spec: NewItemSpec, by_name: dict[str, LabelClass],
             policy: SuggestedLabelPolicy) -> dict[str, Any]:
        label = "" if policy == SuggestedLabelPolicy.IGNORE else spec.suggested_label.strip()
        suggested = by_name.get(label.casefold()) if label else None
        now = utcnow()
        return {"id": new_sortable_id(), "project_id": project_id, "image_id": spec.image_id,
                "original_name": spec.original_name[:512], "width": spec.width, "height": spec.height,
                "object_key": object_key(project_id, spec), "format": spec.format,
                "status": int(ItemStatus.UNLABELED), "class_id": None, "label_source": 0, "noisy": False,
                "suggested_class_id": suggested.id if suggested else None, "suggested_label": label[:255],
                "version": 1, "annotation_count": 0, "assigned_to": None, "created_at": now, "updated_at": now}

    def _record_labels(self, session: Session, access: ProjectAccess, principal: Principal, item_ids: list[str],
                       specs: dict[str, NewItemSpec], by_name: dict[str, LabelClass], noisy: bool) -> None:
        for start in range(0, len(item_ids), _CHUNK):
            for item in session.scalars(select(Item).where(Item.id.in_(item_ids[start:start + _CHUNK]))):
                label = specs[item.image_id].suggested_label.strip()
                if not label:
                    continue
                self._events.write(session, access, principal, item, WriteRequest(
                    kind=AnnotationKind.LABEL, class_id=by_name[label.casefold()].id, source=LabelSource.IMPORT,
                    noisy=noisy, comment="suggested label at ingest"))

    def list(self, principal: Principal, project_id: str, query: ItemQuery, order: int, page_size: int,
             page_token: str) -> tuple[list[ItemView], str, int]:
        page = page_request(page_size, page_token, "items", project_id, query, order)
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            model_id = latest_model_id(session, project_id)
            prediction = Prediction.__table__.alias("p")
            statement: Select[Any] = select(Item)
            if model_id and (query.needs_prediction or order in (ItemOrder.CONFIDENCE_ASC, ItemOrder.CONFIDENCE_DESC)):
                statement = statement.outerjoin(prediction, and_(prediction.c.item_id == Item.id,
                                                                 prediction.c.model_id == model_id))
            elif query.needs_prediction:
                return [], "", 0  # no model has predicted anything yet: nothing can match
            columns = ordering(order, prediction.c)
            conditions = [Item.project_id == project_id, *filter_conditions(query, prediction.c)]
            statement = statement.where(*conditions)
            total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
            if page.after is not None:
                after = list(page.after)
                if order == ItemOrder.UPDATED_DESC:
                    after[0] = dt.datetime.fromisoformat(after[0])
                statement = statement.where(after_key(columns, after))
            statement = statement.order_by(*[c.desc() if descending else c.asc() for c, descending in columns])
            key_columns = [c.label(f"k{i}") for i, (c, _) in enumerate(columns)]
            rows = session.execute(statement.add_columns(*key_columns).limit(page.size + 1)).all()
            views = decorate(session, access, principal, [row[0] for row in rows[:page.size]], model_id)

        def key(row: Any) -> tuple[Any, ...]:
            values = tuple(row[1:])
            return tuple(v.isoformat() if isinstance(v, dt.datetime) else v for v in values)

        return views, page.next_token(rows, key), total

    def get(self, principal: Principal, project_id: str, item_id: str) -> ItemView:
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            item = session.get(Item, item_id)
            if item is None or item.project_id != project_id:
                raise NotFound(f"no item with id {item_id!r} in this project")
            (view,) = decorate(session, access, principal, [item])
            events = select(Annotation).where(Annotation.item_id == item_id).order_by(Annotation.id)
            if not policies.see_other_votes(principal, access):
                events = events.where(Annotation.user_id == principal.user_id)
            view.annotations = list(session.scalars(events))
            return view

