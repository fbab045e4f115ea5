"""Results: model versions (promote, export), per-class accuracy, the confusion heat map and galleries."""

from __future__ import annotations

from typing import Any

import grpc
import streamlit as st

from harvest.ui import reads, session
from harvest.ui.components.charts import class_metrics_frame, confusion_heatmap
from harvest.ui.components.guard import require_client, require_project
from harvest.v1 import common_pb2, inference_pb2, labels_pb2

GALLERY_SIZE = 12
EXPORT_FORMATS = {"TorchScript": inference_pb2.EXPORT_FORMAT_TORCHSCRIPT, "ONNX": inference_pb2.EXPORT_FORMAT_ONNX}


def render() -> None:
    client = require_client()
    project = require_project(client)
    st.header(f"Results — {project.name}")
    try:
        models = list(client.inference.ListModels(inference_pb2.ListModelsRequest(
            project_id=project.project_id, page=common_pb2.PageRequest(page_size=50)), timeout=10).models)
    except grpc.RpcError as exc:
        st.error(f"Listing models failed — {session.describe_error(exc)}")
        return
    if not models:
        st.info("No model yet: train one on the Training page.")
        return
    labels = {m.model_id: f"v{m.version} · {m.algorithm}/{m.backbone} · "
                          f"{inference_pb2.ModelStatus.Name(m.status).removeprefix('MODEL_STATUS_').lower()}"
              for m in models}
    model_id = st.selectbox("Model", list(labels), format_func=labels.__getitem__)
    model = next(m for m in models if m.model_id == model_id)
    _actions(client, model)
    if model.HasField("evaluation") and model.evaluation.num_samples:
        evaluation = model.evaluation
        st.metric("Validation accuracy", f"{evaluation.accuracy:.1%}", f"{evaluation.num_samples} images",
                  delta_color="off")
        left, right = st.columns(2)
        with left:
            st.markdown("**Per-class accuracy**")
            frame = class_metrics_frame(model)
            st.bar_chart(frame.set_index("class")[["accuracy (recall)"]], horizontal=True)
            st.dataframe(frame, hide_index=True, width="stretch")
        with right:
            st.markdown("**Confusion matrix**")
            st.altair_chart(confusion_heatmap(model), width="stretch")
    else:
        st.caption("This model has no validation report.")
    _gallery(client, project.project_id, "Most confident mistakes",
             labels_pb2.ItemFilter(prediction_disagrees=True), labels_pb2.ITEM_ORDER_CONFIDENCE_DESC)
    _gallery(client, project.project_id, "Most uncertain unlabeled images",
             labels_pb2.ItemFilter(label=labels_pb2.LABEL_FILTER_UNLABELED), labels_pb2.ITEM_ORDER_CONFIDENCE_ASC)


def _actions(client: Any, model: inference_pb2.Model) -> None:
    if not session.is_at_least(common_pb2.ROLE_EXPERT):
        return
    promote, fmt, export = st.columns(3)
    if model.status != inference_pb2.MODEL_STATUS_ACTIVE and promote.button("Promote to active"):
        try:
            client.inference.PromoteModel(inference_pb2.PromoteModelRequest(model_id=model.model_id), timeout=10)
            st.session_state["flash"] = f"Model v{model.version} is now the project's active model."
            st.rerun()
        except grpc.RpcError as exc:
            st.error(f"Promoting failed — {session.describe_error(exc)}")
    chosen = fmt.selectbox("Export format", list(EXPORT_FORMATS), label_visibility="collapsed")
    if export.button("Prepare export"):
        try:
            name, data = export_model(client, model.model_id, EXPORT_FORMATS[chosen])
        except grpc.RpcError as exc:
            st.error(f"Export failed — {session.describe_error(exc)}")
        else:
            st.download_button(f"Download {name}", data, file_name=name, mime="application/zip")


def export_model(client: Any, model_id: str, export_format: int) -> tuple[str, bytes]:
    """ExportModel streams a manifest then the zip's chunks; returns the file name and the bytes."""
    name, parts = "model.zip", []
    for message in client.inference.ExportModel(inference_pb2.ExportModelRequest(
            model_id=model_id, format=export_format, dynamic_batch=True), timeout=300):
        if message.WhichOneof("payload") == "manifest":
            name = message.manifest.file_name or name
        else:
            parts.append(message.chunk)
    return name, b"".join(parts)


def _gallery(client: Any, project_id: str, title: str, item_filter: labels_pb2.ItemFilter, order: int) -> None:
    try:
        found = reads.items(client, project_id, item_filter=item_filter, order=order, limit=GALLERY_SIZE)
        found = [i for i in found if i.HasField("prediction")]
        thumbs = reads.thumbnails(client, project_id, [i.image_id for i in found]) if found else {}
    except grpc.RpcError as exc:
        st.error(f"{title} failed — {session.describe_error(exc)}")
        return
    st.subheader(title)
    if not found:
        st.caption("None yet (the pool has not been scored by a model).")
        return
    for column, item in zip(st.columns(6) * 2, found, strict=False):
        with column:
            if item.image_id in thumbs:
                st.image(thumbs[item.image_id], width="stretch")
            st.caption(f"{item.prediction.predicted_class_name} {item.prediction.confidence:.0%}")
