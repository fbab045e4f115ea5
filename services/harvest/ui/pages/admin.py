"""Administration: users and roles, and project memberships (admin only; the services enforce it too)."""

from __future__ import annotations

from typing import Any

import grpc
import pandas as pd
import streamlit as st

from harvest.client import paginate
from harvest.ui import reads, session
from harvest.ui.components.guard import require_client
from harvest.v1 import common_pb2, labels_pb2

ROLES = {"annotator": common_pb2.ROLE_ANNOTATOR, "expert": common_pb2.ROLE_EXPERT, "admin": common_pb2.ROLE_ADMIN}


def render() -> None:
    client = require_client()
    st.header("Administration")
    if not session.is_at_least(common_pb2.ROLE_ADMIN):
        st.info("Only administrators manage users and memberships.")
        return
    users_tab, members_tab = st.tabs(["Users", "Memberships"])
    with users_tab:
        _users(client)
    with members_tab:
        _memberships(client)


def _users(client: Any) -> None:
    try:
        users = list(paginate(client.labels.ListUsers, labels_pb2.ListUsersRequest(
            include_disabled=True, page=common_pb2.PageRequest(page_size=200)), "users", timeout=10))
    except grpc.RpcError as exc:
        st.error(f"Listing users failed — {session.describe_error(exc)}")
        return
    st.dataframe(pd.DataFrame([{"username": u.username, "name": u.display_name, "role": session.role_name(u.role),
                                "disabled": u.disabled, "password": u.has_password} for u in users]),
                 hide_index=True, width="stretch")
    with st.form("create_user", clear_on_submit=True):
        st.markdown("**New user**")
        left, middle, right = st.columns(3)
        username = left.text_input("New username")
        role = middle.selectbox("Role", list(ROLES))
        password = right.text_input("Initial password (optional)", type="password")
        if st.form_submit_button("Create user") and username:
            try:
                client.labels.CreateUser(labels_pb2.CreateUserRequest(
                    username=username.strip(), role=ROLES[role], password=password), timeout=10)
                st.session_state["flash"] = f"Created {username.strip()} ({role})."
                st.rerun()
            except grpc.RpcError as exc:
                st.error(f"Creating the user failed — {session.describe_error(exc)}")
    if users:
        with st.form("update_user"):
            st.markdown("**Change a user**")
            left, middle, right = st.columns(3)
            name = left.selectbox("User", [u.username for u in users])
            role = middle.selectbox("New role", ["(unchanged)", *ROLES])
            state = right.selectbox("Account", ["(unchanged)", "enabled", "disabled"])
            if st.form_submit_button("Apply"):
                request = labels_pb2.UpdateUserRequest(username=name)
                if role in ROLES:
                    request.role = ROLES[role]
                if state != "(unchanged)":
                    request.disabled = state == "disabled"
                try:
                    client.labels.UpdateUser(request, timeout=10)
                    st.session_state["flash"] = f"Updated {name}."
                    st.rerun()
                except grpc.RpcError as exc:
                    st.error(f"Updating failed — {session.describe_error(exc)}")


def _memberships(client: Any) -> None:
    try:
        projects = reads.projects(client)
    except grpc.RpcError as exc:
        st.error(f"Listing projects failed — {session.describe_error(exc)}")
        return
    if not projects:
        st.info("No project yet.")
        return
    names = {p.project_id: p.name for p in projects}
    project_id = st.selectbox("Project", list(names), format_func=names.__getitem__, key="members_project")
    try:
        members = list(paginate(client.labels.ListMembers, labels_pb2.ListMembersRequest(
            project_id=project_id, page=common_pb2.PageRequest(page_size=200)), "members", timeout=10))
    except grpc.RpcError as exc:
        st.error(f"Listing members failed — {session.describe_error(exc)}")
        return
    st.dataframe(pd.DataFrame([{"username": m.username, "role": session.role_name(m.role)} for m in members]),
                 hide_index=True, width="stretch")
    left, right = st.columns(2)
    username = left.text_input("Username", key="member_username")
    add, remove = right.columns(2)
    for button, verb in ((add, "Add"), (remove, "Remove")):
        if button.button(f"{verb} member", disabled=not username):
            call = client.labels.AddMember if verb == "Add" else client.labels.RemoveMember
            request_type = labels_pb2.AddMemberRequest if verb == "Add" else labels_pb2.RemoveMemberRequest
            try:
                call(request_type(project_id=project_id, username=username.strip()), timeout=10)
                st.session_state["flash"] = f"{verb} {username.strip()}: done ({names[project_id]})."
                st.rerun()
            except grpc.RpcError as exc:
                st.error(f"{verb} failed — {session.describe_error(exc)}")
