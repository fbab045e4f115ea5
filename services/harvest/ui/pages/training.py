"""Training: pick a preset, optionally change advanced settings, see exactly what will run, submit."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import streamlit as st

from harvest.ui import session
from harvest.ui.components.guard import require_client, require_project
from harvest.ui.jobspec import BACKENDS, TrainChoices, submit_request
from harvest.v1 import common_pb2, inference_pb2, scheduler_pb2

KINDS = {"Classifier": scheduler_pb2.JOB_KIND_SSL_TRAINING,
         "Backbone (self-supervised)": scheduler_pb2.JOB_KIND_SELF_SUPERVISED_PRETRAINING}

SELECTED_JOB_KEY = "selected_job_id"


def render() -> None:
    client = require_client()
    project = require_project(client)
    st.header(f"Training — {project.name}")
    if not session.is_at_least(common_pb2.ROLE_EXPERT):
        st.info("Training needs the expert role.")
        return
    try:
        catalog = client.scheduler.ListPresets(scheduler_pb2.ListPresetsRequest(), timeout=10)
    except grpc.RpcError as exc:
        st.error(f"Reading presets failed — {session.describe_error(exc)}")
        return
    choices = _form(catalog, _start_points(client, project.project_id))
    preview, submit = st.columns(2)
    if preview.button("Show what will be submitted"):
        _preview(client, project.project_id, choices)
    if submit.button("Start training", type="primary"):
        _submit(client, project.project_id, choices)


def _start_points(client: Any, project_id: str) -> dict[str, str]:
    """Registered models of the project a job can start from, label -> model id (none if inference is down)."""
    try:
        models = client.inference.ListModels(inference_pb2.ListModelsRequest(project_id=project_id), timeout=10).models
    except grpc.RpcError:
        return {}
    kinds = {inference_pb2.MODEL_KIND_BACKBONE: "backbone"}
    return {f"v{m.version} · {kinds.get(m.kind, 'classifier')} · {m.algorithm}/{m.backbone}": m.model_id
            for m in models if m.status != inference_pb2.MODEL_STATUS_ARCHIVED}


def _form(catalog: scheduler_pb2.ListPresetsResponse, start_points: dict[str, str]) -> TrainChoices:
    what = st.radio("What to train", list(KINDS), horizontal=True, key="train_kind",
                    help="A backbone learns from every image without labels; classifiers can then start from it.")
    kind = KINDS[what or "Classifier"]
    presets = {p.name: p for p in catalog.presets if (p.kind or scheduler_pb2.JOB_KIND_SSL_TRAINING) == kind}
    name = st.radio("Preset", list(presets), horizontal=True, key="train_preset",
                    captions=[p.description for p in presets.values()]) if presets else "quick"
    preset = presets.get(name or "quick")
    choices = TrainChoices(preset=name or "quick", kind=kind)
    if start_points:
        start = st.selectbox("Start from", ["(random initialization)", *start_points], key="train_start",
                             help="A registered model of this project with the same backbone and sizes")
        choices.init_model_id = start_points.get(start or "", "")
    with st.expander("Advanced settings"):
        algorithms = ["(preset)", *(catalog.algorithms if kind == scheduler_pb2.JOB_KIND_SSL_TRAINING
                                    else sorted({p.algorithm for p in presets.values()}))]
        backbones = ["(preset)", *catalog.backbones]
        left, right = st.columns(2)
        algorithm = left.selectbox("Algorithm", algorithms, key="train_algorithm",
                                   help=f"Preset: {preset.algorithm}" if preset else None)
        backbone = right.selectbox("Backbone", backbones, key="train_backbone",
                                   help=f"Preset: {preset.backbone}" if preset else None)
        choices.algorithm = "" if algorithm == "(preset)" else algorithm
        choices.backbone = "" if backbone == "(preset)" else backbone
        left, right = st.columns(2)
        choices.steps = int(left.number_input("Steps (0 = preset)", min_value=0, value=0, step=50,
                                              key="train_steps")) or None
        choices.global_batch_size = int(right.number_input("Global batch (0 = preset)", min_value=0, value=0,
                                                           key="train_batch")) or None
        enabled = [k for k, v in BACKENDS.items() if v in catalog.backends or k == "default"]
        choices.backend = st.selectbox("Backend", enabled, key="train_backend")
        a, b, c = st.columns(3)
        choices.nodes = int(a.number_input("Nodes (0 = preset)", min_value=0, value=0, key="train_nodes"))
        choices.gpus_per_node = int(b.number_input("GPUs per node (0 = preset)", min_value=0, value=0,
                                                   key="train_gpus"))
        choices.time_limit_min = int(c.number_input("Time limit, minutes (0 = preset)", min_value=0, value=0,
                                                    key="train_time"))
        choices.display_name = st.text_input("Job name (optional)", key="train_name")
    return choices


def _preview(client: Any, project_id: str, choices: TrainChoices) -> None:
    try:
        job = client.scheduler.SubmitJob(submit_request(project_id, choices, validate_only=True), timeout=30).job
    except grpc.RpcError as exc:
        st.error(f"Not accepted — {session.describe_error(exc)}")
        return
    st.success(f"Valid: {job.preset} · {job.algorithm} · {job.backbone} on "
               f"{scheduler_pb2.Backend.Name(job.backend).removeprefix('BACKEND_').lower()} · "
               f"{job.resources.nodes or 1} node(s) × {job.resources.gpus_per_node} GPU(s)")
    st.code(job.resolved_config or "(no config)", language="yaml")
    st.code(job.rendered_spec or "(nothing rendered)", language="bash")


def _submit(client: Any, project_id: str, choices: TrainChoices) -> None:
    request = submit_request(project_id, choices, request_id=uuid.uuid4().hex)
    try:
        job = client.scheduler.SubmitJob(request, timeout=60).job
    except grpc.RpcError as exc:
        st.error(f"Submitting failed — {session.describe_error(exc)}")
        return
    st.session_state[SELECTED_JOB_KEY] = job.job_id
    st.session_state["flash"] = f"Submitted {job.display_name or job.job_id}: follow it on the Jobs page."
    st.rerun()
