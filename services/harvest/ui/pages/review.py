"""Review: items whose annotators disagree, most contested first; an expert decides the final class.

The queue is ListReviewQueue (lowest agreement first), each task carrying its votes as annotation events;
the project's kappa comes from GetAgreement. A decision is a Review carrying the item version the reviewer
saw: it is final (the item becomes REVIEWED and leaves the queue), and a vote or review written meanwhile
answers ABORTED, so the page re-reads the item and asks again instead of deciding on stale votes.
"""

from __future__ import annotations

import math
from typing import Any

import grpc
import pandas as pd
import streamlit as st

from harvest.ui import reads, session
from harvest.ui.classes import bindable
from harvest.ui.components.guard import require_client, require_project
from harvest.v1 import common_pb2, labels_pb2

SELECTED_KEY = "review_item_id"
NOTICE_KEY = "review_notice"
QUEUE_PAGE = 100
_VOTE_KINDS = (labels_pb2.ANNOTATION_KIND_LABEL, labels_pb2.ANNOTATION_KIND_CLEAR, labels_pb2.ANNOTATION_KIND_UNDO)


def annotator_votes(annotations: list[labels_pb2.Annotation]) -> dict[str, str]:
    """Each annotator's current vote (class id) from the round's events: their latest label, clear or undo.

    An undo's class id is the value it restores, so an annotator whose latest event leaves no class has
    no vote and is left out.
    """
    latest: dict[str, str] = {}
    for event in sorted(annotations, key=lambda a: a.item_version):
        if event.kind in _VOTE_KINDS:
            latest[event.username or event.user_id] = event.class_id
    return {who: class_id for who, class_id in latest.items() if class_id}


def votes_words(votes: dict[str, int], names: dict[str, str]) -> str:
    """`cat 2 · dog 1`, most voted first."""
    ranked = sorted(votes.items(), key=lambda kv: (-kv[1], names.get(kv[0], kv[0])))
    return " · ".join(f"{names.get(c, c)} {n}" for c, n in ranked)


def kappa_words(value: float) -> str:
    """Kappa to two decimals; `—` when undefined (NaN: too few items with two votes)."""
    return "—" if math.isnan(value) else f"{value:.2f}"


def render() -> None:
    client = require_client()
    project = require_project(client)
    st.header(f"Review — {project.name}")
    if not session.is_at_least(common_pb2.ROLE_EXPERT):
        st.info("Reviewing disagreements needs the expert role.")
        return
    if (project.settings.required_annotations or 1) < 2:
        st.caption("This project asks one annotation per image, so votes rarely disagree; items flagged for "
                   "review still appear here.")
    if notice := st.session_state.pop(NOTICE_KEY, None):
        kind, text = notice
        {"success": st.success, "warning": st.warning}.get(kind, st.error)(text)
    try:
        reply = client.labels.ListReviewQueue(labels_pb2.ListReviewQueueRequest(
            project_id=project.project_id, page=common_pb2.PageRequest(page_size=QUEUE_PAGE)), timeout=15)
    except grpc.RpcError as exc:
        st.error(f"Reading the review queue failed — {session.describe_error(exc)}")
        return
    tasks = list(reply.tasks)
    _agreement(client, project, {a.user_id: a.username for t in tasks for a in t.annotations if a.username})
    if not tasks:
        st.success("Nothing to review: no item is waiting for a decision.")
        return
    names = {c.class_id: c.name for c in project.classes}
    _queue_table(tasks, names, reply.page)
    ids = [t.item.item_id for t in tasks]
    titles = {t.item.item_id: f"{_title(t.item)} — {t.agreement.agreement:.0%} agree" for t in tasks}
    selected = st.session_state.get(SELECTED_KEY)
    item_id = st.selectbox("Item to decide", ids, index=ids.index(selected) if selected in ids else 0,
                           format_func=titles.__getitem__)
    st.session_state[SELECTED_KEY] = item_id
    _decide(client, project, next(t for t in tasks if t.item.item_id == item_id), names)


def _title(item: labels_pb2.Item) -> str:
    return item.original_name or item.image_id[:12]


def _agreement(client: Any, project: labels_pb2.Project, usernames: dict[str, str]) -> None:
    """The project's kappa (Fleiss' over items with two votes or more, mean pairwise Cohen's)."""
    try:
        agreement = client.labels.GetAgreement(labels_pb2.GetAgreementRequest(project_id=project.project_id),
                                               timeout=10).project
    except grpc.RpcError as exc:
        st.warning(f"Reading the agreement failed — {session.describe_error(exc)}")
        return
    fleiss, cohen, compared, disagreeing = st.columns(4)
    fleiss.metric("Fleiss' κ", kappa_words(agreement.fleiss_kappa))
    cohen.metric("Mean Cohen's κ", kappa_words(agreement.mean_cohen_kappa))
    compared.metric("Items with 2+ votes", agreement.items_compared)
    disagreeing.metric("In disagreement", agreement.items_in_disagreement)
    if agreement.pairs:
        with st.expander("Cohen's κ per annotator pair"):
            st.dataframe(pd.DataFrame([{"annotator A": usernames.get(p.user_a, p.user_a),
                                        "annotator B": usernames.get(p.user_b, p.user_b),
                                        "κ": kappa_words(p.kappa), "shared items": p.shared_items}
                                       for p in agreement.pairs]), hide_index=True, width="stretch")


def _queue_table(tasks: list[labels_pb2.ReviewTask], names: dict[str, str], page: common_pb2.PageInfo) -> None:
    rows = []
    for task in tasks:
        votes = annotator_votes(list(task.annotations))
        rows.append({"image": _title(task.item), "agreement": f"{task.agreement.agreement:.0%}",
                     "votes": votes_words(dict(task.agreement.votes), names),
                     "annotators": ", ".join(f"{who}: {names.get(c, c)}" for who, c in votes.items())})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if page.next_page_token:
        waiting = f"{page.total_size} items wait" if page.total_size > 0 else "More items wait"
        st.caption(f"{waiting}; the {len(tasks)} most contested are shown. Decide these first.")


def _decide(client: Any, project: labels_pb2.Project, task: labels_pb2.ReviewTask, names: dict[str, str]) -> None:
    item = task.item
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{_title(item)}** · {task.agreement.annotation_count} votes · "
                    f"{task.agreement.agreement:.0%} agree")
        try:
            st.image(reads.image_bytes(client, project.project_id, item.image_id), width=360)
        except grpc.RpcError as exc:
            st.caption(f"The image could not be read — {session.describe_error(exc)}")
    with right:
        votes = annotator_votes(list(task.annotations))
        st.dataframe(pd.DataFrame([{"annotator": who, "vote": names.get(c, c)} for who, c in votes.items()]),
                     hide_index=True, width="stretch")
        if item.HasField("prediction") and item.prediction.predicted_class_id:
            p = item.prediction
            st.caption(f"Model suggests {p.predicted_class_name or names.get(p.predicted_class_id, '?')} "
                       f"({p.confidence:.0%} confident).")
        comment_key = f"review_comment_{item.item_id}"
        st.text_input("Reason (recorded with the decision)", key=comment_key, max_chars=1000)
        st.markdown("**Final class** (a decision is final: later votes no longer change it)")
        classes = reads.active_classes(project)
        columns = st.columns(min(len(classes), 4) or 1)
        for index, definition in enumerate(classes):
            voted = definition.class_id in task.agreement.votes
            columns[index % len(columns)].button(
                definition.name, key=f"review_{definition.class_id}", width="stretch",
                type="primary" if definition.class_id == task.agreement.majority_class_id else "secondary",
                shortcut=definition.shortcut if bindable(definition.shortcut) else None,
                help=f"{task.agreement.votes[definition.class_id]} votes" if voted else "no votes",
                on_click=_review, args=(client, project, item, definition, comment_key))


def _review(client: Any, project: labels_pb2.Project, seen: labels_pb2.Item, chosen: labels_pb2.ClassDef,
            comment_key: str) -> None:
    """A class button's callback: writes the decision with the version shown when the button was drawn.

    A callback (not `if st.button`) because the rerun a click starts re-lists the queue first: the item
    there may already carry a vote the reviewer never saw, and its version would silently accept it.
    """
    request = labels_pb2.ReviewRequest(project_id=project.project_id, item_id=seen.item_id,
                                       class_id=chosen.class_id, expected_version=seen.version,
                                       comment=st.session_state.get(comment_key, ""))
    try:
        client.labels.Review(request, timeout=10)
    except grpc.RpcError as exc:
        if exc.code() in (grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION):
            st.session_state[NOTICE_KEY] = ("warning", _conflict_words(client, project, seen, exc))
        else:
            st.session_state[NOTICE_KEY] = ("error", f"Review refused — {session.describe_error(exc)}")
        return
    st.session_state[NOTICE_KEY] = ("success", f"{_title(seen)}: final class {chosen.name}.")
    st.session_state.pop(SELECTED_KEY, None)  # the next most contested item comes up


def _conflict_words(client: Any, project: labels_pb2.Project, item: labels_pb2.Item, exc: grpc.RpcError) -> str:
    """Why the decision was not written, after re-reading the item (the queue re-lists on the rerun)."""
    refused = f"Not decided — {session.describe_error(exc)}."
    try:
        current = client.labels.GetItem(labels_pb2.GetItemRequest(project_id=project.project_id,
                                                                  item_id=item.item_id), timeout=10).item
    except grpc.RpcError as reread:
        return f"{refused} Re-reading the item failed — {session.describe_error(reread)}"
    names = {c.class_id: c.name for c in project.classes}
    if current.status == labels_pb2.ITEM_STATUS_REVIEWED:
        return (f"{refused} Another reviewer already decided {_title(current)}: "
                f"{names.get(current.class_id, current.class_id)}. It has left the queue.")
    if current.version != item.version:
        return f"{refused} {_title(current)} changed meanwhile (new votes); its current votes are shown. Decide again."
    return f"{refused} The item was re-read; nothing about it changed."
