"""Users and API tokens: the core behind `harvest admin` and the labels service's user methods.

Tokens are signed with the shared secret (so every service verifies them offline) and recorded by id
here, which is what lets an administrator revoke one before it expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import os
import re
import threading
import time
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from harvest.common.auth import Principal, Role, TokenSigner
from harvest.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from harvest.common.settings import AuthSettings
from harvest.labels import audit
from harvest.labels.models import ApiToken, Membership, User
from harvest.labels.paging import after_key, page_request

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_TOKEN_TTL_S = 2 * 365 * 24 * 3600
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


class UserDirectory:
    """Creates users, issues and revokes their tokens.

    `is_revoked` runs on every authenticated call, so its answers are remembered: "revoked" for good (a
    revocation is final), "not revoked" for `revocation_cache_s`. A revocation made through this directory
    takes effect on the very next call; one made by another labels process within that many seconds.
    """

    def __init__(self, sessions: sessionmaker[Session], signer: TokenSigner,
                 revocation_cache_s: float = 1.0) -> None:
        self._sessions = sessions
        self._signer = signer
        self._cache_s = revocation_cache_s
        self._checked: dict[str, float] = {}
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def create_user(self, username: str, role: Role, password: str | None = None, display_name: str = "",
                    actor: Principal | None = None) -> User:
        if not USERNAME_PATTERN.match(username):
            raise InvalidArgument(
                f"username {username!r} is not allowed: use 2-64 lowercase letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if password is not None and len(password) < 8:
            raise InvalidArgument("password must have at least 8 characters")
        if len(display_name) > 128:
            raise InvalidArgument("display_name is longer than 128 characters")
        user = User(username=username, role=role.name.lower(), display_name=display_name,
                    password_hash=hash_password(password) if password else None)
        with self._sessions.begin() as session:
            session.add(user)
            try:
                session.flush()
            except IntegrityError:
                raise AlreadyExists(f"user {username!r} already exists") from None
            if actor is not None:
                audit.record(session, actor, "CreateUser", "user", user.id, username=username, role=user.role)
        return user

    def get_user(self, username: str) -> User:
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise NotFound(f"no user named {username!r}")
        return user

    def get_user_by_id(self, user_id: str) -> User:
        with self._sessions() as session:
            user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user with id {user_id!r}")
        return user

    def token_record(self, token_id: str) -> ApiToken:
        with self._sessions() as session:
            token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"no token with id {token_id!r}")
        return token

    def count_users(self, role: Role | None = None) -> int:
        with self._sessions() as session:
            query = select(User.id)
            if role is not None:
                query = query.where(User.role == role.name.lower())
            return len(session.scalars(query).all())

    def issue_token(self, username: str, *, ttl_s: int | None = None, description: str = "",
                    actor: Principal | None = None) -> tuple[str, Principal]:
        if ttl_s is not None and not 60 <= ttl_s <= MAX_TOKEN_TTL_S:
            raise InvalidArgument(f"token lifetime must be between 60 s and {MAX_TOKEN_TTL_S // 86400} days")
        if len(description) > 255:
            raise InvalidArgument("token description is longer than 255 characters")
        user = self.get_user(username)
        if user.disabled:
            raise FailedPrecondition(f"user {username!r} is disabled")
        token, principal = self._signer.issue(user_id=user.id, username=user.username, role=Role.parse(user.role),
                                              ttl_s=ttl_s)
        with self._sessions.begin() as session:
            session.add(ApiToken(id=principal.token_id, user_id=user.id, description=description,
                                 expires_at=dt.datetime.fromtimestamp(principal.expires_at, dt.UTC)))
            if actor is not None and actor.user_id != user.id:
                audit.record(session, actor, "IssueUserToken", "token", principal.token_id, username=username,
                             ttl_s=int(principal.expires_at - dt.datetime.now(dt.UTC).timestamp()))
        return token, principal

    def login(self, username: str, password: str, ttl_s: int | None = None) -> tuple[str, Principal]:
        """Exchange a password for a token; the error never says which half was wrong."""
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or user.disabled or not check_password(password, user.password_hash):
            raise Unauthenticated("unknown user or wrong password")
        return self.issue_token(username, ttl_s=ttl_s, description="login")

    def revoke_token(self, token_id: str, owner_id: str | None = None, actor: Principal | None = None) -> ApiToken:
        """Revoke a token (idempotent). With `owner_id`, only that user's own tokens are found, so nobody
        learns whether someone else's token id exists."""
        with self._sessions.begin() as session:
            token = session.get(ApiToken, token_id)
            if token is None or (owner_id is not None and token.user_id != owner_id):
                raise NotFound(f"no token with id {token_id!r}")
            if token.revoked_at is None:
                token.revoked_at = dt.datetime.now(dt.UTC)
                self._forget([token_id])
                if actor is not None and owner_id is None:
                    audit.record(session, actor, "RevokeUserToken", "token", token_id, user_id=token.user_id)
        return token

    def verifier(self, auth: AuthSettings) -> TokenSigner:
        """The signer a server verifies callers with: this directory's revocations, answered from its cache
        on the event loop and by a query elsewhere."""
        return TokenSigner(auth, is_revoked=self.is_revoked, revocation_known=self.revocation_known)

    def revocation_known(self, token_id: str) -> bool | None:
        """`is_revoked` from what this process already knows (no query): None when only the database can tell."""
        with self._lock:
            if token_id in self._revoked:
                return True
            if time.monotonic() - self._checked.get(token_id, -math.inf) < self._cache_s:
                return False
        return None

    def is_revoked(self, token_id: str) -> bool:
        """True for revoked tokens and for ids this database never issued."""
        known = self.revocation_known(token_id)
        if known is not None:
            return known
        now = time.monotonic()
        with self._sessions() as session:
            revoked = session.execute(select(ApiToken.revoked_at).where(ApiToken.id == token_id)).first()
        with self._lock:
            if revoked is None or revoked[0] is not None:
                self._revoked.add(token_id)
                self._checked.pop(token_id, None)
                return True
            if len(self._checked) > 100_000:
                self._checked.clear()
            self._checked[token_id] = now
        return False

    def _forget(self, token_ids: Iterable[str]) -> None:
        """Revocations made here take effect at once in this process."""
        with self._lock:
            for token_id in token_ids:
                self._checked.pop(token_id, None)
                self._revoked.add(token_id)

    def list_users(self, role: Role | None, include_disabled: bool, page_size: int,
                   page_token: str) -> tuple[list[User], str, int]:
        page = page_request(page_size, page_token, "users", role, include_disabled)
        conditions = []
        if role is not None:
            conditions.append(User.role == role.name.lower())
        if not include_disabled:
            conditions.append(User.disabled.is_(False))
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
            statement = select(User).where(*conditions)
            if page.after is not None:
                statement = statement.where(after_key([(User.username, False)], page.after))
            rows = list(session.scalars(statement.order_by(User.username).limit(page.size + 1)))
        return rows[:page.size], page.next_token(rows, lambda u: (u.username,)), total

    def update_user(self, actor: Principal, username: str, *, role: Role | None = None, disabled: bool | None = None,
                    display_name: str | None = None, password: str | None = None,
                    revoke_tokens: bool = False) -> tuple[User, int]:
        """Change only what is given; disabling (or revoke_tokens) revokes every token of the user."""
        if all(v is None for v in (role, disabled, display_name, password)) and not revoke_tokens:
            raise InvalidArgument("nothing to change: set role, disabled, display_name, password or revoke_tokens")
        if password and len(password) < 8:
            raise InvalidArgument("password must have at least 8 characters")
        if display_name is not None and len(display_name) > 128:
            raise InvalidArgument("display_name is longer than 128 characters")
        with self._sessions.begin() as session:
            user = session.scalars(select(User).where(User.username == username).with_for_update()).one_or_none()
            if user is None:
                raise NotFound(f"no user named {username!r}")
            changed: dict[str, object] = {}
            if role is not None and role.name.lower() != user.role:
                user.role = changed["role"] = role.name.lower()
            if disabled is not None and disabled != user.disabled:
                user.disabled = changed["disabled"] = disabled
            if display_name is not None:
                user.display_name = changed["display_name"] = display_name
            if password is not None:
                user.password_hash = hash_password(password) if password else None
                changed["password"] = "changed" if password else "removed"
            if user.role != "admin" or user.disabled:
                admins = session.scalar(select(func.count()).select_from(User).where(
                    User.role == "admin", User.disabled.is_(False), User.id != user.id)) or 0
                if admins == 0:
                    raise FailedPrecondition("this change would leave no enabled administrator")
            revoked = 0
            if revoke_tokens or user.disabled:
                ids = list(session.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id,
                                                                     ApiToken.revoked_at.is_(None))))
                session.execute(update(ApiToken).where(ApiToken.id.in_(ids))
                                .values(revoked_at=dt.datetime.now(dt.UTC)))
                self._forget(ids)
                revoked = changed["revoked_tokens"] = len(ids)
            audit.record(session, actor, "UpdateUser", "user", user.id, username=username, **changed)
        return user, revoked

    def change_password(self, principal: Principal, current: str, new: str) -> None:
        if len(new) < 8:
            raise InvalidArgument("new password must have at least 8 characters")
        with self._sessions.begin() as session:
            user = session.get(User, principal.user_id)
            if user is None:
                raise NotFound("your user record no longer exists")
            if user.password_hash is not None and not check_password(current, user.password_hash):
                raise PermissionDenied("current password is wrong")
            user.password_hash = hash_password(new)

    def list_tokens(self, user_id: str | None, include_inactive: bool, page_size: int,
                    page_token: str) -> tuple[list[tuple[ApiToken, User]], str, int]:
        """Tokens newest first: one user's (user_id) or everyone's (None)."""
        page = page_request(page_size, page_token, "tokens", user_id, include_inactive)
        conditions = []
        if user_id is not None:
            conditions.append(ApiToken.user_id == user_id)
        if not include_inactive:
            conditions += [ApiToken.revoked_at.is_(None), ApiToken.expires_at > dt.datetime.now(dt.UTC)]
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(ApiToken).where(*conditions)) or 0
            statement = select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(*conditions)
            order = [(ApiToken.created_at, True), (ApiToken.id, True)]
            if page.after is not None:
                statement = statement.where(after_key(order, [dt.datetime.fromisoformat(page.after[0]),
                                                              page.after[1]]))
            rows = list(session.execute(statement.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
                                        .limit(page.size + 1)).all())
        return rows[:page.size], page.next_token(rows, lambda r: (r[0].created_at.isoformat(), r[0].id)), total

    def project_ids(self, user_id: str) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(Membership.project_id).where(Membership.user_id == user_id)))
