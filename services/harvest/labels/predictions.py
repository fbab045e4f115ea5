"""Model output stored per item: predictions (read by the labeling queue) and suspected label errors.

Scores are computed here from the probabilities (confidence, margin, entropy), never trusted from the
caller, and written once; queue strategies only read them (MONAI Label's split between scoring and
choosing). A suspicion stays open while its item is unchanged since it was recorded: annotating the item
again (confirming or correcting) closes it without any extra write on the labeling path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import InvalidArgument, NotFound
from harvest.labels import policies
from harvest.labels.db import Database
from harvest.labels.models import Item, LabelClass, Prediction, SuspectedError, utcnow
from harvest.labels.paging import after_key, page_request

MAX_PREDICTIONS = 2000
MAX_SUSPICIONS = 5000
MAX_EMBEDDING = 4096
PROBABILITY_TOLERANCE = 1e-3
DETECTOR_MAX = 64


@dataclass(frozen=True, slots=True)
class ClassProbability:
    class_id: str
    class_name: str
    probability: float


@dataclass(frozen=True, slots=True)
class PredictionSpec:
    item_id: str
    probabilities: Sequence[ClassProbability]
    embedding: Sequence[float] = ()
    embedding_ref: str = ""


@dataclass(frozen=True, slots=True)
class Scores:
    """Uncertainty scores of one probability vector."""

    confidence: float
    margin: float
    entropy: float
    ranked: list[ClassProbability] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SuspicionSpec:
    item_id: str
    score: float
    suggested_class_id: str = ""


def score(probabilities: Sequence[ClassProbability]) -> Scores:
    """Confidence (top-1), margin (top-1 minus top-2) and entropy (nats) of a full distribution."""
    if not probabilities:
        raise InvalidArgument("a prediction needs its class probabilities")
    values = [p.probability for p in probabilities]
    if any(not 0 <= v <= 1 or math.isnan(v) for v in values):
        raise InvalidArgument("probabilities must lie in [0, 1]")
    if abs(sum(values) - 1) > PROBABILITY_TOLERANCE * max(1, len(values)):
        raise InvalidArgument(f"probabilities sum to {sum(values):.4f}, not 1: send the full distribution")
    ranked = sorted(probabilities, key=lambda p: p.probability, reverse=True)
    top = ranked[0].probability
    second = ranked[1].probability if len(ranked) > 1 else 0.0
    entropy = -sum(v * math.log(v) for v in values if v > 0)
    return Scores(top, top - second, entropy, ranked)


def latest_model_id(session: Session, project_id: str) -> str | None:
    """The model whose predictions the project shows: the one that wrote most recently."""
    return session.scalar(select(Prediction.model_id).where(Prediction.project_id == project_id)
                          .order_by(Prediction.created_at.desc()).limit(1))


def open_suspicion(item: Any) -> ColumnElement[bool]:
    """SQL condition: the item has an open suspected error."""
    return select(SuspectedError.id).where(
        SuspectedError.item_id == item.id, SuspectedError.cleared_at.is_(None),
        SuspectedError.item_version == item.version).exists()


def embedding_of(row: Prediction) -> np.ndarray | None:
    return None if row.embedding is None else np.frombuffer(row.embedding, dtype=np.float32)


class ModelOutputs:
    """PutPredictions, PutSuspectedErrors, ListSuspectedErrors."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put_predictions(self, principal: Principal, project_id: str, model_id: str,
                        predictions: Sequence[PredictionSpec]) -> int:
        if not model_id or len(model_id) > 64:
            raise InvalidArgument("model_id is required (at most 64 characters)")
        if not 1 <= len(predictions) <= MAX_PREDICTIONS:
            raise InvalidArgument(f"send 1 to {MAX_PREDICTIONS} predictions")
        rows = []
        now = utcnow()
        for spec in predictions:
            scores = score(spec.probabilities)
            if len(spec.embedding) > MAX_EMBEDDING:
                raise InvalidArgument(f"embedding of item {spec.item_id} has more than {MAX_EMBEDDING} dimensions")
            embedding = np.asarray(spec.embedding, dtype=np.float32).tobytes() if spec.embedding else None
            top = scores.ranked[0]
            rows.append({"item_id": spec.item_id, "model_id": model_id, "project_id": project_id,
                         "predicted_class_id": top.class_id, "predicted_class_name": top.class_name,
                         "confidence": scores.confidence, "entropy": scores.entropy, "margin": scores.margin,
                         "probabilities": [[p.class_id, p.class_name, p.probability] for p in scores.ranked],
                         "embedding": embedding, "embedding_ref": spec.embedding_ref, "created_at": now})
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            policies.put_model_output(principal, access)
            self._check_items(session, project_id, {r["item_id"] for r in rows})
            known = set(session.scalars(select(LabelClass.id).where(LabelClass.project_id == project_id)))
            unknown = {p[0] for r in rows for p in r["probabilities"] if p[0] and p[0] not in known}
            if unknown:
                raise InvalidArgument(f"unknown class id(s) {', '.join(sorted(unknown)[:5])}; leave class_id empty "
                                      "for classes the project does not have")
            statement = self._db.insert(Prediction)
            excluded = statement.excluded
            session.execute(statement.on_conflict_do_update(
                index_elements=["item_id", "model_id"],
                set_={name: getattr(excluded, name) for name in (
                    "predicted_class_id", "predicted_class_name", "confidence", "entropy", "margin",
                    "probabilities", "embedding", "embedding_ref", "created_at")}), rows)
        return len(rows)

    @staticmethod
    def _check_items(session: Session, project_id: str, ids: set[str]) -> None:
        found: set[str] = set()
        id_list = sorted(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start:start + 500]
            found.update(session.scalars(select(Item.id).where(Item.project_id == project_id, Item.id.in_(chunk))))
        missing = ids - found
        if missing:
            raise NotFound(f"no item(s) {', '.join(sorted(missing)[:5])} in this project")

    def put_suspected(self, principal: Principal, project_id: str, detector: str, model_id: str,
                      suspicions: Sequence[SuspicionSpec], replace: bool) -> tuple[int, int]:
        if not detector or len(detector) > DETECTOR_MAX:
            raise InvalidArgument(f"detector is required (at most {DETECTOR_MAX} characters)")
        if len(suspicions) > MAX_SUSPICIONS:
            raise InvalidArgument(f"send at most {MAX_SUSPICIONS} suspicions")
        for spec in suspicions:
            if not 0 <= spec.score <= 1 or math.isnan(spec.score):
                raise InvalidArgument(f"score of item {spec.item_id} must lie in [0, 1]")
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            policies.put_model_output(principal, access)
            cleared = 0
            if replace:
                cleared = session.execute(
                    update(SuspectedError).where(SuspectedError.project_id == project_id,
                                                 SuspectedError.detector == detector,
                                                 SuspectedError.cleared_at.is_(None))
                    .values(cleared_at=utcnow()).execution_options(synchronize_session=False)).rowcount or 0
            items = {}
            ids = sorted({s.item_id for s in suspicions})
            for start in range(0, len(ids), 500):
                items.update((i.id, i) for i in session.scalars(select(Item).where(
                    Item.project_id == project_id, Item.id.in_(ids[start:start + 500]))))
            missing = [s.item_id for s in suspicions if s.item_id not in items]
            if missing:
                raise NotFound(f"no item(s) {', '.join(missing[:5])} in this project")
            unlabeled = [s.item_id for s in suspicions if items[s.item_id].class_id is None]
            if unlabeled:
                raise InvalidArgument(f"item(s) {', '.join(unlabeled[:5])} have no label to suspect")
            session.add_all(SuspectedError(
                project_id=project_id, item_id=s.item_id, detector=detector, model_id=model_id, score=s.score,
                given_class_id=items[s.item_id].class_id, suggested_class_id=s.suggested_class_id or None,
                item_version=items[s.item_id].version) for s in suspicions)
        return len(suspicions), cleared

    def list_suspected(self, principal: Principal, project_id: str, min_score: float, detector: str,
                       page_size: int, page_token: str) -> tuple[list[tuple[Item, SuspectedError]], str, int]:
        """Open suspicions, highest score first."""
        if not 0 <= min_score <= 1:
            raise InvalidArgument("min_score must lie in [0, 1]")
        page = page_request(page_size, page_token, "suspected", project_id, min_score, detector)
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            conditions = [SuspectedError.project_id == project_id, SuspectedError.cleared_at.is_(None),
                          SuspectedError.score >= min_score,
                          and_(Item.id == SuspectedError.item_id, Item.version == SuspectedError.item_version)]
            if detector:
                conditions.append(SuspectedError.detector == detector)
            total = session.scalar(select(func.count()).select_from(SuspectedError).join(
                Item, Item.id == SuspectedError.item_id).where(*conditions)) or 0
            statement = select(Item, SuspectedError).join(Item, Item.id == SuspectedError.item_id).where(*conditions)
            order = [(SuspectedError.score, True), (SuspectedError.id, False)]
            if page.after is not None:
                statement = statement.where(after_key(order, page.after))
            rows = list(session.execute(statement.order_by(SuspectedError.score.desc(), SuspectedError.id)
                                        .limit(page.size + 1)).all())
        return rows[:page.size], page.next_token(rows, lambda r: (r[1].score, r[1].id)), total
