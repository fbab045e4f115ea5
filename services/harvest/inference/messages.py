"""Registry rows, model outputs and operations as `harvest.v1` messages (the servicer's vocabulary)."""

from __future__ import annotations

import math

import numpy as np

from harvest.common.timestamps import to_timestamp
from harvest.inference.tables import ModelRow, OperationRow
from harvest.v1 import common_pb2, inference_pb2

STATUSES = {"ready": inference_pb2.MODEL_STATUS_READY, "active": inference_pb2.MODEL_STATUS_ACTIVE,
            "archived": inference_pb2.MODEL_STATUS_ARCHIVED}
STATUS_NAMES = {number: name for name, number in STATUSES.items()}
KINDS = {"classifier": inference_pb2.MODEL_KIND_CLASSIFIER, "backbone": inference_pb2.MODEL_KIND_BACKBONE}
KIND_NAMES = {number: name for name, number in KINDS.items()}
STATES = {"pending": common_pb2.OPERATION_STATE_PENDING, "running": common_pb2.OPERATION_STATE_RUNNING,
          "succeeded": common_pb2.OPERATION_STATE_SUCCEEDED, "failed": common_pb2.OPERATION_STATE_FAILED}
DEFAULT_TOP_K = 5


def prediction(row: ModelRow, probabilities: np.ndarray, embedding: np.ndarray | None,
               top_k: int) -> common_pb2.Prediction:
    """Scores from the full distribution; `probabilities` limited to the top k (0 means 5), highest first."""
    values = probabilities.astype(np.float64)
    order = np.argsort(-values, kind="stable")
    top = float(values[order[0]])
    second = float(values[order[1]]) if len(order) > 1 else 0.0
    entropy = -sum(v * math.log(v) for v in values.tolist() if v > 0)
    keep = order[:top_k or DEFAULT_TOP_K]
    message = common_pb2.Prediction(
        model_id=row.model_id, predicted_class_id=row.class_ids[order[0]],
        predicted_class_name=row.class_names[order[0]], confidence=top, entropy=entropy, margin=top - second,
        probabilities=[common_pb2.ClassProbability(class_id=row.class_ids[i], class_name=row.class_names[i],
                                                   probability=float(values[i])) for i in keep])
    if embedding is not None:
        message.embedding.extend(embedding.astype(np.float32).tolist())
    return message


def preprocessing(raw: dict[str, object]) -> inference_pb2.Preprocessing:
    return inference_pb2.Preprocessing(
        image_size=int(raw["image_size"]), channels=int(raw["channels"]),  # type: ignore[call-overload]
        mean=list(raw["mean"]), std=list(raw["std"]),  # type: ignore[call-overload]
        interpolation=str(raw.get("interpolation", "bilinear")), resize_mode=str(raw.get("resize_mode", "stretch")))


def model(row: ModelRow) -> inference_pb2.Model:
    message = inference_pb2.Model(
        model_id=row.model_id, project_id=row.project_id, version=row.version, job_id=row.job_id,
        snapshot_id=row.snapshot_id, kind=KINDS[row.kind], status=STATUSES[row.status], algorithm=row.algorithm,
        backbone=row.backbone, class_names=row.class_names, class_ids=row.class_ids,
        preprocessing=preprocessing(row.preprocessing), embedding_dim=row.embedding_dim, metrics=row.metrics,
        package_prefix=row.package_prefix, created_at=to_timestamp(row.created_at),
        promoted_at=to_timestamp(row.promoted_at), promoted_by=row.promoted_by,
        scoring_operation_id=row.scoring_operation_id)
    report = row.evaluation
    if report:
        evaluation = message.evaluation
        evaluation.accuracy = report["accuracy"]
        evaluation.num_samples = report["num_samples"]
        evaluation.step = report["step"]
        for index, cls in enumerate(report["classes"]):
            evaluation.classes.add(class_id=row.class_ids[index], class_name=cls["class_name"],
                                   accuracy=cls["accuracy"], precision=cls["precision"], support=cls["support"])
        for counts in report["confusion"]:
            evaluation.confusion_matrix.add(counts=counts)
    return message


def operation(row: OperationRow) -> common_pb2.Operation:
    elapsed = max(((row.updated_at - row.created_at).total_seconds() if row.updated_at and row.created_at else 0.0),
                  1e-9)
    rate = row.done / elapsed if row.done else 0.0
    eta = (row.total - row.done) / rate if rate and row.state not in ("succeeded", "failed") else 0.0
    return common_pb2.Operation(
        operation_id=row.operation_id, kind="score_pool", project_id=row.project_id, state=STATES[row.state],
        progress=common_pb2.Progress(done=row.done, total=row.total, rate_per_s=rate, eta_s=eta, unit="items"),
        error_message=row.error_message, counters={k: int(v) for k, v in (row.counters or {}).items()},
        created_by=row.created_by, created_at=to_timestamp(row.created_at), updated_at=to_timestamp(row.updated_at),
        finished_at=to_timestamp(row.finished_at))
