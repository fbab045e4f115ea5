"""Turning service refusals into messages, and stopping a page that lacks a client or a project."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import streamlit as st

from harvest.ui import session
from harvest.v1 import labels_pb2


@contextmanager
def reported(action: str) -> Iterator[None]:
    """Shows `<action> failed — CODE: message` instead of a traceback: the message says what to fix."""
    try:
        yield
    except grpc.RpcError as exc:
        st.error(f"{action} failed — {session.describe_error(exc)}")


def require_client() -> Any:
    client = session.client()
    if client is None:
        st.info("Sign in first.")
        st.stop()
    return client


def require_project(client: Any) -> labels_pb2.Project:
    """The selected project (fresh from GetProject), or stop the page with a hint to pick one."""
    project_id = session.project_id()
    if not project_id:
        st.info("Choose a project in the sidebar, or create one on the Projects page.")
        st.stop()
    try:
        return client.labels.GetProject(labels_pb2.GetProjectRequest(project_id=project_id), timeout=10).project
    except grpc.RpcError as exc:
        st.error(f"Opening the project failed — {session.describe_error(exc)}")
        session.select_project(None)
        st.stop()
    raise AssertionError("unreachable")
