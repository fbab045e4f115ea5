"""Projects: creation, renaming, workflow settings, archiving, listing and labeling statistics.

A project's `version` grows with every change to its name, settings or classes, so two experts editing
the same project find out (ABORTED) instead of overwriting each other.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harvest.common.auth import Principal, Role
from harvest.common.errors import Aborted, AlreadyExists, InvalidArgument
from harvest.labels import audit, policies
from harvest.labels.classes import ClassSpec, new_classes
from harvest.labels.db import Database
from harvest.labels.models import (
    Annotation,
    Item,
    LabelClass,
    Membership,
    Prediction,
    Project,
    User,
)
from harvest.labels.paging import after_key, page_request
from harvest.labels.predictions import latest_model_id, open_suspicion
from harvest.labels.states import AnnotationKind, ItemStatus

MAX_NAME = 128
MAX_REQUIRED_ANNOTATIONS = 10
DEFAULT_LEASE_S = 600
MAX_LEASE_S = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """Workflow settings as the contract states them (zeros mean defaults)."""

    required_annotations: int = 0
    lease_s: int = 0
    blind_annotation: bool = False
    agreement_threshold: float = 0.0
    max_active_jobs: int = 0

    def validated(self) -> ProjectSettings:
        if not 0 <= self.required_annotations <= MAX_REQUIRED_ANNOTATIONS:
            raise InvalidArgument(f"required_annotations must be between 0 and {MAX_REQUIRED_ANNOTATIONS}")
        if not 0 <= self.lease_s <= MAX_LEASE_S:
            raise InvalidArgument(f"lease_s must be between 0 and {MAX_LEASE_S} seconds")
        if self.agreement_threshold != 0 and not 0.5 < self.agreement_threshold <= 1:
            raise InvalidArgument("agreement_threshold must be 0 (unanimity) or in (0.5, 1]")
        if self.max_active_jobs < 0:
            raise InvalidArgument("max_active_jobs must not be negative")
        return self

    def apply_to(self, project: Project) -> None:
        project.required_annotations = self.required_annotations or 1
        project.lease_s = self.lease_s or DEFAULT_LEASE_S
        project.blind_annotation = self.blind_annotation
        project.agreement_threshold = self.agreement_threshold
        project.max_active_jobs = self.max_active_jobs


@dataclass(frozen=True, slots=True)
class ProjectView:
    """A project with its classes in display order."""

    project: Project
    classes: list[LabelClass]


@dataclass(frozen=True, slots=True)
class ClassCounts:
    class_: LabelClass
    labeled: int = 0
    noisy_labeled: int = 0
    predicted: int = 0


@dataclass(frozen=True, slots=True)
class AnnotatorProgress:
    user_id: str
    username: str
    annotations: int
    items: int
    assigned_pending: int
    last_annotation_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ProjectStats:
    items: int
    labeled: int
    unlabeled: int
    disagreements: int
    suspected_errors: int
    classes: list[ClassCounts] = field(default_factory=list)
    annotators: list[AnnotatorProgress] = field(default_factory=list)


def project_name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= MAX_NAME or any(ord(c) < 32 for c in name):
        raise InvalidArgument(f"project name must be 1-{MAX_NAME} printable characters")
    return name


def classes_of(session: Session, project_ids: Sequence[str]) -> dict[str, list[LabelClass]]:
    found: dict[str, list[LabelClass]] = defaultdict(list)
    if project_ids:
        rows = session.scalars(select(LabelClass).where(LabelClass.project_id.in_(project_ids))
                               .order_by(LabelClass.position, LabelClass.created_at, LabelClass.id))
        for row in rows:
            found[row.project_id].append(row)
    return found


def check_version(project: Project, expected: int) -> None:
    if expected and expected != project.version:
        raise Aborted(f"project {project.name!r} changed since version {expected}: it is now at version "
                      f"{project.version}; re-read it and retry", details={"current-version": str(project.version)})


class Projects:
    """Project lifecycle and statistics."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, principal: Principal, name: str, description: str, classes: Sequence[ClassSpec],
               settings: ProjectSettings | None) -> ProjectView:
        principal.require(Role.EXPERT, "creating a project")
        project = Project(name=project_name(name), description=description, created_by=principal.user_id)
        (settings or ProjectSettings()).validated().apply_to(project)
        try:
            with self._db.write() as session:
                session.add(project)
                session.flush()
                created = new_classes(session, project.id, [], classes)
                session.add(Membership(project_id=project.id, user_id=principal.user_id, added_by=principal.user_id))
                audit.record(session, principal, "CreateProject", "project", project.id, project_id=project.id,
                             name=project.name, classes=",".join(c.name for c in created))
        except IntegrityError:
            raise AlreadyExists(f"a project named {project.name!r} already exists") from None
        return ProjectView(project, created)

    def get(self, principal: Principal, project_id: str) -> ProjectView:
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            return ProjectView(access.project, classes_of(session, [project_id])[project_id])

    def list(self, principal: Principal, include_archived: bool, page_size: int,
             page_token: str) -> tuple[list[ProjectView], str, int]:
        """Projects the caller is a member of (admins: all), by name."""
        page = page_request(page_size, page_token, "projects", include_archived)
        conditions = []
        if not include_archived:
            conditions.append(Project.archived.is_(False))
        if principal.role < Role.ADMIN:
            conditions.append(Project.id.in_(select(Membership.project_id)
                                             .where(Membership.user_id == principal.user_id)))
        with self._db.read() as session:
            total = session.scalar(select(func.count()).select_from(Project).where(*conditions)) or 0
            statement = select(Project).where(*conditions)
            order = [(Project.name, False), (Project.id, False)]
            if page.after is not None:
                statement = statement.where(after_key(order, page.after))
            rows = list(session.scalars(statement.order_by(Project.name, Project.id).limit(page.size + 1)))
            classes = classes_of(session, [p.id for p in rows[:page.size]])
        views = [ProjectView(p, classes[p.id]) for p in rows[:page.size]]
        return views, page.next_token(rows, lambda p: (p.name, p.id)), total

    def rename(self, principal: Principal, project_id: str, name: str, expected_version: int) -> ProjectView:
        new_name = project_name(name)
        try:
            with self._db.write() as session:
                access = policies.load_access(session, principal, project_id, lock=True)
                policies.manage_project(principal, access, "renaming a project")
                project = access.project
                check_version(project, expected_version)
                old = project.name
                if old != new_name:
                    project.name = new_name
                    project.version += 1
                    session.flush()
                    audit.record(session, principal, "RenameProject", "project", project.id, project_id=project.id,
                                 old_name=old, new_name=new_name)
                classes = classes_of(session, [project_id])[project_id]
        except IntegrityError:
            raise AlreadyExists(f"a project named {new_name!r} already exists") from None
        return ProjectView(project, classes)

    def update_settings(self, principal: Principal, project_id: str, description: str | None,
                        settings: ProjectSettings | None, expected_version: int) -> ProjectView:
        if description is None and settings is None:
            raise InvalidArgument("nothing to change: set description or settings")
        if settings is not None:
            settings.validated()
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id, lock=True)
            policies.manage_project(principal, access, "changing project settings")
            project = access.project
            check_version(project, expected_version)
            if description is not None:
                project.description = description
            if settings is not None:
                settings.apply_to(project)
            project.version += 1
            audit.record(session, principal, "UpdateProjectSettings", "project", project.id, project_id=project.id,
                         description_changed=description is not None,
                         **({} if settings is None else {
                             "required_annotations": project.required_annotations, "lease_s": project.lease_s,
                             "blind_annotation": project.blind_annotation,
                             "agreement_threshold": project.agreement_threshold,
                             "max_active_jobs": project.max_active_jobs}))
            classes = classes_of(session, [project_id])[project_id]
        return ProjectView(project, classes)

    def archive(self, principal: Principal, project_id: str, archived: bool) -> ProjectView:
        """Archive or restore; idempotent (no version bump or audit entry when nothing changes)."""
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id, lock=True)
            policies.archive_project(principal, access)
            project = access.project
            if project.archived != archived:
                project.archived = archived
                project.version += 1
                audit.record(session, principal, "ArchiveProject" if archived else "RestoreProject", "project",
                             project.id, project_id=project.id, archived=archived)
            classes = classes_of(session, [project_id])[project_id]
        return ProjectView(project, classes)

    def stats(self, principal: Principal, project_id: str) -> ProjectStats:
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            return _stats(session, project_id)


def _stats(session: Session, project_id: str) -> ProjectStats:
    in_project = Item.project_id == project_id
    items, labeled, disagreements = session.execute(
        select(func.count(), func.count(Item.class_id),
               func.coalesce(func.sum(case((Item.status == ItemStatus.DISAGREEMENT, 1), else_=0)), 0))
        .where(in_project)).one()
    suspected = session.scalar(select(func.count()).select_from(Item).where(in_project, open_suspicion(Item))) or 0
    per_class = {class_id: (int(clean), int(noisy)) for class_id, clean, noisy in session.execute(
        select(Item.class_id, func.sum(case((Item.noisy.is_(False), 1), else_=0)),
               func.sum(case((Item.noisy.is_(True), 1), else_=0)))
        .where(in_project, Item.class_id.is_not(None)).group_by(Item.class_id))}
    predicted: dict[str, int] = {}
    model_id = latest_model_id(session, project_id)
    if model_id:
        predicted = dict(session.execute(
            select(Prediction.predicted_class_id, func.count())
            .join(Item, Item.id == Prediction.item_id)
            .where(Prediction.project_id == project_id, Prediction.model_id == model_id, Item.class_id.is_(None))
            .group_by(Prediction.predicted_class_id)).all())
    classes = [ClassCounts(c, *per_class.get(c.id, (0, 0)), predicted.get(c.id, 0))
               for c in classes_of(session, [project_id])[project_id]]
    events = session.execute(
        select(Annotation.user_id, func.count(), func.count(func.distinct(Annotation.item_id)),
               func.max(Annotation.created_at))
        .where(Annotation.project_id == project_id, Annotation.kind != AnnotationKind.UNDO)
        .group_by(Annotation.user_id)).all()
    pending = dict(session.execute(
        select(Item.assigned_to, func.count()).where(
            in_project, Item.assigned_to.is_not(None),
            ~select(Annotation.id).where(and_(Annotation.item_id == Item.id,
                                              Annotation.user_id == Item.assigned_to)).exists())
        .group_by(Item.assigned_to)).all())
    user_ids = {row[0] for row in events} | set(pending)
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    by_user = {row[0]: row for row in events}
    annotators = sorted(
        (AnnotatorProgress(uid, names.get(uid, ""), int(by_user[uid][1]) if uid in by_user else 0,
                           int(by_user[uid][2]) if uid in by_user else 0, int(pending.get(uid, 0)),
                           by_user[uid][3] if uid in by_user else None)
         for uid in user_ids),
        key=lambda a: a.username)
    return ProjectStats(int(items), int(labeled), int(items) - int(labeled), int(disagreements), int(suspected),
                        classes, annotators)
