"""The labels service's user and token methods over real gRPC, on SQLite and PostgreSQL: who may do
what, login, and revocation taking effect at once."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from harvest.common.auth import Role
from harvest.v1 import common_pb2, labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration


@pytest.fixture
def labels(database_url: str) -> Iterator[LabelsUnderTest]:
    with running_labels(database_url) as under_test:
        yield under_test


def _status(call, *args) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        call(*args)
    return exc.value.code(), exc.value.details()


def test_whoami_names_the_caller_and_token(labels: LabelsUnderTest) -> None:
    with labels.client(labels.admin_token) as client:
        me = client.labels.WhoAmI(labels_pb2.WhoAmIRequest())
    assert me.user.username == "root" and me.user.role == common_pb2.ROLE_ADMIN
    assert me.token.token_id and me.token.expires_at.seconds > 0


def test_admin_creates_a_user_and_issues_their_token(labels: LabelsUnderTest) -> None:
    with labels.client(labels.admin_token) as admin:
        created = admin.labels.CreateUser(labels_pb2.CreateUserRequest(
            username="ann", role=common_pb2.ROLE_ANNOTATOR, display_name="Ann Notator"))
        issued = admin.labels.IssueUserToken(labels_pb2.IssueUserTokenRequest(username="ann", ttl_s=3600))
    assert created.user.display_name == "Ann Notator" and not created.user.has_password
    with labels.client(issued.token) as ann:
        assert ann.labels.WhoAmI(labels_pb2.WhoAmIRequest()).user.username == "ann"
        code, message = _status(ann.labels.CreateUser,
                                labels_pb2.CreateUserRequest(username="eve", role=common_pb2.ROLE_ADMIN))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "needs the admin role" in message


def test_create_user_validates_input(labels: LabelsUnderTest) -> None:
    with labels.client(labels.admin_token) as admin:
        code, message = _status(admin.labels.CreateUser, labels_pb2.CreateUserRequest(username="bob"))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "role is required" in message
        code, message = _status(admin.labels.CreateUser,
                                labels_pb2.CreateUserRequest(username="../x", role=common_pb2.ROLE_EXPERT))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "username" in message
        code, _ = _status(admin.labels.CreateUser,
                          labels_pb2.CreateUserRequest(username="root", role=common_pb2.ROLE_EXPERT))
        assert code == grpc.StatusCode.ALREADY_EXISTS


def test_login_needs_no_token_and_refuses_wrong_passwords(labels: LabelsUnderTest) -> None:
    labels.core.users.create_user("carol", Role.EXPERT, password="correct horse battery")
    with labels.client(None) as anonymous:
        response = anonymous.labels.Login(labels_pb2.LoginRequest(username="carol", password="correct horse battery"))
        assert response.user.username == "carol" and response.token
        code, message = _status(anonymous.labels.Login, labels_pb2.LoginRequest(username="carol", password="nope"))
        assert code == grpc.StatusCode.UNAUTHENTICATED and message == "unknown user or wrong password"
        code, _ = _status(anonymous.labels.Login, labels_pb2.LoginRequest(username="carol"))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        code, _ = _status(anonymous.labels.WhoAmI, labels_pb2.WhoAmIRequest())
        assert code == grpc.StatusCode.UNAUTHENTICATED


def test_revoked_token_is_refused_on_the_next_call(labels: LabelsUnderTest) -> None:
    with labels.client(labels.admin_token) as admin:
        token = admin.labels.IssueToken(labels_pb2.IssueTokenRequest(ttl_s=600, description="script")).token
    with labels.client(token) as script:
        script.labels.WhoAmI(labels_pb2.WhoAmIRequest())
        script.labels.RevokeToken(labels_pb2.RevokeTokenRequest(current=True))
        code, message = _status(script.labels.WhoAmI, labels_pb2.WhoAmIRequest())
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in message


def test_user_cannot_revoke_someone_elses_token(labels: LabelsUnderTest) -> None:
    labels.core.users.create_user("dave", Role.ANNOTATOR)
    dave_token, _ = labels.core.users.issue_token("dave")
    with labels.client(labels.admin_token) as admin:
        admin_token_id = admin.labels.WhoAmI(labels_pb2.WhoAmIRequest()).token.token_id
    with labels.client(dave_token) as dave:
        code, _ = _status(dave.labels.RevokeToken, labels_pb2.RevokeTokenRequest(token_id=admin_token_id))
        assert code == grpc.StatusCode.NOT_FOUND
        code, message = _status(dave.labels.RevokeToken, labels_pb2.RevokeTokenRequest())
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "exactly one" in message


def test_admin_revokes_another_users_token(labels: LabelsUnderTest) -> None:
    labels.core.users.create_user("erin", Role.EXPERT)
    erin_token, principal = labels.core.users.issue_token("erin")
    with labels.client(labels.admin_token) as admin:
        revoked = admin.labels.RevokeUserToken(labels_pb2.RevokeUserTokenRequest(token_id=principal.token_id))
    assert revoked.info.username == "erin" and revoked.info.revoked_at.seconds > 0
    with labels.client(erin_token) as erin:
        code, _ = _status(erin.labels.WhoAmI, labels_pb2.WhoAmIRequest())
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_token_lifetime_is_validated(labels: LabelsUnderTest) -> None:
    with labels.client(labels.admin_token) as admin:
        code, message = _status(admin.labels.IssueToken, labels_pb2.IssueTokenRequest(ttl_s=5))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "lifetime" in message
