"""Pool scoring: predict every item of a project with a model, store the predictions in labels, and flag
suspected label errors. Runs in a background thread as an operation (a row) followed by WatchScoring.

A model scores a pool once: asking again returns the earlier operation unless `force` (or it failed).
Predictions go to labels in batches as they are made, so the queue can use them before the end.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from harvest.common.errors import HarvestError, InvalidArgument, NotFound
from harvest.common.objectstore import ObjectStore
from harvest.common.peers import Caller
from harvest.inference import messages
from harvest.inference.links import PoolItem, ServiceLinks
from harvest.inference.registry import Registry
from harvest.inference.runtime import Runtime
from harvest.inference.settings import InferenceSettings
from harvest.inference.suspects import find_suspects
from harvest.inference.tables import ModelRow, OperationRow, utcnow
from harvest.v1 import labels_pb2

log = logging.getLogger(__name__)
PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"
TERMINAL = (SUCCEEDED, FAILED)
DETECTOR = "confident_learning"
SUSPICION_BATCH = 5000


@dataclass(frozen=True, slots=True)
class ScoreOptions:
    unlabeled_only: bool = False
    flag_suspected_errors: bool = False
    include_embeddings: bool = True


class Scoring:
    def __init__(self, sessions: sessionmaker[Session], registry: Registry, links: ServiceLinks, store: ObjectStore,
                 runtime: Runtime, settings: InferenceSettings) -> None:
        self._sessions = sessions
        self._registry = registry
        self._links = links
        self._store = store
        self._runtime = runtime
        self._settings = settings
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []

    def recover(self) -> int:
        """Operations a previous process left unfinished are failed (their thread is gone)."""
        with self._sessions.begin() as session:
            return int(session.execute(update(OperationRow).where(OperationRow.state.in_((PENDING, RUNNING))).values(
                state=FAILED, error_message="interrupted by a restart of the inference service; score again",
                finished_at=utcnow(), updated_at=utcnow())).rowcount or 0)

    # -- starting -------------------------------------------------------------------------------------------
    def start(self, caller: Caller, project_id: str, model_id: str, options: ScoreOptions,
              force: bool = False) -> tuple[OperationRow, bool]:
        if not project_id:
            raise InvalidArgument("project_id is required")
        row = self._registry.usable(caller, model_id, project_id)
        if not force and row.scoring_operation_id:
            earlier = self._find(row.scoring_operation_id)
            if earlier is not None and earlier.state != FAILED:
                return earlier, True
        return self.launch(caller, row, options), False

    def launch(self, caller: Caller, row: ModelRow, options: ScoreOptions) -> OperationRow:
        operation = OperationRow(operation_id=uuid.uuid4().hex, model_id=row.model_id, project_id=row.project_id,
                                 state=PENDING, counters={}, options=vars_of(options),
                                 created_by=caller.principal.user_id, created_at=utcnow(), updated_at=utcnow())
        with self._sessions.begin() as session:
            session.add(operation)
        self._registry.set_scoring_operation(row.model_id, operation.operation_id)
        thread = threading.Thread(target=self._run, args=(caller, row, operation.operation_id, options),
                                  name=f"score-{operation.operation_id[:8]}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return operation

    # -- watching -------------------------------------------------------------------------------------------
    def _find(self, operation_id: str) -> OperationRow | None:
        with self._sessions() as session:
            return session.get(OperationRow, operation_id)

    def get(self, caller: Caller, operation_id: str) -> OperationRow:
        if not operation_id:
            raise InvalidArgument("operation_id is required")
        operation = self._find(operation_id)
        if operation is None:
            raise NotFound(f"no scoring operation {operation_id!r}")
        self._links.project(caller, operation.project_id)
        return operation

    def watch(self, caller: Caller, operation_id: str, poll_s: float = 1.0) -> Iterator[OperationRow]:
        """The current state, then every change, until the operation ends."""
        operation = self.get(caller, operation_id)
        yield operation
        last = (operation.state, operation.done, operation.updated_at)
        while operation.state not in TERMINAL:
            with self._changed:
                self._changed.wait(timeout=poll_s)
            found = self._find(operation_id)
            if found is None:
                return
            operation = found
            if (operation.state, operation.done, operation.updated_at) != last:
                last = (operation.state, operation.done, operation.updated_at)
                yield operation

    def wait(self, operation_id: str, timeout_s: float) -> OperationRow | None:
        """Block until the operation ends (tests, benches); the row, or None on timeout."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            operation = self._find(operation_id)
            if operation is not None and operation.state in TERMINAL:
                return operation
            with self._changed:
                self._changed.wait(timeout=0.2)
        return None

    def _update(self, operation_id: str, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(update(OperationRow).where(OperationRow.operation_id == operation_id)
                            .values(updated_at=utcnow(), **values))
        with self._changed:
            self._changed.notify_all()

    # -- the work -------------------------------------------------------------------------------------------
    def _run(self, caller: Caller, row: ModelRow, operation_id: str, options: ScoreOptions) -> None:
        counters = {"scored": 0, "failed": 0, "suspected_errors": 0}
        try:
            from harvest.inference.network import use_all_cores

            use_all_cores()
            items = list(self._links.pool(caller, row.project_id, options.unlabeled_only))
            self._update(operation_id, state=RUNNING, total=len(items), counters=dict(counters))
            labeled = self._score(caller, row, operation_id, items, options, counters)
            if options.flag_suspected_errors and not options.unlabeled_only:
                counters["suspected_errors"] = self._flag(caller, row, labeled)
            self._update(operation_id, state=SUCCEEDED, counters=dict(counters), finished_at=utcnow())
        except HarvestError as exc:
            log.warning("pool scoring failed: %s", exc.message, extra={"operation": operation_id})
            self._update(operation_id, state=FAILED, error_message=exc.message, counters=dict(counters),
                         finished_at=utcnow())
        except Exception:  # noqa: BLE001 - recorded on the operation; details in the log
            log.exception("pool scoring failed", extra={"operation": operation_id})
            self._update(operation_id, state=FAILED, counters=dict(counters), finished_at=utcnow(),
                         error_message=f"internal error; the inference log has the details (operation {operation_id})")

    def _score(self, caller: Caller, row: ModelRow, operation_id: str, items: list[PoolItem], options: ScoreOptions,
               counters: dict[str, int]) -> list[tuple[str, int, np.ndarray]]:
        """Predict every item; returns (item id, given class index, embedding) of the labeled ones."""
        import torch

        from harvest.inference.preprocess import BadImage, decode

        model = self._runtime.model(row)
        index_of = {class_id: i for i, class_id in enumerate(row.class_ids) if class_id}
        labeled: list[tuple[str, int, np.ndarray]] = []
        outgoing: list[labels_pb2.ItemPrediction] = []
        size = self._settings.scoring_batch

        def load(item: PoolItem) -> Any:
            try:
                data = self._store.get(item.object_key)
                return decode(data, model.prep, max_bytes=1 << 40, max_pixels=1 << 40)
            except (BadImage, HarvestError) as exc:
                log.info("item not scored: %s", exc, extra={"item": item.item_id})
                return None

        done = 0
        with ThreadPoolExecutor(4, thread_name_prefix="score-read") as readers:
            for start in range(0, len(items), size):
                batch = items[start:start + size]
                images = list(readers.map(load, batch))
                ok = [(item, image) for item, image in zip(batch, images, strict=True) if image is not None]
                counters["failed"] += len(batch) - len(ok)
                if ok:
                    outputs = model.run(torch.stack([image for _, image in ok]))
                    for (item, _), probs, embedding in zip(ok, outputs.probabilities, outputs.embeddings,
                                                           strict=True):
                        prediction = messages.prediction(row, probs, embedding if options.include_embeddings else None,
                                                         top_k=len(row.class_names))
                        prediction.model_id = ""
                        outgoing.append(labels_pb2.ItemPrediction(item_id=item.item_id, prediction=prediction))
                        if item.class_id in index_of:
                            labeled.append((item.item_id, index_of[item.class_id], embedding))
                    counters["scored"] += len(ok)
                while len(outgoing) >= self._settings.scoring_put_batch:
                    self._links.put_predictions(caller, row.project_id, row.model_id, operation_id,
                                                outgoing[:self._settings.scoring_put_batch])
                    del outgoing[:self._settings.scoring_put_batch]
                done += len(batch)
                self._update(operation_id, done=done, counters=dict(counters))
        if outgoing:
            self._links.put_predictions(caller, row.project_id, row.model_id, operation_id, outgoing)
        return labeled

    def _flag(self, caller: Caller, row: ModelRow, labeled: list[tuple[str, int, np.ndarray]]) -> int:
        if not labeled:
            return 0
        embeddings = np.stack([e for _, _, e in labeled])
        labels = np.array([label for _, label, _ in labeled], dtype=np.int64)
        found = find_suspects(embeddings, labels, len(row.class_names), self._settings.cv_folds)
        errors = [labels_pb2.NewSuspectedError(item_id=labeled[s.index][0], score=s.score,
                                               suggested_class_id=row.class_ids[s.suggested])
                  for s in found]
        stored = 0
        for start in range(0, max(1, len(errors)), SUSPICION_BATCH):
            # An empty first call still clears this detector's earlier suspicions (replace).
            stored += self._links.put_suspected(caller, row.project_id, row.model_id, DETECTOR,
                                                errors[start:start + SUSPICION_BATCH], replace=start == 0)
        return stored

    def close(self, timeout_s: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout_s)


def vars_of(options: ScoreOptions) -> dict[str, bool]:
    return {"unlabeled_only": options.unlabeled_only, "flag_suspected_errors": options.flag_suspected_errors,
            "include_embeddings": options.include_embeddings}


def latest_for_model(sessions: sessionmaker[Session], model_id: str) -> OperationRow | None:
    with sessions() as session:
        return session.scalar(select(OperationRow).where(OperationRow.model_id == model_id)
                              .order_by(OperationRow.created_at.desc()).limit(1))
