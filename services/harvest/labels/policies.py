"""Who may do what: one small function per action, called at the top of each core method.

Global roles are enforced twice: by the interceptor from the contract's `min_role` (before any handler
runs) and here again, so a core used directly (tests, the CLI) is just as safe. Project visibility is
checked here only: `load_access` reads the project and the caller's membership in one query, and a caller
who is not a member learns nothing about the project, not even whether it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal, Role
from harvest.common.errors import FailedPrecondition, NotFound, PermissionDenied
from harvest.labels.models import Annotation, Membership, Project


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """A project the caller may see, and whether they see it as a member (admins may not be members)."""

    project: Project
    is_member: bool

    @property
    def project_id(self) -> str:
        return self.project.id


def not_a_member(project_id: str) -> PermissionDenied:
    """The one answer for "no such project" and "not yours", so neither leaks which is true."""
    return PermissionDenied(f"you are not a member of project {project_id!r}; ask an administrator to add you")


def load_access(session: Session, principal: Principal, project_id: str, *, lock: bool = False) -> ProjectAccess:
    """The project if the caller may see it: admins see all (NOT_FOUND when missing), others only theirs.

    `lock` takes the project row for update (PostgreSQL), for changes to the project itself or its classes.
    """
    if not project_id:
        raise not_a_member(project_id) if principal.role < Role.ADMIN else NotFound("project_id is required")
    query = (select(Project, Membership.user_id)
             .outerjoin(Membership, and_(Membership.project_id == Project.id,
                                         Membership.user_id == principal.user_id))
             .where(Project.id == project_id))
    if lock and session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(of=Project)
    row = session.execute(query).one_or_none()
    if row is None:
        if principal.role >= Role.ADMIN:
            raise NotFound(f"no project with id {project_id!r}")
        raise not_a_member(project_id)
    project, member = row
    if member is None and principal.role < Role.ADMIN:
        raise not_a_member(project_id)
    return ProjectAccess(project, member is not None)


def _writable(access: ProjectAccess, action: str) -> None:
    if access.project.archived:
        raise FailedPrecondition(f"project {access.project.name!r} is archived (read-only): cannot {action}; "
                                 "restore it first")


def view_project(principal: Principal, access: ProjectAccess) -> None:
    """Anyone who may see the project may read it (load_access already refused everyone else)."""


def annotate(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.ANNOTATOR, "labeling")
    _writable(access, "label items")


def register_items(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.ANNOTATOR, "registering items")
    _writable(access, "register items")


def manage_project(principal: Principal, access: ProjectAccess, action: str = "change the project") -> None:
    """Classes, settings, names: experts who are members, and admins."""
    principal.require(Role.EXPERT, action)
    _writable(access, action)


def archive_project(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.EXPERT, "archiving a project")


def review(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.EXPERT, "reviewing")
    _writable(access, "review items")


def assign_items(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.EXPERT, "assigning items")
    _writable(access, "assign items")


def put_model_output(principal: Principal, access: ProjectAccess) -> None:
    """Predictions and suspected errors come from inference and training jobs (expert tokens)."""
    principal.require(Role.EXPERT, "storing predictions")


def freeze_snapshot(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.EXPERT, "freezing a snapshot")
    _writable(access, "freeze a snapshot")


def import_labels(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.EXPERT, "importing labels")
    _writable(access, "import labels")


def export_labels(principal: Principal, access: ProjectAccess) -> None:
    principal.require(Role.EXPERT, "exporting labels")


def undo(principal: Principal, access: ProjectAccess, annotation: Annotation) -> None:
    """Your own annotations; experts may undo anyone's."""
    _writable(access, "undo")
    if annotation.user_id != principal.user_id and principal.role < Role.EXPERT:
        raise PermissionDenied("only experts may undo another user's annotation")


def see_other_votes(principal: Principal, access: ProjectAccess) -> bool:
    """In blind projects annotators see only their own votes (experts and admins see all)."""
    return not access.project.blind_annotation or principal.role >= Role.EXPERT


def administer(principal: Principal, action: str) -> None:
    """Users, memberships, the audit log."""
    principal.require(Role.ADMIN, action)
