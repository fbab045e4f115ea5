"""Data: upload images, archives or ImageFolder trees with a per-file result table, import an S3 prefix, and
project statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
import pandas as pd
import streamlit as st

from harvest.ui import session
from harvest.ui.components.guard import require_client, require_project
from harvest.ui.uploads import result_row, upload_all
from harvest.v1 import common_pb2, labels_pb2, storage_pb2

POLICIES = {"Suggest (folder names shown as suggestions)": common_pb2.SUGGESTED_LABEL_POLICY_SUGGEST,
            "Label (folder names become labels)": common_pb2.SUGGESTED_LABEL_POLICY_LABEL,
            "Weak labels (for noisy-label training)": common_pb2.SUGGESTED_LABEL_POLICY_NOISY_LABEL,
            "Ignore folder names": common_pb2.SUGGESTED_LABEL_POLICY_IGNORE}
IMPORT_KEY = "prefix_import"
IMPORT_REFRESH_S = 1.5
TERMINAL_OPERATIONS = {common_pb2.OPERATION_STATE_SUCCEEDED, common_pb2.OPERATION_STATE_FAILED,
                       common_pb2.OPERATION_STATE_CANCELLED}


@dataclass
class PrefixImport:
    """One ImportPrefix operation as this session last saw it through WatchImport."""

    operation_id: str
    source: str
    operation: common_pb2.Operation = field(default_factory=common_pb2.Operation)
    summary: storage_pb2.IngestSummary | None = None
    results: dict[str, storage_pb2.FileResult] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.operation.state in TERMINAL_OPERATIONS

    def absorb(self, update: storage_pb2.WatchImportResponse) -> None:
        """Keeps the latest state; results are keyed by object key, so a re-opened stream repeats nothing."""
        self.operation.CopyFrom(update.operation)
        self.results.update((r.name, r) for r in update.results)
        if update.HasField("summary"):
            self.summary = update.summary

    def counts(self) -> tuple[int, int, int]:
        """(stored, duplicate, rejected): the final summary once there is one, the running counters before."""
        if self.summary is not None:
            return self.summary.stored, self.summary.duplicate, self.summary.rejected
        counters = self.operation.counters
        return counters.get("stored", 0), counters.get("duplicate", 0), counters.get("rejected", 0)

    def fraction(self) -> float:
        if self.operation.state == common_pb2.OPERATION_STATE_SUCCEEDED:
            return 1.0
        progress = self.operation.progress
        return min(progress.done / progress.total, 1.0) if progress.total else 0.0


def render() -> None:
    client = require_client()
    project = require_project(client)
    st.header(f"Data — {project.name}")
    _upload(client, project)
    if session.is_at_least(common_pb2.ROLE_EXPERT):
        _import_prefix(client, project)
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
        st.dataframe(pd.DataFrame(outcome.rows), hide_index=True, width="stretch")


def _import_prefix(client: Any, project: labels_pb2.Project) -> None:
    """Registers images already in a bucket (no copy): ImportPrefix starts it, WatchImport follows it."""
    st.subheader("Import an S3 prefix")
    with st.form("import_prefix_form"):
        left, right = st.columns(2)
        bucket = left.text_input("Bucket", key="import_bucket", placeholder="empty: the configured data bucket")
        prefix = right.text_input("Prefix", key="import_prefix", placeholder="archive/2024/")
        image_folder = st.checkbox("ImageFolder layout (the first folder below the prefix is the class)",
                                   key="import_image_folder")
        policy = st.selectbox("Those folder names", list(POLICIES), key="import_policy")
        submitted = st.form_submit_button("Import")
    if submitted:
        if not prefix.strip():
            st.error("Give a prefix to import, e.g. archive/2024/ (a whole bucket is never imported at once).")
        else:
            _start_import(client, project, bucket.strip(), prefix.strip(), image_folder, POLICIES[policy])
    watch: PrefixImport | None = st.session_state.get(IMPORT_KEY)
    if watch is None or watch.operation.project_id not in ("", project.project_id):
        return
    if watch.finished:
        _show_import(watch)
    else:
        _follow_import(client)


def _start_import(client: Any, project: labels_pb2.Project, bucket: str, prefix: str, image_folder: bool,
                  policy: int) -> None:
    request = storage_pb2.ImportPrefixRequest(project_id=project.project_id, bucket=bucket, prefix=prefix,
                                              image_folder=image_folder, suggested_label_policy=policy)
    try:
        reply = client.storage.ImportPrefix(request, timeout=15)
    except grpc.RpcError as exc:
        st.error(f"Starting the import failed — {session.describe_error(exc)}")
        return
    watch = PrefixImport(operation_id=reply.operation_id, source=f"s3://{bucket or '(data bucket)'}/{prefix}")
    watch.operation.project_id = project.project_id
    st.session_state[IMPORT_KEY] = watch


def import_updates(client: Any, operation_id: str, wait_s: float = 1.0) -> list[storage_pb2.WatchImportResponse]:
    """WatchImport messages for at most `wait_s` seconds: the current state first, then updates.

    The stream ends by itself when the import is terminal; while it runs, the page reads what arrives
    before the deadline and the next refresh re-opens it (the first message is always the current state).
    """
    updates: list[storage_pb2.WatchImportResponse] = []
    stream = client.storage.WatchImport(storage_pb2.WatchImportRequest(operation_id=operation_id), timeout=wait_s)
    try:
        for update in stream:
            updates.append(update)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
    return updates


@st.fragment(run_every=IMPORT_REFRESH_S)
def _follow_import(client: Any) -> None:
    """Refreshes the progress bar every few seconds; once the import is terminal the page shows the summary."""
    watch: PrefixImport | None = st.session_state.get(IMPORT_KEY)
    if watch is None or watch.finished:
        return
    try:
        for update in import_updates(client, watch.operation_id):
            watch.absorb(update)
    except grpc.RpcError as exc:
        st.error(f"Following the import failed — {session.describe_error(exc)}")
        return
    if watch.finished:
        st.rerun(scope="app")  # the page redraws once with the summary and the statistics that include it
    stored, duplicate, rejected = watch.counts()
    progress = watch.operation.progress
    counted = f"{progress.done} of {progress.total} objects" if progress.total else "Listing objects…"
    st.progress(watch.fraction(), text=f"Importing {watch.source}: {counted} · {stored} stored, "
                                       f"{duplicate} duplicate, {rejected} rejected")


def _show_import(watch: PrefixImport) -> None:
    stored, duplicate, rejected = watch.counts()
    words = f"{watch.source}: {stored} stored, {duplicate} duplicate, {rejected} rejected."
    if watch.operation.state == common_pb2.OPERATION_STATE_SUCCEEDED:
        st.progress(1.0, text="Import finished.")
        st.success(f"Imported {words}")
    elif watch.operation.state == common_pb2.OPERATION_STATE_FAILED:
        st.error(f"Import failed — {watch.operation.error_message or 'no reason given'}. So far {words}")
    else:
        st.warning(f"Import cancelled. So far {words}")
    rows = [result_row(r) for r in watch.results.values() if r.status != storage_pb2.FILE_STATUS_EXPANDED]
    if rows:
        st.dataframe(pd.DataFrame(rows).rename(columns={"file": "object"}), hide_index=True,
                     width="stretch")


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
        st.dataframe(per_class, hide_index=True, width="stretch")
    if stats.annotators:
        st.markdown("**Annotators**")
        st.dataframe(pd.DataFrame([{"annotator": a.username, "annotations": a.annotations, "images": a.items,
                                    "assigned, pending": a.assigned_pending} for a in stats.annotators]),
                     hide_index=True, width="stretch")
