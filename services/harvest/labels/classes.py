"""Classes of a project: add, rename/recolor, merge and delete, keeping history.

A class id never changes. Renaming keeps the old name in `previous_names`; merging appends one MERGE
annotation event per affected item (so every item's history shows the move) and retires the sources with
`merged_into`; only a class no annotation ever used may be deleted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from harvest.labels import audit, policies
from harvest.labels.db import Database
from harvest.labels.events import EventWriter, WriteRequest
from harvest.labels.models import Annotation, Item, LabelClass, Vote
from harvest.labels.states import AnnotationKind, LabelSource

MAX_CLASS_NAME = 64
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
#: Distinguishable colors (Okabe-Ito, then Tableau) handed out in order when a class has none.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#4E79A7",
           "#F28E2B", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC", "#76B7B2")
DIGITS = "1234567890"


@dataclass(frozen=True, slots=True)
class ClassSpec:
    """A class to create; empty color and shortcut are filled in."""

    name: str
    color: str = ""
    shortcut: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class ClassChange:
    """Fields to change on a class; None leaves a field as it is."""

    name: str | None = None
    color: str | None = None
    shortcut: str | None = None
    description: str | None = None
    position: int | None = None


def class_name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= MAX_CLASS_NAME or any(ord(c) < 32 for c in name) or "/" in name:
        raise InvalidArgument(f"class name {value!r} is not allowed: use 1-{MAX_CLASS_NAME} printable "
                              "characters without '/'")
    return name


def class_color(value: str) -> str:
    if not COLOR.match(value):
        raise InvalidArgument(f"color {value!r} is not allowed: use '#RRGGBB'")
    return value.upper()


def class_shortcut(value: str) -> str:
    if value and (len(value) != 1 or not value.isprintable() or value.isspace()):
        raise InvalidArgument(f"shortcut {value!r} is not allowed: use one printable character (or none)")
    return value


def new_classes(session: Session, project_id: str, existing: Sequence[LabelClass],
                specs: Sequence[ClassSpec]) -> list[LabelClass]:
    """Validate and add classes after `existing` (the project's classes so far); returns the new rows."""
    active = [c for c in existing if not c.retired]
    names = {c.name.casefold() for c in active}
    shortcuts = {c.shortcut for c in active if c.shortcut}
    position = max((c.position for c in existing), default=-1) + 1
    created = []
    for spec in specs:
        name = class_name(spec.name)
        if name.casefold() in names:
            raise AlreadyExists(f"class {name!r} already exists in this project")
        shortcut = class_shortcut(spec.shortcut) or next((d for d in DIGITS if d not in shortcuts), "")
        if shortcut in shortcuts and spec.shortcut:
            raise AlreadyExists(f"shortcut {shortcut!r} is already used by another class")
        color = class_color(spec.color) if spec.color else PALETTE[position % len(PALETTE)]
        row = LabelClass(project_id=project_id, name=name, color=color, shortcut=shortcut,
                         description=spec.description, position=position, previous_names=[])
        session.add(row)
        created.append(row)
        names.add(name.casefold())
        if shortcut:
            shortcuts.add(shortcut)
        position += 1
    session.flush()
    return created


def project_classes(session: Session, project_id: str) -> list[LabelClass]:
    return list(session.scalars(select(LabelClass).where(LabelClass.project_id == project_id)
                                .order_by(LabelClass.position, LabelClass.created_at)))


def class_in(classes: Sequence[LabelClass], class_id: str) -> LabelClass:
    for row in classes:
        if row.id == class_id:
            return row
    raise NotFound(f"no class with id {class_id!r} in this project")


class Classes:
    """Class changes; each bumps the project version and is audited."""

    def __init__(self, db: Database, events: EventWriter) -> None:
        self._db = db
        self._events = events

    def add(self, principal: Principal, project_id: str, spec: ClassSpec) -> tuple[LabelClass, int]:
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id, lock=True)
            policies.manage_project(principal, access, "adding a class")
            (created,) = new_classes(session, project_id, project_classes(session, project_id), [spec])
            access.project.version += 1
            audit.record(session, principal, "AddClass", "class", created.id, project_id=project_id,
                         name=created.name, color=created.color, shortcut=created.shortcut)
        return created, access.project.version

    def update(self, principal: Principal, project_id: str, class_id: str,
               change: ClassChange) -> tuple[LabelClass, int]:
        if all(value is None for value in (change.name, change.color, change.shortcut, change.description,
                                           change.position)):
            raise InvalidArgument("nothing to change: set name, color, shortcut, description or position")
        try:
            with self._db.write() as session:
                access = policies.load_access(session, principal, project_id, lock=True)
                policies.manage_project(principal, access, "changing a class")
                classes = project_classes(session, project_id)
                row = class_in(classes, class_id)
                changed = self._apply_change(row, change, [c for c in classes if c.id != row.id and not c.retired])
                access.project.version += 1
                session.flush()
                audit.record(session, principal, "UpdateClass", "class", row.id, project_id=project_id, **changed)
        except IntegrityError:
            raise AlreadyExists("another class already uses that name or shortcut") from None
        return row, access.project.version

    @staticmethod
    def _apply_change(row: LabelClass, change: ClassChange, others: Sequence[LabelClass]) -> dict[str, str]:
        changed: dict[str, str] = {}
        if change.name is not None:
            name = class_name(change.name)
            if any(c.name.casefold() == name.casefold() for c in others):
                raise AlreadyExists(f"class {name!r} already exists in this project")
            if name != row.name:
                row.previous_names = [*row.previous_names, row.name]
                changed["old_name"], changed["new_name"] = row.name, name
                row.name = name
        if change.color is not None:
            row.color = changed["color"] = class_color(change.color)
        if change.shortcut is not None:
            shortcut = class_shortcut(change.shortcut)
            if shortcut and any(c.shortcut == shortcut for c in others):
                raise AlreadyExists(f"shortcut {shortcut!r} is already used by another class")
            row.shortcut = changed["shortcut"] = shortcut
        if change.description is not None:
            row.description = change.description
            changed["description"] = "changed"
        if change.position is not None:
            if change.position < 0:
                raise InvalidArgument("position must not be negative")
            row.position = change.position
            changed["position"] = str(change.position)
        return changed

    def merge(self, principal: Principal, project_id: str, source_ids: Sequence[str],
              target_id: str) -> tuple[LabelClass, int, int]:
        """Move every item labeled with a source class to the target, one MERGE event each."""
        sources = list(dict.fromkeys(source_ids))
        if not sources:
            raise InvalidArgument("name at least one source class")
        if target_id in sources:
            raise InvalidArgument("the target class cannot also be a source")
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id, lock=True)
            policies.manage_project(principal, access, "merging classes")
            classes = project_classes(session, project_id)
            target = class_in(classes, target_id)
            retired = [c.name for c in (target, *(class_in(classes, s) for s in sources)) if c.retired]
            if retired:
                raise FailedPrecondition(f"class(es) {', '.join(retired)} are already retired")
            items = list(session.scalars(select(Item).where(Item.project_id == project_id,
                                                            Item.class_id.in_(sources))
                                         .order_by(Item.id).with_for_update()))
            for item in items:
                self._events.write(session, access, principal, item, WriteRequest(
                    kind=AnnotationKind.MERGE, class_id=target.id, source=LabelSource.HUMAN, noisy=item.noisy,
                    comment=f"merged into {target.name}", label_source=item.label_source))
            session.execute(update(Vote).where(Vote.project_id == project_id, Vote.class_id.in_(sources))
                            .values(class_id=target.id).execution_options(synchronize_session=False))
            for source in sources:
                row = class_in(classes, source)
                row.retired, row.merged_into, row.shortcut = True, target.id, ""
            access.project.version += 1
            audit.record(session, principal, "MergeClasses", "class", target.id, project_id=project_id,
                         sources=",".join(sources), relabeled_items=len(items))
        return target, len(items), access.project.version

    def delete(self, principal: Principal, project_id: str, class_id: str) -> int:
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id, lock=True)
            policies.manage_project(principal, access, "deleting a class")
            row = class_in(project_classes(session, project_id), class_id)
            used = session.scalar(select(func.count()).select_from(Annotation).where(
                Annotation.project_id == project_id,
                or_(Annotation.class_id == class_id, Annotation.previous_class_id == class_id)))
            if used:
                raise FailedPrecondition(f"class {row.name!r} is used by {used} annotation(s); merge it into "
                                         "another class instead (MergeClasses keeps history)")
            session.execute(update(Item).where(Item.project_id == project_id, Item.suggested_class_id == class_id)
                            .values(suggested_class_id=None).execution_options(synchronize_session=False))
            session.execute(delete(LabelClass).where(LabelClass.id == class_id))
            access.project.version += 1
            audit.record(session, principal, "DeleteClass", "class", class_id, project_id=project_id, name=row.name)
        return access.project.version
