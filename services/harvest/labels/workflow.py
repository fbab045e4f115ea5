"""The multi-annotator workflow: assignment, agreement, the review queue and reviewers' final decisions.

A project requiring K > 1 annotations derives an item's label from K agreeing votes (see derivation);
items whose votes disagree wait in the review queue, where an expert's decision is final: it is recorded as
a REVIEW event and later votes no longer change the label.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import FailedPrecondition, InvalidArgument, NotFound
from harvest.labels import audit, policies
from harvest.labels.agreement import VoteSummary, cohen_kappa, fleiss_kappa, summarize
from harvest.labels.annotations import active_class, conflict, lock_item
from harvest.labels.db import Database
from harvest.labels.events import EventWriter, WriteRequest, WriteResult
from harvest.labels.items import ItemView, decorate
from harvest.labels.members import user_named
from harvest.labels.models import Annotation, Item, Membership, Vote
from harvest.labels.paging import page_request
from harvest.labels.states import AnnotationKind, ItemStatus, LabelSource

MAX_ASSIGN = 10_000
MAX_AGREEMENT_ITEMS = 1000
MAX_COMMENT = 1000


@dataclass(frozen=True, slots=True)
class PairAgreement:
    user_a: str
    user_b: str
    kappa: float
    shared_items: int


@dataclass(frozen=True, slots=True)
class ProjectAgreement:
    fleiss_kappa: float
    mean_cohen_kappa: float
    pairs: list[PairAgreement]
    items_compared: int
    items_in_disagreement: int


@dataclass(frozen=True, slots=True)
class ItemAgreement:
    item_id: str
    summary: VoteSummary


@dataclass(frozen=True, slots=True)
class ReviewTask:
    view: ItemView
    agreement: ItemAgreement
    annotations: list[Annotation] = field(default_factory=list)


def votes_by_item(session: Session, project_id: str) -> dict[str, dict[str, str]]:
    """item id → {user id → class id} of current (non-cleared) votes."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for item_id, user_id, class_id in session.execute(select(Vote.item_id, Vote.user_id, Vote.class_id).where(
            Vote.project_id == project_id, Vote.class_id.is_not(None))).all():
        found[item_id][user_id] = class_id
    return found


def project_agreement(votes: dict[str, dict[str, str]], in_disagreement: int) -> ProjectAgreement:
    shared: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for by_user in votes.values():
        for a, b in combinations(sorted(by_user), 2):
            shared[(a, b)].append((by_user[a], by_user[b]))
    pairs = [PairAgreement(a, b, cohen_kappa(rows), len(rows)) for (a, b), rows in sorted(shared.items())]
    defined = [(p.kappa, p.shared_items) for p in pairs if not math.isnan(p.kappa)]
    weight = sum(n for _, n in defined)
    mean = sum(k * n for k, n in defined) / weight if weight else math.nan
    compared = [summarize(by_user.values()).votes for by_user in votes.values() if len(by_user) >= 2]
    return ProjectAgreement(fleiss_kappa(compared), mean, pairs, len(compared), in_disagreement)


class Workflow:
    """AssignItems, GetAgreement, ListReviewQueue, Review."""

    def __init__(self, db: Database, events: EventWriter) -> None:
        self._db = db
        self._events = events

    def assign(self, principal: Principal, project_id: str, username: str, item_ids: Sequence[str],
               count: int) -> list[str]:
        if not item_ids and not 1 <= count <= MAX_ASSIGN:
            raise InvalidArgument(f"name item_ids or a count between 1 and {MAX_ASSIGN}")
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            policies.assign_items(principal, access)
            user = user_named(session, username)
            if session.get(Membership, (project_id, user.id)) is None:
                raise FailedPrecondition(f"user {username!r} is not a member of this project; add them first")
            if item_ids:
                ids = list(dict.fromkeys(item_ids))
                found = set(session.scalars(select(Item.id).where(Item.project_id == project_id, Item.id.in_(ids))))
                missing = [i for i in ids if i not in found]
                if missing:
                    raise NotFound(f"no item(s) {', '.join(missing[:5])} in this project")
            else:
                voted = select(Vote.item_id).where(Vote.user_id == user.id, Vote.project_id == project_id)
                ids = list(session.scalars(select(Item.id).where(
                    Item.project_id == project_id, Item.assigned_to.is_(None),
                    Item.status.in_((ItemStatus.UNLABELED, ItemStatus.IN_PROGRESS)), Item.id.not_in(voted))
                    .order_by(Item.id).limit(count)))
            for start in range(0, len(ids), 500):
                session.execute(update(Item).where(Item.id.in_(ids[start:start + 500]))
                                .values(assigned_to=user.id).execution_options(synchronize_session=False))
            audit.record(session, principal, "AssignItems", "membership", user.id, project_id=project_id,
                         username=username, items=len(ids))
        return ids

    def agreement(self, principal: Principal, project_id: str,
                  item_ids: Sequence[str]) -> tuple[list[ItemAgreement], ProjectAgreement]:
        if len(item_ids) > MAX_AGREEMENT_ITEMS:
            raise InvalidArgument(f"ask for at most {MAX_AGREEMENT_ITEMS} items")
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            if item_ids:
                found = set(session.scalars(select(Item.id).where(Item.project_id == project_id,
                                                                  Item.id.in_(item_ids))))
                missing = [i for i in item_ids if i not in found]
                if missing:
                    raise NotFound(f"no item(s) {', '.join(missing[:5])} in this project")
            votes = votes_by_item(session, project_id)
            disagreeing = session.scalar(select(func.count()).select_from(Item).where(
                Item.project_id == project_id, Item.status == ItemStatus.DISAGREEMENT)) or 0
        per_item = [ItemAgreement(i, summarize(votes.get(i, {}).values())) for i in item_ids]
        return per_item, project_agreement(votes, disagreeing)

    def review_queue(self, principal: Principal, project_id: str, page_size: int,
                     page_token: str) -> tuple[list[ReviewTask], str, int]:
        """Items in DISAGREEMENT, lowest agreement first (then oldest)."""
        page = page_request(page_size, page_token, "review", project_id)
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.review(principal, access)
            items = list(session.scalars(select(Item).where(Item.project_id == project_id,
                                                            Item.status == ItemStatus.DISAGREEMENT)))
            votes: dict[str, list[str]] = defaultdict(list)
            for start in range(0, len(items), 500):
                for item_id, class_id in session.execute(select(Vote.item_id, Vote.class_id).where(
                        Vote.item_id.in_([i.id for i in items[start:start + 500]]),
                        Vote.class_id.is_not(None))).all():
                    votes[item_id].append(class_id)
            ranked = sorted((round(summarize(votes[i.id]).share, 6), i.id, i) for i in items)
            if page.after is not None:
                after = (float(page.after[0]), str(page.after[1]))
                ranked = [r for r in ranked if (r[0], r[1]) > after]
            chosen = ranked[:page.size + 1]
            views = decorate(session, access, principal, [r[2] for r in chosen[:page.size]])
            events: dict[str, list[Annotation]] = defaultdict(list)
            if views:
                for row in session.scalars(select(Annotation).where(
                        Annotation.item_id.in_([v.item.id for v in views])).order_by(Annotation.id)):
                    events[row.item_id].append(row)
        tasks = [ReviewTask(view, ItemAgreement(view.item.id, summarize(votes[view.item.id])), events[view.item.id])
                 for view in views]
        return tasks, page.next_token(chosen, lambda r: (r[0], r[1])), len(items)

    def review(self, principal: Principal, project_id: str, item_id: str, class_id: str, expected_version: int,
               comment: str) -> WriteResult:
        if not class_id:
            raise InvalidArgument("class_id is required")
        if len(comment) > MAX_COMMENT:
            raise InvalidArgument(f"comment is longer than {MAX_COMMENT} characters")
        if expected_version <= 0:
            raise InvalidArgument("expected_version is required: send the item version you read (>= 1)")
        with self._db.write() as session:
            access = policies.load_access(session, principal, project_id)
            policies.review(principal, access)
            active_class(session, project_id, class_id)
            item = lock_item(self._db, session, project_id, item_id)
            if expected_version != item.version:
                raise conflict(session, item, expected_version)
            result = self._events.write(session, access, principal, item, WriteRequest(
                kind=AnnotationKind.REVIEW, class_id=class_id, source=LabelSource.REVIEW, comment=comment))
            audit.record(session, principal, "Review", "item", item_id, project_id=project_id, class_id=class_id)
            return result
