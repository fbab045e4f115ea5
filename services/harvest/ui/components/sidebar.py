"""The sidebar: who is signed in, which project the pages work on, and sign-out."""

from __future__ import annotations

from typing import Any

import grpc
import streamlit as st

from harvest.ui import reads, session


def render(client: Any) -> None:
    """Project picker over ListProjects: a user only ever sees the projects they are a member of."""
    me = session.user()
    with st.sidebar:
        if me is not None:
            st.success(f"Signed in as {me.display_name or me.username} ({session.role_name(me.role)}).")
        try:
            projects = reads.projects(client)
        except grpc.RpcError as exc:
            st.error(f"Listing projects failed — {session.describe_error(exc)}")
            projects = []
        names = {p.project_id: p.name for p in projects}
        current = session.project_id()
        if current not in names:
            current = next(iter(names), None)
            session.select_project(current)
        if names:
            options = list(names)
            chosen = st.selectbox("Project", options, index=options.index(current), format_func=names.__getitem__,
                                  key=f"project_picker_{current}")
            if chosen != current:
                session.select_project(chosen)
                st.rerun()
        else:
            st.caption("No project yet.")
        if st.button("Sign out", key="sign_out"):
            session.sign_out()
            st.rerun()
