"""Translation from the labels core's records to harvest.v1 messages (the servicer's half of the work)."""

from __future__ import annotations

import datetime as dt
import math

from harvest.common.auth import Role
from harvest.common.timestamps import to_timestamp
from harvest.labels.agreement import VoteSummary
from harvest.labels.event_feed import FeedEvent
from harvest.labels.items import ItemView
from harvest.labels.members import MemberView
from harvest.labels.models import (
    Annotation,
    ApiToken,
    AuditEntry,
    LabelClass,
    Lease,
    Prediction,
    SnapshotRecord,
    SuspectedError,
    User,
)
from harvest.labels.predictions import embedding_of
from harvest.labels.projects import ProjectView
from harvest.labels.records import AnnotationRecord
from harvest.labels.workflow import ItemAgreement, ProjectAgreement
from harvest.v1 import common_pb2, labels_pb2

timestamp = to_timestamp


def from_timestamp(message: object, field: str) -> dt.datetime | None:
    """An optional Timestamp field of a request as an aware datetime (None when unset)."""
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    return getattr(message, field).ToDatetime(tzinfo=dt.UTC)


def user_message(user: User) -> labels_pb2.User:
    return labels_pb2.User(user_id=user.id, username=user.username, display_name=user.display_name,
                           role=int(Role.parse(user.role)), disabled=user.disabled,
                           has_password=user.password_hash is not None, created_at=timestamp(user.created_at))


def token_message(token: ApiToken, user: User) -> labels_pb2.TokenInfo:
    return labels_pb2.TokenInfo(token_id=token.id, user_id=user.id, username=user.username,
                                description=token.description, created_at=timestamp(token.created_at),
                                expires_at=timestamp(token.expires_at), revoked_at=timestamp(token.revoked_at))


def class_message(row: LabelClass) -> labels_pb2.ClassDef:
    return labels_pb2.ClassDef(class_id=row.id, name=row.name, color=row.color, shortcut=row.shortcut,
                               description=row.description, position=row.position, retired=row.retired,
                               merged_into=row.merged_into or "", previous_names=list(row.previous_names or []),
                               created_at=timestamp(row.created_at))


def project_message(view: ProjectView) -> labels_pb2.Project:
    project = view.project
    return labels_pb2.Project(
        project_id=project.id, name=project.name, description=project.description,
        classes=[class_message(c) for c in view.classes],
        settings=labels_pb2.ProjectSettings(
            required_annotations=project.required_annotations, lease_s=project.lease_s,
            blind_annotation=project.blind_annotation, agreement_threshold=project.agreement_threshold,
            max_active_jobs=project.max_active_jobs),
        archived=project.archived, created_by=project.created_by, created_at=timestamp(project.created_at),
        version=project.version)


def prediction_message(row: Prediction) -> common_pb2.Prediction:
    embedding = embedding_of(row)
    probabilities = [common_pb2.ClassProbability(class_id=cid, class_name=name, probability=p)
                     for cid, name, p in row.probabilities]
    second = probabilities[1].probability if len(probabilities) > 1 else 0.0
    return common_pb2.Prediction(
        model_id=row.model_id, probabilities=probabilities, predicted_class_id=row.predicted_class_id,
        predicted_class_name=row.predicted_class_name, confidence=row.confidence, entropy=row.entropy,
        margin=row.margin if row.margin is not None else row.confidence - second,
        embedding=embedding.tolist() if embedding is not None else [], embedding_ref=row.embedding_ref)


def suspicion_message(row: SuspectedError) -> labels_pb2.SuspectedError:
    return labels_pb2.SuspectedError(item_id=row.item_id, score=row.score, given_class_id=row.given_class_id or "",
                                     suggested_class_id=row.suggested_class_id or "", detector=row.detector,
                                     model_id=row.model_id, created_at=timestamp(row.created_at))


def item_message(view: ItemView) -> labels_pb2.Item:
    item = view.item
    return labels_pb2.Item(
        item_id=item.id, project_id=item.project_id, image_id=item.image_id, original_name=item.original_name,
        width=item.width, height=item.height, status=item.status, class_id=item.class_id or "",
        label_source=item.label_source, noisy=item.noisy, suggested_class_id=item.suggested_class_id or "",
        version=item.version, annotation_count=item.annotation_count, annotator_ids=list(view.annotator_ids),
        assigned_to=item.assigned_to or "",
        prediction=prediction_message(view.prediction) if view.prediction is not None else None,
        suspected_error=suspicion_message(view.suspicion) if view.suspicion is not None else None,
        created_at=timestamp(item.created_at), updated_at=timestamp(item.updated_at),
        suggested_label=item.suggested_label, object_key=item.object_key, format=item.format)


def annotation_message(row: Annotation | AnnotationRecord) -> labels_pb2.Annotation:
    return labels_pb2.Annotation(
        annotation_id=row.id, item_id=row.item_id, kind=row.kind, class_id=row.class_id or "",
        previous_class_id=row.previous_class_id or "", source=row.source, noisy=row.noisy, user_id=row.user_id,
        username=row.username, model_id=row.model_id, undoes_annotation_id=row.undoes_annotation_id or "",
        comment=row.comment, item_version=row.item_version, created_at=timestamp(row.created_at))


def annotation_event_message(event: FeedEvent) -> labels_pb2.AnnotationEvent:
    return labels_pb2.AnnotationEvent(sequence=event.sequence, annotation=annotation_message(event.annotation),
                                      item=item_message(event.item) if event.item is not None else None)


def member_message(view: MemberView) -> labels_pb2.Member:
    return labels_pb2.Member(user_id=view.user.id, username=view.user.username, role=int(Role.parse(view.user.role)),
                             added_at=timestamp(view.membership.added_at), added_by=view.membership.added_by)


def lease_message(lease: Lease) -> labels_pb2.Lease:
    return labels_pb2.Lease(lease_id=lease.lease_id, item_id=lease.item_id, user_id=lease.user_id,
                            expires_at=timestamp(lease.expires_at))


def vote_message(item_id: str, summary: VoteSummary) -> labels_pb2.ItemAgreement:
    return labels_pb2.ItemAgreement(item_id=item_id, votes=summary.votes, majority_class_id=summary.majority or "",
                                    agreement=summary.share, annotation_count=summary.count)


def item_agreement_message(row: ItemAgreement) -> labels_pb2.ItemAgreement:
    return vote_message(row.item_id, row.summary)


def project_agreement_message(row: ProjectAgreement) -> labels_pb2.ProjectAgreement:
    return labels_pb2.ProjectAgreement(
        fleiss_kappa=row.fleiss_kappa, mean_cohen_kappa=row.mean_cohen_kappa,
        pairs=[labels_pb2.PairwiseKappa(user_a=p.user_a, user_b=p.user_b,
                                        kappa=p.kappa if not math.isnan(p.kappa) else math.nan,
                                        shared_items=p.shared_items) for p in row.pairs],
        items_compared=row.items_compared, items_in_disagreement=row.items_in_disagreement)


def snapshot_message(record: SnapshotRecord) -> common_pb2.Snapshot:
    options = record.options or {}
    return common_pb2.Snapshot(
        snapshot_id=record.id, project_id=record.project_id, manifest_key=record.manifest_key,
        manifest_sha256=record.manifest_sha256, format=record.format,
        classes=[common_pb2.SnapshotClass(index=i, class_id=cid, name=name)
                 for i, (cid, name) in enumerate(record.classes)],
        labeled_count=record.labeled_count, unlabeled_count=record.unlabeled_count,
        validation_count=record.validation_count, noisy_count=record.noisy_count,
        options=common_pb2.FreezeOptions(**options), created_by=record.created_by,
        created_at=timestamp(record.created_at))


def audit_message(entry: AuditEntry) -> labels_pb2.AuditEntry:
    return labels_pb2.AuditEntry(entry_id=entry.id, time=timestamp(entry.created_at), actor_id=entry.actor_id,
                                 actor_username=entry.actor_username, action=entry.action,
                                 target_type=entry.target_type, target_id=entry.target_id,
                                 project_id=entry.project_id, details=dict(entry.details or {}),
                                 request_id=entry.request_id)


def page_info(next_token: str, total: int) -> common_pb2.PageInfo:
    return common_pb2.PageInfo(next_page_token=next_token, total_size=total)
