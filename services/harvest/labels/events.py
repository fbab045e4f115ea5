"""Writing one annotation event and the derived state that follows from it, in the caller's transaction.

Every change of an item's label (annotate, batch, undo, review, merge, import) goes through
`EventWriter.write`, so the rules "append an event with the previous value", "bump the version", "re-derive
the label" and "release the writer's lease" hold everywhere. The caller has already locked the item row
and checked the version; this module never decides *whether* to write, only *what* a write means.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.labels import derivation
from harvest.labels.db import Database
from harvest.labels.models import Annotation, Item, Lease, Vote, utcnow
from harvest.labels.policies import ProjectAccess
from harvest.labels.records import AnnotationRecord, ItemRecord
from harvest.labels.states import AnnotationKind, ItemStatus, LabelSource


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """What one event sets. `class_id` None clears; `undoes` names the event an UNDO reverts."""

    kind: AnnotationKind
    class_id: str | None = None
    source: LabelSource = LabelSource.HUMAN
    noisy: bool = False
    model_id: str = ""
    comment: str = ""
    undoes: Annotation | None = None
    client_request_id: str | None = None
    #: MERGE keeps the item's label source (a merge moves a label, it does not re-author it).
    label_source: int | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    item: Item | ItemRecord
    annotation: Annotation | AnnotationRecord
    annotator_ids: tuple[str, ...]


class EventWriter:
    """Appends events and maintains items, votes and leases accordingly."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def write(self, session: Session, access: ProjectAccess, actor: Principal, item: Item,
              request: WriteRequest) -> WriteResult:
        project = access.project
        # Reviews, merges and imports set the label directly; people's values are also kept as votes, which
        # decide the label when the project needs K > 1 of them.
        direct = request.source == LabelSource.IMPORT or request.kind in (AnnotationKind.REVIEW,
                                                                         AnnotationKind.MERGE)
        multi = project.required_annotations > 1 and not direct
        # Whose vote the event changes: an UNDO reverts the vote of the annotation it undoes.
        voter = request.undoes.user_id if request.undoes is not None else actor.user_id
        version = item.version + 1
        previous = self._current_vote(session, item.id, voter) if multi else item.class_id
        annotation = Annotation(
            project_id=item.project_id, item_id=item.id, kind=int(request.kind), class_id=request.class_id,
            previous_class_id=previous, source=int(request.source), noisy=request.noisy, user_id=actor.user_id,
            username=actor.username, model_id=request.model_id, comment=request.comment,
            undoes_annotation_id=request.undoes.id if request.undoes is not None else None, item_version=version,
            client_request_id=request.client_request_id, created_at=utcnow())
        session.add(annotation)
        if multi:
            self._record_vote(session, item, voter, request.class_id, version)
            annotators = self._derive_from_votes(session, access, item)
        else:
            if not direct:
                self._record_vote(session, item, voter, request.class_id, version)
            annotators = self._set_label(item, actor, request)
        item.version = version
        item.updated_at = annotation.created_at
        session.execute(delete(Lease).where(Lease.item_id == item.id, Lease.user_id == actor.user_id))
        session.flush()
        return WriteResult(item, annotation, annotators)

    @staticmethod
    def _current_vote(session: Session, item_id: str, user_id: str) -> str | None:
        return session.scalar(select(Vote.class_id).where(Vote.item_id == item_id, Vote.user_id == user_id))

    @staticmethod
    def _set_label(item: Item, actor: Principal, request: WriteRequest) -> tuple[str, ...]:
        if request.kind == AnnotationKind.REVIEW:
            item.status, item.class_id = ItemStatus.REVIEWED, request.class_id
            item.label_source, item.noisy = LabelSource.REVIEW, False
            return (actor.user_id,)
        if request.kind == AnnotationKind.MERGE:
            item.class_id = request.class_id
            return ()
        derived = derivation.from_single(request.class_id)
        item.status, item.class_id, item.annotation_count = derived.status, derived.class_id, derived.votes
        item.label_source = int(request.source) if derived.class_id else 0
        item.noisy = request.noisy and derived.class_id is not None
        return (actor.user_id,) if derived.class_id else ()

    def _record_vote(self, session: Session, item: Item, voter: str, class_id: str | None, version: int) -> None:
        upsert = self._db.insert(Vote).values(item_id=item.id, user_id=voter, project_id=item.project_id,
                                              class_id=class_id, item_version=version, updated_at=utcnow())
        session.execute(upsert.on_conflict_do_update(
            index_elements=["item_id", "user_id"],
            set_={"class_id": upsert.excluded.class_id, "item_version": upsert.excluded.item_version,
                  "updated_at": upsert.excluded.updated_at}))

    @staticmethod
    def _derive_from_votes(session: Session, access: ProjectAccess, item: Item) -> tuple[str, ...]:
        votes = session.execute(select(Vote.user_id, Vote.class_id).where(Vote.item_id == item.id,
                                                                         Vote.class_id.is_not(None))).all()
        if item.status != ItemStatus.REVIEWED:
            project = access.project
            derived = derivation.from_votes((c for _, c in votes), project.required_annotations,
                                            project.agreement_threshold)
            item.status, item.class_id = derived.status, derived.class_id
            item.label_source = LabelSource.HUMAN if derived.class_id else 0
            item.noisy = False
        item.annotation_count = len(votes)
        return tuple(sorted(user for user, _ in votes))
