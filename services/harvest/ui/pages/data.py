"""Data: upload images, archives or ImageFolder trees with a per-file result table, and project statistics."""

from __future__ import annotations

from typing import Any

import grpc
import pandas as pd
import streamlit as st

from harvest.ui import session
from harvest.ui.components.guard import require_client, require_project
from harvest.ui.uploads import upload_all
from harvest.v1 import common_pb2, labels_pb2, storage_pb2

POLICIES = {"Suggest (folder names shown as suggestions)": common_pb2.SUGGESTED_LABEL_POLICY_SUGGEST,
            "Label (folder names become labels)": common_pb2.SUGGESTED_LABEL_POLICY_LABEL,
            "Weak labels (for noisy-label training)": common_pb2.SUGGESTED_LABEL_POLICY_NOISY_LABEL,
            "Ignore folder names": common_pb2.SUGGESTED_LABEL_POLICY_IGNORE}


def render() -> None:
    client = require_client()
    project = require_project(client)
    st.header(f"Data — {project.name}")
    _upload(client, project)
    _statistics(client, project)


def _upload(client: Any, project: labels_pb2.Project) -> None:
    st.subheader("Upload")
    files = st.file_uploader("Images, zip or tar archives (ImageFolder: class/name.jpg)", accept_multiple_files=True,
                             key=f"uploader_{st.session_state.get('upload_round', 0)}")
    policy = st.selectbox("Folder names in archives", list(POLICIES))
    if st.button("Upload", type="primary", disabled=not files):
        bar = st.progress(0.0, text="Uploading…")

        def progress(done: int, total: int, name: str) -> None:
            bar.progress(min(done / total, 1.0), text=f"Uploading {name}…" if name else "Done.")

        outcome = upload_all(client, project.project_id, [(f.name, f.getvalue()) for f in files or []],
                             policy=POLICIES[policy], on_progress=progress)
        st.session_state["upload_outcome"] = outcome
        st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
        st.rerun()
    outcome = st.session_state.get("upload_outcome")
    if outcome is not None:
        st.success(f"{outcome.stored} stored, {outcome.duplicate} duplicate, {outcome.rejected} rejected.")
        st.dataframe(pd.DataFrame(outcome.rows), hide_index=True, use_container_width=True)


def _statistics(client: Any, project: labels_pb2.Project) -> None:
    st.subheader("Statistics")
    try:
        stats = client.labels.GetProjectStats(labels_pb2.GetProjectStatsRequest(project_id=project.project_id),
                                              timeout=10)
        stored = client.storage.GetDatasetStats(
            storage_pb2.GetDatasetStatsRequest(project_id=project.project_id), timeout=10)
    except grpc.RpcError as exc:
        st.error(f"Reading statistics failed — {session.describe_error(exc)}")
        return
    columns = st.columns(5)
    columns[0].metric("Images", stats.items)
    columns[1].metric("Labeled", stats.labeled)
    columns[2].metric("Unlabeled", stats.unlabeled)
    columns[3].metric("Disagreements", stats.disagreements)
    columns[4].metric("Suspected errors", stats.suspected_errors)
    st.caption(f"{stored.total_bytes / 1e6:.1f} MB stored"
               + (f" of {stored.quota_bytes / 1e6:.0f} MB" if stored.quota_bytes else "")
               + f" · {stored.snapshot_count} snapshots")
    if stats.classes:
        per_class = pd.DataFrame([{"class": c.class_name, "labeled": c.labeled, "weak labels": c.noisy_labeled,
                                   "predicted (unlabeled)": c.predicted} for c in stats.classes])
        st.bar_chart(per_class.set_index("class")[["labeled"]], horizontal=True)
        st.dataframe(per_class, hide_index=True, use_container_width=True)
    if stats.annotators:
        st.markdown("**Annotators**")
        st.dataframe(pd.DataFrame([{"annotator": a.username, "annotations": a.annotations, "images": a.items,
                                    "assigned, pending": a.assigned_pending} for a in stats.annotators]),
                     hide_index=True, use_container_width=True)
