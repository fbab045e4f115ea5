"""Users and tokens on SQLite and on a real PostgreSQL: schema migrated by Alembic, tokens recorded
and revocable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from pydantic import SecretStr
from sqlalchemy import inspect, text

from harvest.common.auth import Role, TokenSigner
from harvest.common.errors import AlreadyExists, InvalidArgument, Unauthenticated
from harvest.common.settings import AuthSettings
from harvest.labels.db import MIGRATIONS, make_engine, migrate, session_factory
from harvest.labels.users import UserDirectory

pytestmark = pytest.mark.integration


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(AuthSettings(secret=SecretStr("integration-secret-" + "x" * 20)))


@pytest.fixture
def directory(database_url: str, signer: TokenSigner) -> Iterator[UserDirectory]:
    migrate(database_url)
    engine = make_engine(database_url)
    yield UserDirectory(session_factory(engine), signer)
    engine.dispose()


def test_migration_creates_the_schema_and_is_idempotent(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"users", "api_tokens", "alembic_version"} <= tables
        with engine.connect() as conn:
            head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    finally:
        engine.dispose()


def test_created_user_gets_a_token_that_verifies(directory: UserDirectory, signer: TokenSigner) -> None:
    directory.create_user("ada", Role.EXPERT)
    token, principal = directory.issue_token("ada", ttl_s=600)
    verified = signer.verify(token)
    assert verified.username == "ada" and verified.role is Role.EXPERT
    assert not directory.is_revoked(principal.token_id)


def test_duplicate_username_is_already_exists(directory: UserDirectory) -> None:
    directory.create_user("ada", Role.ANNOTATOR)
    with pytest.raises(AlreadyExists, match="'ada' already exists"):
        directory.create_user("ada", Role.ADMIN)


@pytest.mark.parametrize("name", ["", "A", "Ada", "../etc", "a b", "x" * 65])
def test_bad_usernames_are_refused(directory: UserDirectory, name: str) -> None:
    with pytest.raises(InvalidArgument, match="username"):
        directory.create_user(name, Role.ANNOTATOR)


def test_revoked_token_is_reported_revoked(directory: UserDirectory) -> None:
    directory.create_user("bob", Role.ANNOTATOR)
    _, principal = directory.issue_token("bob")
    directory.revoke_token(principal.token_id)
    assert directory.is_revoked(principal.token_id)
    assert directory.is_revoked("never-issued")


def test_login_exchanges_password_for_token(directory: UserDirectory) -> None:
    directory.create_user("carol", Role.ANNOTATOR, password="correct horse")
    _, principal = directory.login("carol", "correct horse")
    assert principal.username == "carol"
    with pytest.raises(Unauthenticated, match="unknown user or wrong password"):
        directory.login("carol", "wrong password")
    with pytest.raises(Unauthenticated, match="unknown user or wrong password"):
        directory.login("nobody", "correct horse")
