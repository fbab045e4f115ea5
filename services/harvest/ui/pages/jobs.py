"""Monitoring: the project's jobs with states, and a live job page (progress, ETA, curves, logs, cancel)."""

from __future__ import annotations

from typing import Any

import grpc
import pandas as pd
import streamlit as st

from harvest.client import paginate
from harvest.ui import reads, session
from harvest.ui.components.guard import require_client, require_project
from harvest.ui.jobspec import TERMINAL, curves, eta_words, fraction_done, job_row, state_name
from harvest.ui.pages.training import SELECTED_JOB_KEY
from harvest.v1 import common_pb2, scheduler_pb2

EVENTS_KEY = "job_events"
REFRESH_S = 2.0


def render() -> None:
    client = require_client()
    project = require_project(client)
    st.header(f"Jobs — {project.name}")
    try:
        jobs = list(paginate(client.scheduler.ListJobs, scheduler_pb2.ListJobsRequest(
            project_id=project.project_id, page=common_pb2.PageRequest(page_size=100)), "jobs", timeout=10))
    except grpc.RpcError as exc:
        st.error(f"Listing jobs failed — {session.describe_error(exc)}")
        return
    if not jobs:
        st.info("No training job yet: start one on the Training page.")
        return
    st.dataframe(pd.DataFrame([job_row(j) for j in jobs]), hide_index=True, width="stretch")
    ids = [j.job_id for j in jobs]
    labels = {j.job_id: f"{j.display_name or j.job_id} — {state_name(j.state)}" for j in jobs}
    selected = st.session_state.get(SELECTED_JOB_KEY)
    job_id = st.selectbox("Job", ids, index=ids.index(selected) if selected in ids else 0,
                          format_func=labels.__getitem__)
    st.session_state[SELECTED_JOB_KEY] = job_id
    _scaling(jobs)
    job_panel(client, job_id, next(j.state for j in jobs if j.job_id == job_id))


@st.fragment(run_every=REFRESH_S)
def job_panel(client: Any, job_id: str, listed_state: int) -> None:
    """Refreshes itself every few seconds: new WatchJob events since the last sequence, then GetJob.

    When the state moves on from what the job table shows, the whole page reruns so the table agrees.
    """
    cache: dict[str, tuple[int, list[scheduler_pb2.JobEvent]]] = st.session_state.setdefault(EVENTS_KEY, {})
    last, events = cache.get(job_id, (0, []))
    try:
        job = client.scheduler.GetJob(scheduler_pb2.GetJobRequest(job_id=job_id), timeout=10).job
        if last < job.last_sequence:
            fresh = reads.job_events(client, job_id, after_sequence=last)
            events = events + [e for e in fresh if e.WhichOneof("event") != "job"]
            last = max([last, *(e.sequence for e in fresh if e.WhichOneof("event") != "job")])
            cache[job_id] = (last, events)
    except grpc.RpcError as exc:
        st.error(f"Reading the job failed — {session.describe_error(exc)}")
        return
    if job.state != listed_state and st.session_state.get("job_rerun_for") != (job_id, job.state):
        st.session_state["job_rerun_for"] = (job_id, job.state)  # once per change, never a loop
        st.rerun(scope="app")
    show_job(client, job, events)


def show_job(client: Any, job: scheduler_pb2.Job, events: list[scheduler_pb2.JobEvent]) -> None:
    state = state_name(job.state)
    st.subheader(f"{job.display_name or job.job_id}: {state}")
    st.progress(fraction_done(job), text=f"step {job.progress.step} of {job.progress.total_steps or '?'}")
    a, b, c, d = st.columns(4)
    a.metric("ETA", "—" if job.state in TERMINAL else eta_words(job.progress.eta_s))
    b.metric("img/s", f"{job.progress.images_per_second:.0f}")
    c.metric("GPUs", job.progress.gpu_count)
    d.metric("Processes", job.progress.world_size or job.resources.nodes or 1)
    if job.note:
        st.caption(job.note)
    if job.state == scheduler_pb2.JOB_STATE_FAILED:
        st.error(job.error_message or "The job failed.")
    if job.model_id:
        st.success(f"Model registered: {job.model_id} — see the Results page.")
    series = curves(events)
    if series:
        frame = pd.DataFrame(series).sort_index()
        groups = [("loss", [k for k in frame.columns if "loss" in k]),
                  ("accuracy", [k for k in frame.columns if "accuracy" in k]),
                  ("mask rate", [k for k in frame.columns if "mask_rate" in k])]
        for column, (title, keys) in zip(st.columns(3), groups, strict=True):
            if keys:
                column.markdown(f"**{title}**")
                column.line_chart(frame[keys].dropna(how="all"))
    if job.state not in TERMINAL and session.is_at_least(common_pb2.ROLE_EXPERT):
        if st.button("Cancel job", key=f"cancel_{job.job_id}"):
            try:
                client.scheduler.CancelJob(scheduler_pb2.CancelJobRequest(job_id=job.job_id,
                                                                          reason="cancelled in the UI"), timeout=10)
                st.toast("Cancellation requested.")
            except grpc.RpcError as exc:
                st.error(f"Cancelling failed — {session.describe_error(exc)}")
    with st.expander("Log (last lines)", expanded=job.state == scheduler_pb2.JOB_STATE_FAILED):
        try:
            st.code(reads.job_log_tail(client, job.job_id) or "(empty)", language="text")
        except grpc.RpcError as exc:
            st.caption(f"No log yet — {exc.details()}")
    with st.expander("Transitions"):
        st.dataframe(pd.DataFrame([{"from": state_name(t.from_state), "to": state_name(t.to_state),
                                    "time": t.time.ToDatetime(), "why": t.reason} for t in job.transitions]),
                     hide_index=True)


def _scaling(jobs: list[scheduler_pb2.Job]) -> None:
    """Finished jobs' throughput by GPU count (more GPUs should mean more images per second)."""
    done = [j for j in jobs if j.state == scheduler_pb2.JOB_STATE_SUCCEEDED and j.progress.images_per_second]
    if len({j.progress.gpu_count for j in done}) < 2:
        return
    with st.expander("Scaling: throughput by GPU count"):
        frame = pd.DataFrame([{"GPUs": j.progress.gpu_count, "img/s": j.progress.images_per_second} for j in done])
        st.bar_chart(frame.groupby("GPUs").mean())
