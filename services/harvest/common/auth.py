"""Bearer tokens: signed by `labels`, verified locally by every service with the shared secret.

A token is a JWT (HMAC) naming the user, their global role and a token id (`jti`). Verifying needs no
network call, so a service keeps working while `labels` restarts; revocation is a separate, pluggable
check (the labels database owns the list of revoked ids).
"""

from __future__ import annotations

import contextvars
import enum
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from harvest.common.errors import PermissionDenied, Unauthenticated
from harvest.common.settings import AuthSettings

#: Subject prefix of the tokens a service mints for its own background work (a Celery poll registering a
#: model, inference scoring a pool). User ids are generated and never carry it.
SERVICE_SUBJECT_PREFIX = "service:"
#: A service token cannot be revoked (no database lists it), so it must expire soon.
MAX_SERVICE_TOKEN_TTL_S = 900


class Role(enum.IntEnum):
    """Global roles, ordered by power; values equal the `harvest.v1.Role` enum numbers."""

    ANNOTATOR = 1
    EXPERT = 2
    ADMIN = 3

    @classmethod
    def parse(cls, value: str | int) -> Role:
        if isinstance(value, int):
            return cls(value)
        name = value.strip().upper().removeprefix("ROLE_")
        try:
            return cls[name]
        except KeyError:
            choices = ", ".join(r.name.lower() for r in cls)
            raise ValueError(f"unknown role {value!r}; expected one of {choices}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: established by the auth interceptor, read by cores through `current_principal`."""

    user_id: str
    username: str
    role: Role
    token_id: str
    expires_at: float

    @property
    def is_service(self) -> bool:
        return self.user_id.startswith(SERVICE_SUBJECT_PREFIX)

    def require(self, role: Role, action: str) -> None:
        if self.role < role:
            raise PermissionDenied(
                f"{action} needs the {role.name.lower()} role; user {self.username!r} is "
                f"{self.role.name.lower()}. Ask an administrator to change the role."
            )


#: Revocation check: given a token id, True when the token was revoked.
RevocationCheck = Callable[[str], bool]
#: The same check answered without any I/O: True/False when already known, None when only a lookup can tell.
KnownRevocation = Callable[[str], bool | None]


class RevocationUnknown(Exception):
    """`verify(lookup=False)`: whether the token was revoked needs a lookup (e.g. a database query)."""


def check_still_valid(principal: Principal, is_revoked: RevocationCheck | None) -> None:
    """A long-lived call (a stream) outlives the check made when it opened: an expired or revoked token ends
    it at the next message instead of being honoured for as long as the client keeps the stream open."""
    if principal.expires_at and time.time() >= principal.expires_at:
        raise Unauthenticated("your token expired while the stream was open; sign in again and resume")
    if is_revoked is not None and not principal.is_service and is_revoked(principal.token_id):
        raise Unauthenticated("your token was revoked while the stream was open")


class TokenSigner:
    """Issues and verifies tokens with one shared secret (one instance per process).

    Verified tokens are remembered (bounded LRU, until they expire): decoding and checking the signature
    is most of the per-call cost of authentication, and clients send the same token on every call.
    Revocation is still asked on every call.
    """

    CACHE_SIZE = 4096

    def __init__(self, settings: AuthSettings, is_revoked: RevocationCheck | None = None,
                 revocation_known: KnownRevocation | None = None) -> None:
        if settings.secret is None:
            raise ValueError("no token secret: set HARVEST_AUTH_SECRET or use load_auth_settings(home)")
        self._settings = settings
        self._key = settings.secret.get_secret_value()
        self._is_revoked = is_revoked
        self._revocation_known = revocation_known
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        self._lock = threading.Lock()

    def issue(
        self,
        *,
        user_id: str,
        username: str,
        role: Role,
        ttl_s: int | None = None,
        token_id: str | None = None,
        now: float | None = None,
    ) -> tuple[str, Principal]:
        issued = time.time() if now is None else now
        expires = issued + (ttl_s if ttl_s is not None else self._settings.token_ttl_s)
        jti = token_id or uuid.uuid4().hex
        claims = {
            "iss": self._settings.issuer,
            "sub": user_id,
            "name": username,
            "role": role.name.lower(),
            "jti": jti,
            "iat": int(issued),
            "exp": int(expires),
        }
        token = jwt.encode(claims, self._key, algorithm=self._settings.algorithm)
        return token, Principal(user_id, username, role, jti, float(int(expires)))

    def verify(self, token: str, *, lookup: bool = True) -> Principal:
        """Return the principal, or raise Unauthenticated saying exactly what is wrong. With `lookup` False
        (a caller on an event loop, which must not wait for a database) RevocationUnknown when the
        revocation check would have to look it up."""
        with self._lock:
            principal = self._verified.get(token)
            if principal is not None:
                self._verified.move_to_end(token)
        if principal is None or principal.expires_at + self._settings.leeway_s <= time.time():
            principal = self._decode(token)
            with self._lock:
                self._verified[token] = principal
                if len(self._verified) > self.CACHE_SIZE:
                    self._verified.popitem(last=False)
        if self._is_revoked is not None and not principal.is_service and self._revoked(principal.token_id, lookup):
            raise Unauthenticated("token was revoked; ask for a new one")
        return principal

    def _revoked(self, token_id: str, lookup: bool) -> bool:
        if lookup:
            return self._is_revoked(token_id)  # type: ignore[misc]
        known = self._revocation_known(token_id) if self._revocation_known is not None else None
        if known is None:
            raise RevocationUnknown(token_id)
        return known

    def _decode(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._settings.algorithm],
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_s,
                options={"require": ["exp", "iat", "sub", "jti", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired; ask for a new one (harvest admin token USER)") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature is invalid: it was not issued by this deployment") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"token is malformed or incomplete ({exc})") from None
        if str(claims["sub"]).startswith(SERVICE_SUBJECT_PREFIX) and (
                int(claims["exp"]) - int(claims["iat"]) > MAX_SERVICE_TOKEN_TTL_S):
            raise Unauthenticated(f"service tokens may live at most {MAX_SERVICE_TOKEN_TTL_S} s; mint a shorter one")
        try:
            role = Role.parse(str(claims.get("role", "")))
        except ValueError as exc:
            raise Unauthenticated(f"token carries no valid role: {exc}") from None
        return Principal(str(claims["sub"]), str(claims.get("name", "")), role, str(claims["jti"]),
                         float(claims["exp"]))


class ServiceIdentity:
    """A service acting on its own behalf (no caller to forward): short-lived admin tokens for
    `service:<name>`, minted with the shared secret and reused until half their life is spent."""

    def __init__(self, signer: TokenSigner, name: str, ttl_s: int = 300) -> None:
        if not 0 < ttl_s <= MAX_SERVICE_TOKEN_TTL_S:
            raise ValueError(f"service token ttl must be 1..{MAX_SERVICE_TOKEN_TTL_S} s, got {ttl_s}")
        self._signer, self._name, self._ttl_s = signer, name, ttl_s
        self._token, self._renew_at = "", 0.0
        self._lock = threading.Lock()

    @property
    def user_id(self) -> str:
        return SERVICE_SUBJECT_PREFIX + self._name

    def token(self) -> str:
        with self._lock:
            now = time.time()
            if now >= self._renew_at:
                self._token, _ = self._signer.issue(user_id=self.user_id, username=self._name, role=Role.ADMIN,
                                                    ttl_s=self._ttl_s, now=now)
                self._renew_at = now + self._ttl_s / 2
            return self._token


def parse_bearer(value: str | None) -> str:
    """The token in an `authorization` metadata value, or Unauthenticated with what to send instead."""
    if not value:
        raise Unauthenticated("missing credentials: send metadata 'authorization: Bearer <token>'")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
    return token.strip()


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("harvest_principal", default=None)


def current_principal() -> Principal:
    """The caller of the RPC being served (set by the auth interceptor)."""
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("no authenticated caller in this context")
    return principal


def bind_principal(principal: Principal | None) -> contextvars.Token[Principal | None]:
    return _current.set(principal)


def unbind_principal(token: contextvars.Token[Principal | None]) -> None:
    _current.reset(token)


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata that forwards a caller's token to another service (acting on their behalf)."""
    return (("authorization", f"Bearer {token}"),)


def caller_token(invocation_metadata: object) -> str:
    """The bearer token of the call being served, for forwarding on the caller's behalf."""
    values = dict(invocation_metadata or ())  # type: ignore[call-overload]
    return parse_bearer(values.get("authorization"))
