"""The signed-in user's state, kept in `st.session_state` so every page reads one place.

Only the token and a `HarvestClient` built from it live here (never a password): a browser reload
keeps the Streamlit session, and signing out drops both. Tests put a fake client under `CLIENT_KEY`;
pages never construct clients themselves, which is what lets AppTest drive them without servers.
"""

from __future__ import annotations

from typing import Any

import grpc
import streamlit as st

from harvest.client import HarvestClient
from harvest.v1 import common_pb2, labels_pb2

TOKEN_KEY = "harvest_token"
CLIENT_KEY = "harvest_client"
USER_KEY = "harvest_user"
PROJECT_KEY = "harvest_project_id"


def client() -> Any:
    """The signed-in user's client, or None; built lazily from the token so a fake can replace it."""
    existing = st.session_state.get(CLIENT_KEY)
    if existing is not None:
        return existing
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    st.session_state[CLIENT_KEY] = HarvestClient(token=token)
    return st.session_state[CLIENT_KEY]


def sign_in(token: str, *, factory: Any = HarvestClient) -> labels_pb2.User:
    """Checks the token with WhoAmI and keeps it; raises grpc.RpcError when the services refuse it."""
    candidate = factory(token=token)
    reply = candidate.labels.WhoAmI(labels_pb2.WhoAmIRequest(), timeout=5)
    sign_out()
    st.session_state[TOKEN_KEY] = token
    st.session_state[CLIENT_KEY] = candidate
    st.session_state[USER_KEY] = reply.user
    return reply.user


def login(username: str, password: str, *, factory: Any = HarvestClient) -> labels_pb2.User:
    """Exchanges a username and password for a token (Login), then signs in with it."""
    anonymous = factory()
    try:
        reply = anonymous.labels.Login(labels_pb2.LoginRequest(username=username, password=password), timeout=5)
    finally:
        close = getattr(anonymous, "close", None)
        if close is not None:
            close()
    return sign_in(reply.token, factory=factory)


def sign_out() -> None:
    """Forgets the token, the client and the selected project (closing the client's channels)."""
    old = st.session_state.pop(CLIENT_KEY, None)
    close = getattr(old, "close", None)
    if close is not None:
        close()
    for key in (TOKEN_KEY, USER_KEY, PROJECT_KEY):
        st.session_state.pop(key, None)


def user() -> labels_pb2.User | None:
    """The signed-in user record (from WhoAmI at sign-in), or None."""
    return st.session_state.get(USER_KEY)


def role_name(role: int) -> str:
    """`ROLE_EXPERT` → `expert`, the word shown to people."""
    return common_pb2.Role.Name(role).removeprefix("ROLE_").lower()


def is_at_least(role: int) -> bool:
    """Whether the signed-in user's role is at least `role` (hides buttons that would be refused)."""
    current = user()
    return current is not None and int(current.role) >= int(role)


def project_id() -> str | None:
    """The project chosen in the sidebar, or None."""
    return st.session_state.get(PROJECT_KEY) or None


def select_project(project: str | None) -> None:
    st.session_state[PROJECT_KEY] = project


def describe_error(exc: grpc.RpcError) -> str:
    """`PERMISSION_DENIED: not a member of …`: the code name and the service's message (what to fix)."""
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    return f"{code.name if code is not None else 'ERROR'}: {details}"
