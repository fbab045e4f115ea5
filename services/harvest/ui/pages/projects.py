"""Projects: the user's projects (ListProjects shows only their memberships) and creating one with classes."""

from __future__ import annotations

import grpc
import pandas as pd
import streamlit as st

from harvest.ui import reads, session
from harvest.ui.classes import parse_class_lines
from harvest.ui.components.guard import require_client
from harvest.v1 import common_pb2, labels_pb2

CLASS_HELP = "One class per line: `name [#RRGGBB] [key]`, e.g. `cat #ff8800 1`. Missing keys get the next digit."


def render() -> None:
    client = require_client()
    st.header("Projects")
    try:
        projects = reads.projects(client)
    except grpc.RpcError as exc:
        st.error(f"Listing projects failed — {session.describe_error(exc)}")
        projects = []
    if projects:
        st.dataframe(pd.DataFrame([_row(p) for p in projects]), hide_index=True, use_container_width=True)
    else:
        st.info("You are not a member of any project yet.")
    if session.is_at_least(common_pb2.ROLE_EXPERT):
        _create_form(client)


def _row(project: labels_pb2.Project) -> dict[str, object]:
    classes = reads.active_classes(project)
    return {"name": project.name, "classes": ", ".join(f"{c.name} [{c.shortcut}]" if c.shortcut else c.name
                                                       for c in classes),
            "annotations per item": project.settings.required_annotations or 1,
            "archived": project.archived, "id": project.project_id}


def _create_form(client: object) -> None:
    st.subheader("New project")
    with st.form("create_project", clear_on_submit=False):
        name = st.text_input("Project name")
        description = st.text_input("Description")
        lines = st.text_area("Classes", help=CLASS_HELP, placeholder="cat #ff8800 1\ndog #0088ff 2")
        required = st.number_input("Annotations per image", min_value=1, max_value=10, value=1,
                                   help="More than 1 turns on multi-annotator voting and review.")
        submitted = st.form_submit_button("Create project")
    if not submitted:
        return
    try:
        classes = parse_class_lines(lines)
    except ValueError as exc:
        st.error(f"Classes: {exc}")
        return
    if not name.strip():
        st.error("Give the project a name.")
        return
    request = labels_pb2.CreateProjectRequest(
        name=name.strip(), description=description, classes=[c.to_proto() for c in classes],
        settings=labels_pb2.ProjectSettings(required_annotations=int(required)))
    try:
        created = client.labels.CreateProject(request, timeout=10).project  # type: ignore[attr-defined]
    except grpc.RpcError as exc:
        st.error(f"Creating the project failed — {session.describe_error(exc)}")
        return
    session.select_project(created.project_id)
    st.session_state["flash"] = f"Created project {created.name} with {len(created.classes)} classes."
    st.rerun()
