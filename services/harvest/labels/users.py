"""Users and API tokens: the core behind `harvest admin` and the labels service's user methods.

Tokens are signed with the shared secret (so every service verifies them offline) and recorded by id
here, which is what lets an administrator revoke one before it expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from harvest.common.auth import Principal, Role, TokenSigner
from harvest.common.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated
from harvest.labels.models import ApiToken, User

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
    """Creates users, issues and revokes their tokens."""

    def __init__(self, sessions: sessionmaker[Session], signer: TokenSigner) -> None:
        self._sessions = sessions
        self._signer = signer

    def create_user(self, username: str, role: Role, password: str | None = None, display_name: str = "") -> User:
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

    def issue_token(self, username: str, *, ttl_s: int | None = None, description: str = "") -> tuple[str, Principal]:
        if ttl_s is not None and not 60 <= ttl_s <= MAX_TOKEN_TTL_S:
            raise InvalidArgument(f"token lifetime must be between 60 s and {MAX_TOKEN_TTL_S // 86400} days")
        if len(description) > 255:
            raise InvalidArgument("token description is longer than 255 characters")
        user = self.get_user(username)
        if user.disabled:
            raise InvalidArgument(f"user {username!r} is disabled")
        token, principal = self._signer.issue(user_id=user.id, username=user.username, role=Role.parse(user.role),
                                              ttl_s=ttl_s)
        with self._sessions.begin() as session:
            session.add(ApiToken(id=principal.token_id, user_id=user.id, description=description,
                                 expires_at=dt.datetime.fromtimestamp(principal.expires_at, dt.UTC)))
        return token, principal

    def login(self, username: str, password: str, ttl_s: int | None = None) -> tuple[str, Principal]:
        """Exchange a password for a token; the error never says which half was wrong."""
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or user.disabled or not check_password(password, user.password_hash):
            raise Unauthenticated("unknown user or wrong password")
        return self.issue_token(username, ttl_s=ttl_s, description="login")

    def revoke_token(self, token_id: str, owner_id: str | None = None) -> ApiToken:
        """Revoke a token (idempotent). With `owner_id`, only that user's own tokens are found, so nobody
        learns whether someone else's token id exists."""
        with self._sessions.begin() as session:
            token = session.get(ApiToken, token_id)
            if token is None or (owner_id is not None and token.user_id != owner_id):
                raise NotFound(f"no token with id {token_id!r}")
            if token.revoked_at is None:
                token.revoked_at = dt.datetime.now(dt.UTC)
        return token

    def is_revoked(self, token_id: str) -> bool:
        """True for revoked tokens and for ids this database never issued."""
        with self._sessions() as session:
            token = session.get(ApiToken, token_id)
        return token is None or token.revoked_at is not None
