"""Tokens: issued and verified with the shared secret; every kind of bad token is refused clearly."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import SecretStr

from harvest.common.auth import MAX_SERVICE_TOKEN_TTL_S, Role, ServiceIdentity, TokenSigner, parse_bearer
from harvest.common.errors import PermissionDenied, Unauthenticated
from harvest.common.settings import AuthSettings

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-0123456789-abcdefghij"


def signer(secret: str = SECRET, **kwargs: object) -> TokenSigner:
    return TokenSigner(AuthSettings(secret=SecretStr(secret), leeway_s=0), **kwargs)  # type: ignore[arg-type]


def test_issued_token_verifies_to_the_same_principal() -> None:
    token, issued = signer().issue(user_id="u1", username="ada", role=Role.EXPERT, ttl_s=60)
    principal = signer().verify(token)
    assert principal == issued
    assert principal.role is Role.EXPERT and principal.username == "ada"


def test_expired_token_is_refused() -> None:
    token, _ = signer().issue(user_id="u1", username="ada", role=Role.ADMIN, ttl_s=10, now=time.time() - 60)
    with pytest.raises(Unauthenticated, match="expired"):
        signer().verify(token)


def test_token_signed_with_another_secret_is_refused() -> None:
    token, _ = signer("another-secret-abcdefghijkl-0123456789").issue(user_id="u", username="eve", role=Role.ADMIN)
    with pytest.raises(Unauthenticated, match="signature"):
        signer().verify(token)


def test_token_with_unsigned_algorithm_is_refused() -> None:
    forged = jwt.encode({"sub": "u", "role": "admin", "jti": "j", "iss": "harvest", "iat": 0,
                         "exp": int(time.time()) + 60}, key=None, algorithm="none")
    with pytest.raises(Unauthenticated):
        signer().verify(forged)


def test_token_with_unknown_role_is_refused() -> None:
    claims = {"sub": "u", "role": "superuser", "jti": "j", "iss": "harvest", "iat": int(time.time()),
              "exp": int(time.time()) + 60}
    with pytest.raises(Unauthenticated, match="role"):
        signer().verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_garbage_token_is_refused() -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        signer().verify("not-a-token")


def test_revoked_token_is_refused() -> None:
    revoked: set[str] = set()
    check = signer(is_revoked=revoked.__contains__)
    token, principal = check.issue(user_id="u", username="ada", role=Role.ANNOTATOR)
    assert check.verify(token).token_id == principal.token_id
    revoked.add(principal.token_id)
    with pytest.raises(Unauthenticated, match="revoked"):
        check.verify(token)


@pytest.mark.parametrize("value", [None, "", "Basic abc", "Bearer", "Bearer   "])
def test_bad_authorization_metadata_says_what_to_send(value: str | None) -> None:
    with pytest.raises(Unauthenticated, match="Bearer"):
        parse_bearer(value)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert parse_bearer("bearer abc.def") == "abc.def"


def test_roles_are_ordered_and_parse_from_names() -> None:
    assert Role.ANNOTATOR < Role.EXPERT < Role.ADMIN
    assert Role.parse("Expert") is Role.EXPERT and Role.parse("ROLE_ADMIN") is Role.ADMIN
    with pytest.raises(ValueError, match="annotator, expert, admin"):
        Role.parse("owner")


def test_principal_require_names_the_missing_role() -> None:
    _, principal = signer().issue(user_id="u", username="ann", role=Role.ANNOTATOR)
    principal.require(Role.ANNOTATOR, "LabelsService.GetItem")
    with pytest.raises(PermissionDenied, match="needs the admin role; user 'ann' is annotator"):
        principal.require(Role.ADMIN, "LabelsService.CreateUser")


def test_signer_without_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="HARVEST_AUTH_SECRET"):
        TokenSigner(AuthSettings(secret=None))


def test_service_token_is_admin_and_skips_the_user_revocation_list() -> None:
    asked: list[str] = []

    def is_revoked(token_id: str) -> bool:  # labels' check: unknown ids count as revoked
        asked.append(token_id)
        return True

    identity = ServiceIdentity(signer(), "scheduler", ttl_s=60)
    principal = signer(is_revoked=is_revoked).verify(identity.token())
    assert principal.is_service and principal.role is Role.ADMIN and principal.user_id == "service:scheduler"
    assert asked == []
    user_token, _ = signer().issue(user_id="u1", username="ada", role=Role.ADMIN, ttl_s=60)
    with pytest.raises(Unauthenticated, match="revoked"):
        signer(is_revoked=is_revoked).verify(user_token)


def test_long_lived_service_token_is_refused() -> None:
    token, _ = signer().issue(user_id="service:rogue", username="rogue", role=Role.ADMIN,
                              ttl_s=MAX_SERVICE_TOKEN_TTL_S + 1)
    with pytest.raises(Unauthenticated, match="at most"):
        signer().verify(token)
    with pytest.raises(ValueError, match="ttl"):
        ServiceIdentity(signer(), "scheduler", ttl_s=MAX_SERVICE_TOKEN_TTL_S + 1)


def test_service_identity_reuses_its_token_until_half_its_life() -> None:
    identity = ServiceIdentity(signer(), "inference", ttl_s=600)
    assert identity.token() == identity.token()
