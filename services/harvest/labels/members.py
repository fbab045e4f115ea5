"""Project membership: who may see a project (administrators manage it; admins see every project)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import NotFound
from harvest.labels import audit, policies
from harvest.labels.db import Database
from harvest.labels.models import Lease, Membership, User
from harvest.labels.paging import after_key, page_request


@dataclass(frozen=True, slots=True)
class MemberView:
    membership: Membership
    user: User


def user_named(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


class Members:
    """AddMember, RemoveMember, ListMembers."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, principal: Principal, project_id: str, username: str) -> MemberView:
        policies.administer(principal, "adding members")
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            user = user_named(session, username)
            membership = session.get(Membership, (project_id, user.id))
            if membership is None:
                membership = Membership(project_id=project_id, user_id=user.id, added_by=principal.user_id)
                session.add(membership)
                audit.record(session, principal, "AddMember", "membership", user.id, project_id=access.project_id,
                             username=username)
        return MemberView(membership, user)

    def remove(self, principal: Principal, project_id: str, username: str) -> bool:
        """Annotations stay; the user's leases in the project are released."""
        policies.administer(principal, "removing members")
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            user = user_named(session, username)
            removed = session.execute(delete(Membership).where(Membership.project_id == project_id,
                                                               Membership.user_id == user.id)).rowcount
            if removed:
                session.execute(delete(Lease).where(Lease.project_id == project_id, Lease.user_id == user.id))
                audit.record(session, principal, "RemoveMember", "membership", user.id,
                             project_id=access.project_id, username=username)
        return bool(removed)

    def list(self, principal: Principal, project_id: str, page_size: int,
             page_token: str) -> tuple[list[MemberView], str, int]:
        page = page_request(page_size, page_token, "members", project_id)
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            base = select(Membership, User).join(User, User.id == Membership.user_id).where(
                Membership.project_id == project_id)
            total = session.scalar(select(func.count()).select_from(Membership).where(
                Membership.project_id == project_id)) or 0
            if page.after is not None:
                base = base.where(after_key([(User.username, False)], page.after))
            rows = list(session.execute(base.order_by(User.username).limit(page.size + 1)).all())
        views = [MemberView(m, u) for m, u in rows[:page.size]]
        return views, page.next_token(rows, lambda r: (r[1].username,)), total
