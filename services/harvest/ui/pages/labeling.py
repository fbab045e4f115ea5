"""Labeling: a keyboard-driven single-image view over the queue, and a thumbnail grid for many at once."""

from __future__ import annotations

import streamlit as st

from harvest.ui import reads
from harvest.ui.components import grid, single_view
from harvest.ui.components.guard import require_client, require_project
from harvest.ui.labeler import SOURCES, STRATEGIES, Labeler

LABELER_KEY = "labeler"


def render() -> None:
    client = require_client()
    project = require_project(client)
    classes = reads.active_classes(project)
    st.header(f"Labeling — {project.name}")
    if not classes:
        st.warning("This project has no classes yet.")
        return
    view = st.segmented_control("View", ["Single image", "Grid"], default="Single image", key="label_view")
    if view == "Grid":
        grid.render(client, project, classes)
        return
    left, right = st.columns(2)
    source = left.radio("Images", SOURCES, horizontal=True, key="label_source")
    strategy_name = right.selectbox("Queue order", list(STRATEGIES), key="label_strategy",
                                    disabled=source != "queue")
    labeler = _labeler(project.project_id, source, STRATEGIES[strategy_name])
    if source == "queue" and labeler.effective_strategy and labeler.effective_strategy != labeler.strategy:
        st.caption("No predictions yet: the queue is in random order until a model has scored the pool.")
    st.caption("Keys: " + " · ".join(f"`{c.shortcut}` {c.name}" for c in classes if c.shortcut)
               + " · `Enter` accept suggestion · `←`/`→` previous/next · `Backspace` undo")
    single_view.render(client, labeler, classes)


def _labeler(project_id: str, source: str, strategy: int) -> Labeler:
    """The session's labeler, started afresh when the project, the source or the order changes."""
    current: Labeler | None = st.session_state.get(LABELER_KEY)
    if current is None or (current.project_id, current.source, current.strategy) != (project_id, source, strategy):
        current = Labeler(project_id=project_id, source=source, strategy=strategy)
        st.session_state[LABELER_KEY] = current
    return current

