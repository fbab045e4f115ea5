"""gRPC layer of the labels service: validates and translates messages over the core, nothing else.

Users and tokens are served now; the rest of the contract (projects, items, annotations, queue, …)
answers UNIMPLEMENTED until the labels issue builds it.
"""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from harvest.common.auth import Role, current_principal
from harvest.common.errors import InvalidArgument
from harvest.common.server import Register, registrar
from harvest.labels.models import ApiToken, User
from harvest.labels.users import UserDirectory
from harvest.v1 import labels_pb2, labels_pb2_grpc


def _timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return stamp


def user_message(user: User) -> labels_pb2.User:
    return labels_pb2.User(user_id=user.id, username=user.username, display_name=user.display_name,
                           role=int(Role.parse(user.role)), disabled=user.disabled,
                           has_password=user.password_hash is not None, created_at=_timestamp(user.created_at))


def token_message(token: ApiToken, user: User) -> labels_pb2.TokenInfo:
    return labels_pb2.TokenInfo(token_id=token.id, user_id=user.id, username=user.username,
                                description=token.description, created_at=_timestamp(token.created_at),
                                expires_at=_timestamp(token.expires_at), revoked_at=_timestamp(token.revoked_at))


def _ttl(value: int) -> int | None:
    """0 means the deployment's default lifetime."""
    return None if value == 0 else value


class LabelsServicer(labels_pb2_grpc.LabelsServiceServicer):
    """The labels service's RPCs over its core."""

    def __init__(self, users: UserDirectory) -> None:
        self._users = users

    def WhoAmI(self, request: labels_pb2.WhoAmIRequest, context: grpc.ServicerContext) -> labels_pb2.WhoAmIResponse:
        principal = current_principal()
        user = self._users.get_user_by_id(principal.user_id)
        token = self._users.token_record(principal.token_id)
        return labels_pb2.WhoAmIResponse(user=user_message(user), token=token_message(token, user))

    def Login(self, request: labels_pb2.LoginRequest, context: grpc.ServicerContext) -> labels_pb2.LoginResponse:
        if not request.username or not request.password:
            raise InvalidArgument("username and password are both required")
        token, principal = self._users.login(request.username, request.password, ttl_s=_ttl(request.ttl_s))
        user = self._users.get_user_by_id(principal.user_id)
        record = self._users.token_record(principal.token_id)
        return labels_pb2.LoginResponse(token=token, info=token_message(record, user), user=user_message(user))

    def IssueToken(self, request: labels_pb2.IssueTokenRequest,
                   context: grpc.ServicerContext) -> labels_pb2.IssueTokenResponse:
        return self._issue(current_principal().username, request.ttl_s, request.description,
                           labels_pb2.IssueTokenResponse)

    def IssueUserToken(self, request: labels_pb2.IssueUserTokenRequest,
                       context: grpc.ServicerContext) -> labels_pb2.IssueUserTokenResponse:
        if not request.username:
            raise InvalidArgument("username is required")
        return self._issue(request.username, request.ttl_s, request.description, labels_pb2.IssueUserTokenResponse)

    def _issue(self, username: str, ttl_s: int, description: str, response_type: type) -> object:
        token, principal = self._users.issue_token(username, ttl_s=_ttl(ttl_s), description=description)
        user = self._users.get_user_by_id(principal.user_id)
        return response_type(token=token, info=token_message(self._users.token_record(principal.token_id), user))

    def RevokeToken(self, request: labels_pb2.RevokeTokenRequest,
                    context: grpc.ServicerContext) -> labels_pb2.RevokeTokenResponse:
        principal = current_principal()
        if request.current == bool(request.token_id):
            raise InvalidArgument("set exactly one of token_id or current")
        token_id = principal.token_id if request.current else request.token_id
        record = self._users.revoke_token(token_id, owner_id=principal.user_id)
        user = self._users.get_user_by_id(principal.user_id)
        return labels_pb2.RevokeTokenResponse(info=token_message(record, user))

    def RevokeUserToken(self, request: labels_pb2.RevokeUserTokenRequest,
                        context: grpc.ServicerContext) -> labels_pb2.RevokeUserTokenResponse:
        if not request.token_id:
            raise InvalidArgument("token_id is required")
        record = self._users.revoke_token(request.token_id)
        user = self._users.get_user_by_id(record.user_id)
        return labels_pb2.RevokeUserTokenResponse(info=token_message(record, user))

    def CreateUser(self, request: labels_pb2.CreateUserRequest,
                   context: grpc.ServicerContext) -> labels_pb2.CreateUserResponse:
        if request.role == 0:
            raise InvalidArgument("role is required: ROLE_ANNOTATOR, ROLE_EXPERT or ROLE_ADMIN")
        user = self._users.create_user(request.username, Role(request.role), request.password or None,
                                       request.display_name)
        return labels_pb2.CreateUserResponse(user=user_message(user))


def register_labels(users: UserDirectory) -> Register:
    return registrar(labels_pb2_grpc, "LabelsService", LabelsServicer(users))
