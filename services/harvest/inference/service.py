"""Assembles the inference service from settings (registry database, object store, links to labels and
storage, runtime, scoring) behind one core object the servicer calls; tests build it the same way.

Nothing here imports torch: it is imported when the first model is loaded, so the server is healthy at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from harvest.client import HarvestClient
from harvest.common.database import make_engine, migrate, session_factory
from harvest.common.errors import FailedPrecondition, HarvestError, InvalidArgument, NotFound
from harvest.common.objectstore import ObjectStore, open_store
from harvest.common.peers import Caller
from harvest.common.runs import SUSPECTED_ERRORS
from harvest.common.settings import EndpointSettings, ObjectStoreSettings, TLSSettings
from harvest.inference import export as exports
from harvest.inference import package as packages
from harvest.inference.links import ServiceLinks
from harvest.inference.predictor import Input, Options, Predictor, Result
from harvest.inference.registry import Registry
from harvest.inference.runtime import Runtime
from harvest.inference.scoring import ScoreOptions, Scoring
from harvest.inference.settings import InferenceSettings
from harvest.inference.tables import ModelRow, OperationRow
from harvest.v1 import labels_pb2

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True, slots=True)
class Registration:
    model: ModelRow
    scoring_operation_id: str
    already_registered: bool


class InferenceCore:
    """Every RPC's behaviour in plain Python; errors are HarvestErrors mapped to status codes by the server."""

    def __init__(self, store: ObjectStore, registry: Registry, links: ServiceLinks, runtime: Runtime,
                 scoring: Scoring, predictor: Predictor) -> None:
        self.store = store
        self.registry = registry
        self.links = links
        self.runtime = runtime
        self.scoring = scoring
        self.predictor = predictor

    # -- registry -------------------------------------------------------------------------------------------
    def register_model(self, caller: Caller, job_id: str, *, promote: bool, score_pool: bool,
                       flag_suspected_errors: bool) -> Registration:
        registered = self.registry.register(caller, job_id)
        row = registered.model
        if registered.already_registered:
            return Registration(row, row.scoring_operation_id if score_pool else "", True)
        try:
            self.runtime.model(row)  # a package that does not load is refused now, not at the first prediction
        except FailedPrecondition:
            self._unregister(row)
            raise
        if promote and row.kind == "classifier":
            row, _ = self.registry.promote(caller, row.model_id)
        self._noisy_label_scores(caller, row)
        operation_id = ""
        if score_pool and row.kind == "classifier":
            operation = self.scoring.launch(caller, row, ScoreOptions(
                unlabeled_only=False, flag_suspected_errors=flag_suspected_errors, include_embeddings=True))
            operation_id = operation.operation_id
            row = self.registry.find(row.model_id)
        return Registration(row, operation_id, False)

    def _unregister(self, row: ModelRow) -> None:
        self.registry.remove(row.model_id)
        for name in (packages.PACKAGE_FILE, packages.WEIGHTS_FILE):
            self.store.delete(row.package_prefix + name)

    def _noisy_label_scores(self, caller: Caller, row: ModelRow) -> None:
        """Per-item noisy-label scores a job wrote (`runs/<job>/suspected_errors.jsonl`) go to labels."""
        try:
            raw = self.store.get(f"runs/{row.job_id}/{SUSPECTED_ERRORS}")
        except NotFound:
            return
        errors = []
        for line in raw.decode().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            suggested = entry.get("suggested_class_id") or ""
            if not suggested and entry.get("suggested_class") in row.class_names:
                suggested = row.class_ids[row.class_names.index(entry["suggested_class"])]
            errors.append(labels_pb2.NewSuspectedError(item_id=str(entry["item_id"]),
                                                       score=min(1.0, max(0.0, float(entry["score"]))),
                                                       suggested_class_id=suggested))
        try:
            for start in range(0, len(errors), 5000):
                self.links.put_suspected(caller, row.project_id, row.model_id, row.algorithm or "noisy_labels",
                                         errors[start:start + 5000], replace=start == 0)
        except HarvestError as exc:
            log.warning("noisy-label scores of job %s not stored: %s", row.job_id, exc.message)

    # -- prediction -----------------------------------------------------------------------------------------
    def predict(self, caller: Caller, options: Options, inputs: list[Input]) -> tuple[ModelRow, list[Result]]:
        return self.predictor.predict(caller, options, inputs)

    def predict_stream(self, caller: Caller, options: Options,
                       inputs: Iterable[Input]) -> tuple[ModelRow, Iterator[Result]]:
        return self.predictor.stream(caller, options, inputs)

    # -- scoring --------------------------------------------------------------------------------------------
    def score_pool(self, caller: Caller, project_id: str, model_id: str, options: ScoreOptions,
                   force: bool) -> tuple[OperationRow, bool]:
        return self.scoring.start(caller, project_id, model_id, options, force)

    # -- export ---------------------------------------------------------------------------------------------
    def export(self, caller: Caller, model_id: str, fmt: str, opset: int,
               dynamic_batch: bool) -> tuple[ModelRow, exports.Artifact, Iterator[bytes]]:
        if fmt not in (exports.TORCHSCRIPT, exports.ONNX):
            raise InvalidArgument("format is required: EXPORT_FORMAT_TORCHSCRIPT or EXPORT_FORMAT_ONNX")
        exports.check_opset(fmt, opset)
        row = self.registry.get(caller, model_id)
        network = self.runtime.model(row).network
        artifact = exports.export(self.store, row, network, fmt, opset, dynamic_batch)
        return row, artifact, self.store.iter_chunks(artifact.key, 1024 * 1024)

    def close(self) -> None:
        self.scoring.close()
        self.runtime.close()


@dataclass
class InferenceService:
    core: InferenceCore
    engine: Engine
    client: HarvestClient

    def close(self) -> None:
        self.core.close()
        self.client.close()
        self.engine.dispose()


def build_inference(home: Path, *, settings: InferenceSettings | None = None,
                    store_settings: ObjectStoreSettings | None = None, endpoints: EndpointSettings | None = None,
                    tls: TLSSettings | None = None, store: ObjectStore | None = None) -> InferenceService:
    settings = settings or InferenceSettings()
    store = store or open_store(store_settings or ObjectStoreSettings(), home)
    url = settings.resolved_db_url(home)
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    sessions = session_factory(engine)
    client = HarvestClient(endpoints or EndpointSettings(), tls=tls)
    links = ServiceLinks(client, settings.membership_ttl_s)
    registry = Registry(sessions, store, links.project)
    runtime = Runtime(store, settings)
    scoring = Scoring(sessions, registry, links, store, runtime, settings)
    scoring.recover()
    predictor = Predictor(registry, links, runtime, settings)
    return InferenceService(InferenceCore(store, registry, links, runtime, scoring, predictor), engine, client)
