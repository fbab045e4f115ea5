"""The single-image labeling view: one image, its suggestion, and keyboard-driven buttons.

Streamlit 1.67 binds keys to buttons (`shortcut=`), so no JavaScript bridge is needed: class keys
label, Enter accepts the model's suggestion, ←/→ move, Backspace undoes. The view is a fragment: a key
press reruns only this part of the page, which keeps the time from key to next image short.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from harvest.ui import reads
from harvest.ui.classes import bindable
from harvest.ui.labeler import Labeler
from harvest.v1 import labels_pb2

IMAGE_CACHE_KEY = "lab_image_cache"
_CACHE_SIZE = 64


def _image(client: Any, project_id: str, image_id: str) -> bytes:
    """Original bytes, cached for the session (previous/next and undo show images already seen)."""
    cache: dict[str, bytes] = st.session_state.setdefault(IMAGE_CACHE_KEY, {})
    if image_id not in cache:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[image_id] = reads.image_bytes(client, project_id, image_id)
    return cache[image_id]


def _status(item: labels_pb2.Item, names: dict[str, str]) -> str:
    if item.class_id:
        return f"labeled **{names.get(item.class_id, item.class_id)}**"
    return labels_pb2.ItemStatus.Name(item.status).removeprefix("ITEM_STATUS_").lower().replace("_", " ")


@st.fragment
def render(client: Any, labeler: Labeler, classes: list[labels_pb2.ClassDef]) -> None:
    labeler.fill(client)
    names = {c.class_id: c.name for c in classes}
    item = labeler.current()
    if labeler.message:
        st.warning(labeler.message)
    if item is None:
        st.info(f"Nothing left to label here ({labeler.labeled_here} labeled in this session).")
        st.button("Reload the queue", on_click=_reload, args=(labeler,))
        _controls(client, labeler, classes, item=None)
        return
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**Image {labeler.position + 1}** · `{item.original_name or item.image_id[:12]}` · "
                    f"{_status(item, names)}")
        st.image(_image(client, labeler.project_id, item.image_id), width=360)
    with right:
        if item.HasField("prediction") and item.prediction.predicted_class_id:
            p = item.prediction
            st.metric("Model suggests", p.predicted_class_name or names.get(p.predicted_class_id, "?"),
                      f"{p.confidence:.0%} confident", delta_color="off")
        if item.HasField("suspected_error"):
            suggested = names.get(item.suspected_error.suggested_class_id, "")
            st.error(f"Suspected label error ({item.suspected_error.score:.0%})"
                     + (f": maybe {suggested}" if suggested else ""))
        _controls(client, labeler, classes, item=item)
        st.caption(f"{labeler.labeled_here} labeled in this session")
    following = labeler.items[labeler.position + 1] if labeler.position + 1 < len(labeler.items) else None
    if following is not None:
        _image(client, labeler.project_id, following.image_id)  # prefetch: the next key press shows it at once


def _controls(client: Any, labeler: Labeler, classes: list[labels_pb2.ClassDef],
              item: labels_pb2.Item | None) -> None:
    columns = st.columns(min(len(classes), 5) or 1)
    for index, definition in enumerate(classes):
        key = definition.shortcut if bindable(definition.shortcut) else None
        columns[index % len(columns)].button(
            definition.name, key=f"label_{definition.class_id}", shortcut=key, disabled=item is None,
            on_click=labeler.label, args=(client, definition.class_id), width="stretch")
    has_suggestion = item is not None and item.HasField("prediction") and bool(item.prediction.predicted_class_id)
    st.button("Accept suggestion", key="accept", shortcut="Enter", disabled=not has_suggestion,
              on_click=labeler.accept, args=(client,), type="primary")
    back, forward, undo = st.columns([1, 1, 1.5])
    back.button("Previous", key="previous", shortcut="Left", on_click=labeler.step, args=(client, -1),
                disabled=labeler.position == 0)
    forward.button("Next", key="next", shortcut="Right", on_click=labeler.step, args=(client, +1),
                   disabled=item is None)
    undo.button("Undo", key="undo", shortcut="Backspace", on_click=labeler.undo, args=(client,),
                disabled=not labeler.undo_stack)


def _reload(labeler: Labeler) -> None:
    labeler.exhausted = False
    labeler.message = ""
