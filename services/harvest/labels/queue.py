"""The labeling queue: which items an annotator should label next, and leases so two annotators never get
the same item at once.

As in MONAI Label, scoring and choosing are apart: PutPredictions stored each item's uncertainty scores and
embedding; a strategy here only reads them and picks. Each strategy is one small class. Items the caller
already voted on, items with a decided label, items assigned to someone else and items leased to someone
else are never candidates; items assigned to the caller come first.
"""

from __future__ import annotations

import datetime as dt
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import InvalidArgument, NotFound
from harvest.labels import policies
from harvest.labels.db import Database
from harvest.labels.items import ItemQuery, ItemView, decorate, filter_conditions
from harvest.labels.models import Item, Lease, Prediction, Vote, new_id, utcnow
from harvest.labels.predictions import embedding_of, latest_model_id
from harvest.labels.projects import MAX_LEASE_S
from harvest.labels.states import ItemStatus, QueueStrategy

MAX_N = 100
#: Candidates a diversity strategy considers (sampled beyond that): k-center greedy is O(n·m·d).
DIVERSITY_POOL = 5000
#: Labeled embeddings used as initial centers (sampled beyond that).
DIVERSITY_CENTERS = 10000
#: Hybrid: the k-center step runs over this many times n of the most uncertain candidates.
HYBRID_FACTOR = 10


@dataclass(frozen=True, slots=True)
class Candidate:
    item_id: str
    assigned_to_caller: bool
    confidence: float | None
    margin: float | None
    entropy: float | None


@dataclass(frozen=True, slots=True)
class Pick:
    item_id: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class QueuedItem:
    view: ItemView
    lease: Lease
    score: float
    reason: str


class Pool:
    """What strategies read: the candidates with their scores, and embeddings on demand."""

    def __init__(self, candidates: list[Candidate], embeddings: Callable[[Sequence[str]], dict[str, np.ndarray]],
                 labeled_embeddings: Callable[[], np.ndarray]) -> None:
        self.candidates = candidates
        self._embeddings = embeddings
        self._labeled = labeled_embeddings

    def embeddings(self, item_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self._embeddings(item_ids)

    def labeled_embeddings(self) -> np.ndarray:
        return self._labeled()

    @property
    def has_scores(self) -> bool:
        return any(c.confidence is not None for c in self.candidates)


class Strategy(ABC):
    """Orders candidates; returns at most n picks, best first."""

    kind: QueueStrategy

    def usable(self, pool: Pool) -> bool:
        return True

    @abstractmethod
    def pick(self, pool: Pool, n: int, rng: random.Random) -> list[Pick]: ...


class RandomStrategy(Strategy):
    kind = QueueStrategy.RANDOM

    def pick(self, pool: Pool, n: int, rng: random.Random) -> list[Pick]:
        chosen = rng.sample(pool.candidates, min(n, len(pool.candidates)))
        return [Pick(c.item_id, rng.random(), "random draw") for c in chosen]


class UncertaintyStrategy(Strategy):
    """Highest uncertainty first; candidates without a prediction come last, in random order."""

    label = ""

    def usable(self, pool: Pool) -> bool:
        return pool.has_scores

    @abstractmethod
    def uncertainty(self, candidate: Candidate) -> float: ...

    def pick(self, pool: Pool, n: int, rng: random.Random) -> list[Pick]:
        keyed = [(self.uncertainty(c) if c.confidence is not None else -1.0, rng.random(), c)
                 for c in pool.candidates]
        keyed.sort(key=lambda k: (-k[0], k[1]))
        return [Pick(c.item_id, score, f"{self.label} {score:.3f}" if score >= 0 else "no prediction")
                for score, _, c in keyed[:n]]


class LeastConfidentStrategy(UncertaintyStrategy):
    kind = QueueStrategy.LEAST_CONFIDENT
    label = "1 - confidence"

    def uncertainty(self, candidate: Candidate) -> float:
        return 1.0 - (candidate.confidence or 0.0)


class MarginStrategy(UncertaintyStrategy):
    kind = QueueStrategy.MARGIN
    label = "1 - margin"

    def uncertainty(self, candidate: Candidate) -> float:
        return 1.0 - (candidate.margin or 0.0)


class EntropyStrategy(UncertaintyStrategy):
    kind = QueueStrategy.ENTROPY
    label = "entropy"

    def uncertainty(self, candidate: Candidate) -> float:
        return candidate.entropy or 0.0


def k_center_greedy(points: np.ndarray, centers: np.ndarray, n: int, rng: random.Random) -> list[tuple[int, float]]:
    """Indices of `n` points chosen greedily farthest from `centers` and from each other, with the distance
    each had when chosen (Sener & Savarese, core-set selection)."""
    if len(points) == 0:
        return []
    if len(centers):
        nearest = np.full(len(points), np.inf, dtype=np.float64)
        for start in range(0, len(centers), 1024):
            block = centers[start:start + 1024]
            distances = ((points[:, None, :] - block[None, :, :]) ** 2).sum(-1)
            nearest = np.minimum(nearest, distances.min(axis=1))
    else:
        nearest = np.full(len(points), np.inf, dtype=np.float64)
    chosen: list[tuple[int, float]] = []
    for _ in range(min(n, len(points))):
        if np.isinf(nearest).all():
            index = rng.randrange(len(points))
        else:
            index = int(np.argmax(nearest))
        chosen.append((index, float(np.sqrt(nearest[index])) if np.isfinite(nearest[index]) else 0.0))
        nearest = np.minimum(nearest, ((points - points[index]) ** 2).sum(-1))
        nearest[index] = -1.0
    return chosen


class DiversityStrategy(Strategy):
    """k-center greedy over embeddings: items farthest from everything labeled or already chosen."""

    kind = QueueStrategy.DIVERSITY

    def usable(self, pool: Pool) -> bool:
        return bool(pool.embeddings([c.item_id for c in pool.candidates[:1]])) if pool.candidates else False

    def pick(self, pool: Pool, n: int, rng: random.Random) -> list[Pick]:
        return self._k_center(pool, pool.candidates, n, rng)

    @staticmethod
    def _k_center(pool: Pool, candidates: Sequence[Candidate], n: int, rng: random.Random) -> list[Pick]:
        if len(candidates) > DIVERSITY_POOL:
            candidates = rng.sample(list(candidates), DIVERSITY_POOL)
        vectors = pool.embeddings([c.item_id for c in candidates])
        usable = [c for c in candidates if c.item_id in vectors]
        if not usable:
            return []
        points = np.stack([vectors[c.item_id] for c in usable]).astype(np.float64)
        centers = pool.labeled_embeddings()
        if len(centers) > DIVERSITY_CENTERS:
            centers = centers[rng.sample(range(len(centers)), DIVERSITY_CENTERS)]
        if len(centers) and centers.shape[1] != points.shape[1]:
            centers = centers[:0]
        return [Pick(usable[i].item_id, distance, f"distance {distance:.3f} from labeled set")
                for i, distance in k_center_greedy(points, centers.astype(np.float64), n, rng)]


def k_means_representatives(points: np.ndarray, weights: np.ndarray, n: int, rng: random.Random,
                            iterations: int = 20) -> list[int]:
    """Indices of `n` points: the member nearest the centre of each of the `n` heaviest clusters of a
    weighted k-means with 2n clusters.

    Cluster representatives instead of the farthest points keep a batch diverse without filling it with
    outliers, which is what a young model's most uncertain images mostly are (Zhdanov 2019, "Diverse
    mini-batch active learning"); clustering into twice as many groups and keeping the heaviest lets an
    outlier take a cluster of its own and be dropped with it. k-means++ seeding with the caller's rng keeps
    it reproducible."""
    count = len(points)
    if count <= n:
        return list(range(count))
    keep, n = n, min(count, 2 * n)
    centers = [points[rng.randrange(count)]]
    nearest = ((points - centers[0]) ** 2).sum(-1)
    for _ in range(n - 1):
        chances = nearest * weights
        total = float(chances.sum())
        index = rng.randrange(count) if total <= 0 else int(np.searchsorted(np.cumsum(chances), rng.random() * total))
        centers.append(points[min(index, count - 1)])
        nearest = np.minimum(nearest, ((points - centers[-1]) ** 2).sum(-1))
    center_array = np.stack(centers)
    for _ in range(iterations):
        assignment = (((points[:, None, :] - center_array[None, :, :]) ** 2).sum(-1)).argmin(1)
        moved = center_array.copy()
        for k in range(n):
            members = assignment == k
            if members.any():
                moved[k] = np.average(points[members], axis=0, weights=weights[members])
        if np.allclose(moved, center_array):
            break
        center_array = moved
    distances = ((points[:, None, :] - center_array[None, :, :]) ** 2).sum(-1)
    mass = np.bincount(distances.argmin(1), weights=weights, minlength=n)
    chosen: list[int] = []
    for k in np.argsort(-mass, kind="stable")[:keep]:  # the member nearest each heavy centre, never twice
        for index in np.argsort(distances[:, k]):
            if int(index) not in chosen:
                chosen.append(int(index))
                break
    return chosen


class HybridStrategy(DiversityStrategy):
    """The most uncertain candidates (entropy), then one representative per cluster among them, clusters
    weighted by uncertainty: informative, diverse, and not a batch of outliers."""

    kind = QueueStrategy.HYBRID

    def usable(self, pool: Pool) -> bool:
        return pool.has_scores and super().usable(pool)

    def pick(self, pool: Pool, n: int, rng: random.Random) -> list[Pick]:
        uncertain = EntropyStrategy().pick(pool, n * HYBRID_FACTOR, rng)
        vectors = pool.embeddings([p.item_id for p in uncertain])
        usable = [p for p in uncertain if p.item_id in vectors]
        if not usable:
            return uncertain[:n]
        points = np.stack([vectors[p.item_id] for p in usable]).astype(np.float64)
        weights = np.array([max(p.score, 1e-6) for p in usable], dtype=np.float64)
        return [Pick(usable[i].item_id, usable[i].score, f"entropy {usable[i].score:.3f}, representative of "
                                                         "its cluster")
                for i in k_means_representatives(points, weights, n, rng)]


STRATEGIES: dict[QueueStrategy, Strategy] = {s.kind: s for s in (
    RandomStrategy(), LeastConfidentStrategy(), MarginStrategy(), EntropyStrategy(), DiversityStrategy(),
    HybridStrategy())}


class LabelingQueue:
    """NextItems and ReleaseLease."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def next_items(self, principal: Principal, project_id: str, n: int, strategy: QueueStrategy, lease_s: int,
                   model_id: str, seed: int, query: ItemQuery) -> tuple[list[QueuedItem], QueueStrategy, str]:
        if not 1 <= n <= MAX_N:
            raise InvalidArgument(f"n must be between 1 and {MAX_N}")
        if not 0 <= lease_s <= MAX_LEASE_S:
            raise InvalidArgument(f"lease_s must be between 0 and {MAX_LEASE_S}")
        rng = random.Random(seed or None)
        now = utcnow()
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.annotate(principal, access)
            model = self._model(session, project_id, model_id)
            pool = self._pool(session, principal, project_id, model, query, now)
            chosen = STRATEGIES[strategy]
            if not chosen.usable(pool):
                chosen = STRATEGIES[QueueStrategy.RANDOM]
            assigned = [Pick(c.item_id, 1.0, "assigned") for c in pool.candidates if c.assigned_to_caller]
            rest = Pool([c for c in pool.candidates if not c.assigned_to_caller], pool.embeddings,
                        pool.labeled_embeddings)
            picks = (assigned + chosen.pick(rest, 3 * n, rng))[:3 * n]
        expires = now + dt.timedelta(seconds=lease_s or access.project.lease_s)
        with self._db.write() as session:
            leases = self._lease(session, principal, project_id, [p.item_id for p in picks], n, now, expires)
            items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(list(leases))))}
            views = {v.item.id: v for v in decorate(session, access, principal, list(items.values()), model)}
        queued = [QueuedItem(views[p.item_id], leases[p.item_id], p.score, p.reason) for p in picks
                  if p.item_id in leases]
        used = chosen.kind
        return queued, used, model if used != QueueStrategy.RANDOM and model else ""

    def release(self, principal: Principal, project_id: str, lease_ids: Sequence[str]) -> int:
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            statement = delete(Lease).where(Lease.project_id == project_id, Lease.user_id == principal.user_id)
            if lease_ids:
                statement = statement.where(Lease.lease_id.in_(list(lease_ids)))
            return int(session.execute(statement).rowcount or 0)

    @staticmethod
    def _model(session: Session, project_id: str, model_id: str) -> str | None:
        if not model_id:
            return latest_model_id(session, project_id)
        exists = session.scalar(select(Prediction.item_id).where(Prediction.project_id == project_id,
                                                                 Prediction.model_id == model_id).limit(1))
        if exists is None:
            raise NotFound(f"model {model_id!r} has no predictions in this project")
        return model_id

    def _pool(self, session: Session, principal: Principal, project_id: str, model: str | None, query: ItemQuery,
              now: dt.datetime) -> Pool:
        me = principal.user_id
        prediction = Prediction.__table__.alias("p")
        voted = select(Vote.item_id).where(Vote.item_id == Item.id, Vote.user_id == me).exists()
        leased = select(Lease.item_id).where(Lease.item_id == Item.id, Lease.user_id != me,
                                             Lease.expires_at > now).exists()
        statement = (select(Item.id, Item.assigned_to, prediction.c.confidence, prediction.c.margin,
                            prediction.c.entropy)
                     .outerjoin(prediction, and_(prediction.c.item_id == Item.id,
                                                 prediction.c.model_id == (model or ""))))
        statement = statement.where(
            Item.project_id == project_id, Item.status.in_((ItemStatus.UNLABELED, ItemStatus.IN_PROGRESS)),
            or_(Item.assigned_to.is_(None), Item.assigned_to == me), ~voted, ~leased,
            *filter_conditions(query, prediction.c)).order_by(Item.id)
        candidates = [Candidate(item_id, assigned == me, confidence, margin, entropy)
                      for item_id, assigned, confidence, margin, entropy in session.execute(statement).all()]

        def embeddings(item_ids: Sequence[str]) -> dict[str, np.ndarray]:
            if not model or not item_ids:
                return {}
            found: dict[str, np.ndarray] = {}
            ids = list(item_ids)
            for start in range(0, len(ids), 500):
                for row in session.scalars(select(Prediction).where(
                        Prediction.model_id == model, Prediction.item_id.in_(ids[start:start + 500]),
                        Prediction.embedding.is_not(None))):
                    vector = embedding_of(row)
                    if vector is not None:
                        found[row.item_id] = vector
            return found

        def labeled() -> np.ndarray:
            if not model:
                return np.zeros((0, 0))
            rows = session.scalars(select(Prediction.embedding).join(Item, Item.id == Prediction.item_id).where(
                Prediction.model_id == model, Prediction.project_id == project_id, Item.class_id.is_not(None),
                Prediction.embedding.is_not(None)))
            vectors = [np.frombuffer(raw, dtype=np.float32) for raw in rows]
            return np.stack(vectors) if vectors else np.zeros((0, 0))

        return Pool(candidates, embeddings, labeled)

    def _lease(self, session: Session, principal: Principal, project_id: str, item_ids: Sequence[str], n: int,
               now: dt.datetime, expires: dt.datetime) -> dict[str, Lease]:
        """Lease up to n of `item_ids` in order; an item leased meanwhile to someone else is skipped."""
        leased: dict[str, Lease] = {}
        for item_id in item_ids:
            if len(leased) == n:
                break
            statement = self._db.insert(Lease).values(item_id=item_id, lease_id=new_id(), project_id=project_id,
                                                      user_id=principal.user_id, expires_at=expires)
            statement = statement.on_conflict_do_update(
                index_elements=["item_id"],
                set_={"lease_id": statement.excluded.lease_id, "user_id": statement.excluded.user_id,
                      "expires_at": statement.excluded.expires_at, "project_id": statement.excluded.project_id},
                where=or_(Lease.user_id == principal.user_id, Lease.expires_at <= now))
            row = session.execute(statement.returning(Lease.lease_id, Lease.expires_at)).first()
            if row is not None:
                leased[item_id] = Lease(item_id=item_id, lease_id=row[0], project_id=project_id,
                                        user_id=principal.user_id, expires_at=row[1])
        return leased
