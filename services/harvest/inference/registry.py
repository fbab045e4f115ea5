"""The model registry: models registered from finished jobs, one active model per project.

Registration works from the run directory alone: `runs/<job>/model/model.json` names the snapshot, whose
manifest names the project; labels then says whether the caller may act on that project and which class
ids the model's class names are. The package is copied to `models/<model>/` so the registered model no
longer depends on the run (runs may be cleaned up).
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from harvest.common import snapshots
from harvest.common.errors import FailedPrecondition, InvalidArgument, NotFound
from harvest.common.objectstore import ObjectStore, check_key
from harvest.common.peers import Caller
from harvest.inference import package as packages
from harvest.inference.links import ProjectInfo
from harvest.inference.tables import ModelRow, utcnow

READY, ACTIVE, ARCHIVED = "ready", "active", "archived"
CLASSIFIER, BACKBONE = "classifier", "backbone"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
#: How long a prediction reuses a model's row: a status change made by another replica is seen this late
#: (this replica's own changes at once). Reading the row per request was most of a small Predict's time.
ROW_TTL_S = 2.0

#: Checks the caller may act on a project and returns its classes (labels, over gRPC, in the service).
ProjectLookup = Callable[[Caller, str], ProjectInfo]


@dataclass(frozen=True, slots=True)
class Registered:
    model: ModelRow
    already_registered: bool


class Registry:
    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore, project: ProjectLookup) -> None:
        self._sessions = sessions
        self._store = store
        self._project = project
        self._rows: dict[str, tuple[float, ModelRow]] = {}
        self._rows_lock = threading.Lock()

    # -- registration ---------------------------------------------------------------------------------------
    def register(self, caller: Caller, job_id: str) -> Registered:
        if not job_id:
            raise InvalidArgument("job_id is required: the job whose runs/<job_id>/model/ package to register")
        try:
            check_key(f"runs/{job_id}/model")
        except InvalidArgument:
            raise InvalidArgument(f"job_id {job_id!r} is not a valid job id (letters, digits, '.', '_', '-')") from None
        existing = self._by_job(job_id)
        if existing is not None:
            self._project(caller, existing.project_id)
            return Registered(existing, True)
        package = packages.read_run_package(self._store, job_id)
        try:
            manifest = snapshots.loads(self._store.get(snapshots.manifest_key(package.snapshot_id)))
        except NotFound:
            raise FailedPrecondition(f"the package of job {job_id!r} names snapshot {package.snapshot_id!r}, "
                                     "which is not in the object store") from None
        project = self._project(caller, manifest.project_id)
        model_id = uuid.uuid4().hex
        prefix = packages.model_prefix(model_id)
        for name in (packages.PACKAGE_FILE, packages.WEIGHTS_FILE):
            self._store.copy(packages.run_prefix(job_id) + name, prefix + name)
        row = ModelRow(
            model_id=model_id, project_id=manifest.project_id, job_id=job_id, snapshot_id=package.snapshot_id,
            kind=BACKBONE if package.kind == BACKBONE else CLASSIFIER, status=READY, algorithm=package.algorithm,
            backbone=package.arch, class_names=list(package.classes),
            class_ids=[project.class_ids.get(name, "") for name in package.classes],
            preprocessing=package.preprocessing.as_dict(), network=package.network,
            embedding_dim=package.embedding_dim, metrics=_scalar_metrics(package),
            evaluation=packages.evaluation_report(package.metrics, package.classes), package_prefix=prefix,
            created_by=caller.principal.user_id, created_at=utcnow())
        for _ in range(5):
            try:
                with self._sessions.begin() as session:
                    row.version = (session.scalar(select(func.max(ModelRow.version)).where(
                        ModelRow.project_id == row.project_id)) or 0) + 1
                    session.add(row)
                return Registered(row, False)
            except IntegrityError:
                raced = self._by_job(job_id)  # the same job registered meanwhile: idempotent
                if raced is not None:
                    return Registered(raced, True)
                row = _detached_copy(row)  # a version taken meanwhile: try the next one
        raise FailedPrecondition("could not allocate a model version under concurrent registrations; retry")

    def _by_job(self, job_id: str) -> ModelRow | None:
        with self._sessions() as session:
            return session.scalar(select(ModelRow).where(ModelRow.job_id == job_id))

    # -- reading --------------------------------------------------------------------------------------------
    def get(self, caller: Caller, model_id: str) -> ModelRow:
        row = self.find(model_id)
        self._project(caller, row.project_id)
        return row

    def find(self, model_id: str) -> ModelRow:
        """A model by id, without any access check (callers check)."""
        if not model_id:
            raise InvalidArgument("model_id is required")
        with self._sessions() as session:
            row = session.get(ModelRow, model_id)
        if row is None:
            raise NotFound(f"no model {model_id!r}")
        return row

    def list(self, caller: Caller, project_id: str, statuses: Sequence[str], kind: str, page_size: int,
             page_token: str) -> tuple[list[ModelRow], str, int]:
        """Newest (highest version) first; the page token is the last version returned."""
        self._project(caller, project_id)
        if not 0 <= page_size <= MAX_PAGE:
            raise InvalidArgument(f"page_size must be between 0 and {MAX_PAGE}")
        size = page_size or DEFAULT_PAGE
        after = _decode_token(page_token) if page_token else None
        conditions = [ModelRow.project_id == project_id, ModelRow.status.in_(list(statuses) or [READY, ACTIVE])]
        if kind:
            conditions.append(ModelRow.kind == kind)
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(ModelRow).where(*conditions)) or 0
            statement = select(ModelRow).where(*conditions)
            if after is not None:
                statement = statement.where(ModelRow.version < after)
            rows = list(session.scalars(statement.order_by(ModelRow.version.desc()).limit(size + 1)))
        token = _encode_token(rows[size - 1].version) if len(rows) > size else ""
        return rows[:size], token, total

    def usable(self, caller: Caller, model_id: str, project_id: str) -> ModelRow:
        """The model a prediction uses: the given one, or the project's active one; must be a live classifier."""
        if not model_id and not project_id:
            raise InvalidArgument("give model_id, or project_id to use the project's active model")
        if model_id:
            row = self._recent(model_id)
            self._project(caller, row.project_id)
            if project_id and project_id != row.project_id:
                raise FailedPrecondition(f"model {model_id} belongs to project {row.project_id}, not {project_id}")
        else:
            self._project(caller, project_id)
            with self._sessions() as session:
                row = session.scalar(select(ModelRow).where(ModelRow.project_id == project_id,
                                                            ModelRow.status == ACTIVE))
            if row is None:
                raise NotFound(f"project {project_id} has no active model: promote one (PromoteModel) or pass "
                               "model_id")
        if row.status == ARCHIVED:
            raise FailedPrecondition(f"model {row.model_id} is archived; use another model")
        if row.kind == BACKBONE:
            raise FailedPrecondition(f"model {row.model_id} is a backbone: it has no classifier to predict with")
        return row

    def _recent(self, model_id: str) -> ModelRow:
        """`find`, reusing a row read less than ROW_TTL_S ago (rows are detached, read-only copies)."""
        now = time.monotonic()
        with self._rows_lock:
            cached = self._rows.get(model_id)
        if cached is not None and now - cached[0] < ROW_TTL_S:
            return cached[1]
        row = self.find(model_id)
        with self._rows_lock:
            if len(self._rows) > 1024:
                self._rows.clear()
            self._rows[model_id] = (now, row)
        return row

    def _forget(self, *model_ids: str) -> None:
        with self._rows_lock:
            for model_id in model_ids:
                self._rows.pop(model_id, None)

    # -- status changes -------------------------------------------------------------------------------------
    def promote(self, caller: Caller, model_id: str) -> tuple[ModelRow, str]:
        row = self.get(caller, model_id)
        if row.status == ARCHIVED:
            raise FailedPrecondition(f"model {model_id} is archived and cannot become active")
        if row.kind == BACKBONE:
            raise FailedPrecondition(f"model {model_id} is a backbone and cannot become the active classifier")
        with self._sessions.begin() as session:
            previous = session.scalar(select(ModelRow).where(ModelRow.project_id == row.project_id,
                                                             ModelRow.status == ACTIVE).with_for_update())
            if previous is not None and previous.model_id == model_id:
                return previous, ""
            previous_id = ""
            if previous is not None:
                previous.status = READY
                previous_id = previous.model_id
                session.flush()
            current = session.get(ModelRow, model_id)
            assert current is not None
            current.status = ACTIVE
            current.promoted_at = utcnow()
            current.promoted_by = caller.principal.user_id
        self._forget(model_id, previous_id)
        return current, previous_id

    def archive(self, caller: Caller, model_id: str) -> ModelRow:
        row = self.get(caller, model_id)
        if row.status == ACTIVE:
            raise FailedPrecondition(f"model {model_id} is the project's active model: promote another first")
        if row.status != ARCHIVED:
            with self._sessions.begin() as session:
                session.execute(update(ModelRow).where(ModelRow.model_id == model_id).values(status=ARCHIVED))
            self._forget(model_id)
        return self.find(model_id)

    def remove(self, model_id: str) -> None:
        """Undo a registration whose package turned out unusable (never called for a used model)."""
        with self._sessions.begin() as session:
            session.execute(delete(ModelRow).where(ModelRow.model_id == model_id))
        self._forget(model_id)

    def set_scoring_operation(self, model_id: str, operation_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(update(ModelRow).where(ModelRow.model_id == model_id)
                            .values(scoring_operation_id=operation_id))


def _scalar_metrics(package: packages.Package) -> dict[str, float]:
    metrics = {"train_steps": float(package.steps)}
    if "accuracy" in package.metrics:
        metrics["val_accuracy"] = float(package.metrics["accuracy"])
    if "validation_images" in package.metrics:
        metrics["val_images"] = float(package.metrics["validation_images"])
    return metrics


def _detached_copy(row: ModelRow) -> ModelRow:
    columns = {c.key: getattr(row, c.key) for c in ModelRow.__table__.columns}
    return ModelRow(**columns)


def _encode_token(version: int) -> str:
    return base64.urlsafe_b64encode(f"models:{version}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "models":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("page_token is not one this call returned; start again without it") from None
