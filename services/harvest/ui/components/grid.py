"""The thumbnail grid: filter, select many, assign one class to all of them in one BatchAnnotate."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import streamlit as st

from harvest.ui import reads, session
from harvest.v1 import labels_pb2

FILTERS = {
    "unlabeled": labels_pb2.ItemFilter(label=labels_pb2.LABEL_FILTER_UNLABELED),
    "all": labels_pb2.ItemFilter(),
    "labeled": labels_pb2.ItemFilter(label=labels_pb2.LABEL_FILTER_LABELED),
    "suspected errors": labels_pb2.ItemFilter(suspected_error=True),
    "disagreements": labels_pb2.ItemFilter(disagreement=True),
}
COLUMNS = 6


def selected_ids(items: list[labels_pb2.Item]) -> list[labels_pb2.Item]:
    return [item for item in items if st.session_state.get(f"pick_{item.item_id}")]


def batch_request(project_id: str, chosen: list[labels_pb2.Item], class_id: str) -> labels_pb2.BatchAnnotateRequest:
    """All-or-nothing: each item carries the version shown, so a concurrent change aborts the whole batch."""
    return labels_pb2.BatchAnnotateRequest(
        project_id=project_id, class_id=class_id, client_request_id=uuid.uuid4().hex,
        items=[labels_pb2.ItemVersion(item_id=i.item_id, expected_version=i.version) for i in chosen])


def render(client: Any, project: labels_pb2.Project, classes: list[labels_pb2.ClassDef]) -> None:
    names = {c.class_id: c.name for c in classes}
    which = st.selectbox("Show", list(FILTERS), key="grid_filter")
    limit = st.select_slider("Images per page", [24, 48, 96], value=48, key="grid_limit")
    try:
        items = reads.items(client, project.project_id, item_filter=FILTERS[which], limit=limit)
        thumbs = reads.thumbnails(client, project.project_id, [i.image_id for i in items]) if items else {}
    except grpc.RpcError as exc:
        st.error(f"Listing images failed — {session.describe_error(exc)}")
        return
    if not items:
        st.info("No images match.")
        return
    chosen = selected_ids(items)
    with st.container(border=True):
        left, middle, right = st.columns([2, 1, 1])
        target = left.selectbox("Class", [c.class_id for c in classes], format_func=names.__getitem__,
                                key="grid_class") if classes else None
        if middle.button(f"Label {len(chosen)} selected", type="primary", disabled=not chosen or target is None):
            try:
                reply = client.labels.BatchAnnotate(batch_request(project.project_id, chosen, target), timeout=30)
            except grpc.RpcError as exc:
                st.error(f"Labeling failed, nothing written — {session.describe_error(exc)}")
            else:
                for item in chosen:
                    st.session_state.pop(f"pick_{item.item_id}", None)
                st.session_state["flash"] = f"Labeled {len(reply.items)} images as {names[target]}."
                st.rerun()
        if right.button("Select all"):
            for item in items:
                st.session_state[f"pick_{item.item_id}"] = True
            st.rerun()
    for start in range(0, len(items), COLUMNS):
        for column, item in zip(st.columns(COLUMNS), items[start:start + COLUMNS], strict=False):
            with column:
                if item.image_id in thumbs:
                    st.image(thumbs[item.image_id], width="stretch")
                label = names.get(item.class_id, "—")
                st.checkbox(f"{item.original_name[:18] or item.image_id[:8]} · {label}", key=f"pick_{item.item_id}")
