"""Annotations over real gRPC on SQLite and PostgreSQL: append-only history, optimistic concurrency (one
concurrent writer wins, the other is told the current value, nothing is lost), batch labeling, undo,
idempotent retries, and the multi-annotator workflow (K votes, agreement, review)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from harvest.common.auth import Role
from harvest.v1 import common_pb2, labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration


@dataclass
class Team:
    labels: LabelsUnderTest
    project: labels_pb2.Project
    items: list[str]
    expert: str
    annotators: list[str]

    @property
    def project_id(self) -> str:
        return self.project.project_id

    def cls(self, name: str) -> str:
        return next(c.class_id for c in self.project.classes if c.name == name)

    def stub(self, token: str):  # type: ignore[no-untyped-def]
        return self.labels.client(token).labels

    def annotate(self, token: str, item: str, name: str | None, version: int, **extra: object):  # type: ignore[no-untyped-def]
        request = labels_pb2.AnnotateRequest(project_id=self.project_id, item_id=item, expected_version=version,
                                             class_id=self.cls(name) if name else "", clear=name is None,
                                             **extra)  # type: ignore[arg-type]
        return self.stub(token).Annotate(request)

    def item(self, item: str) -> labels_pb2.GetItemResponse:
        return self.stub(self.expert).GetItem(labels_pb2.GetItemRequest(project_id=self.project_id, item_id=item))


def _team(labels: LabelsUnderTest, required: int) -> Team:
    expert = labels.user("eve", Role.EXPERT)
    annotators = [labels.user(name) for name in ("ann", "bob", "cid")]
    project, items = labels.project(expert, "birds", required=required, images=6)
    for name in ("ann", "bob", "cid"):
        labels.member(project.project_id, name)
    return Team(labels, project, items, expert, annotators)


@pytest.fixture
def team(database_url: str) -> Iterator[Team]:
    with running_labels(database_url) as labels:
        yield _team(labels, required=1)


@pytest.fixture
def panel(database_url: str) -> Iterator[Team]:
    """A project requiring three agreeing annotations per item."""
    with running_labels(database_url) as labels:
        yield _team(labels, required=3)


def _error(call, *args, **kwargs) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        call(*args, **kwargs)
    return exc.value


def _trailing(error: grpc.RpcError) -> dict[str, str]:
    return dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]


def test_label_is_derived_from_an_append_only_history(team: Team) -> None:
    ann, bob = team.annotators[:2]
    item = team.items[0]
    first = team.annotate(ann, item, "cat", 1)
    assert first.item.class_id == team.cls("cat") and first.item.version == 2
    assert first.item.status == labels_pb2.ITEM_STATUS_LABELED
    second = team.annotate(bob, item, "dog", 2, comment="looks like a dog")
    assert second.annotation.previous_class_id == team.cls("cat")
    cleared = team.annotate(ann, item, None, 3)
    assert cleared.item.status == labels_pb2.ITEM_STATUS_UNLABELED and cleared.item.class_id == ""
    history = team.stub(team.expert).GetHistory(labels_pb2.GetHistoryRequest(project_id=team.project_id,
                                                                             item_id=item))
    assert [(a.kind, a.username, a.item_version) for a in history.annotations] == [
        (labels_pb2.ANNOTATION_KIND_LABEL, "ann", 2), (labels_pb2.ANNOTATION_KIND_LABEL, "bob", 3),
        (labels_pb2.ANNOTATION_KIND_CLEAR, "ann", 4)]
    assert history.annotations[1].comment == "looks like a dog"
    assert all(a.source == common_pb2.LABEL_SOURCE_HUMAN and a.created_at.seconds for a in history.annotations)


def test_stale_write_is_aborted_with_the_current_value(team: Team) -> None:
    ann, bob = team.annotators[:2]
    team.annotate(ann, team.items[0], "cat", 1)
    error = _error(team.annotate, bob, team.items[0], "dog", 1)
    assert error.code() == grpc.StatusCode.ABORTED
    assert "version 2" in error.details() and "'cat'" in error.details() and "ann" in error.details()
    details = _trailing(error)
    assert details["harvest-current-version"] == "2" and details["harvest-current-label"] == "cat"
    assert details["harvest-current-class-id"] == team.cls("cat")
    assert team.item(team.items[0]).item.class_id == team.cls("cat")


@pytest.mark.parametrize("writers", [2, 8])
def test_concurrent_writers_one_wins_the_others_are_told_and_nothing_is_lost(team: Team, writers: int) -> None:
    tokens = [team.labels.user(f"w{i}") for i in range(writers)]
    for i in range(writers):
        team.labels.member(team.project_id, f"w{i}")
    stubs = [team.stub(token) for token in tokens]
    names = ["cat", "dog", "bird"]
    barrier = threading.Barrier(writers)
    outcomes: list[tuple[str, object]] = [("", None)] * writers

    def write(index: int) -> None:
        request = labels_pb2.AnnotateRequest(project_id=team.project_id, item_id=team.items[0], expected_version=1,
                                             class_id=team.cls(names[index % 3]))
        barrier.wait()
        try:
            outcomes[index] = ("ok", stubs[index].Annotate(request))
        except grpc.RpcError as exc:
            outcomes[index] = ("aborted" if exc.code() == grpc.StatusCode.ABORTED else exc.code().name, exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o[1] for o in outcomes if o[0] == "ok"]
    losers = [o[1] for o in outcomes if o[0] == "aborted"]
    assert len(winners) == 1 and len(losers) == writers - 1, [o[0] for o in outcomes]
    won = winners[0]
    for error in losers:
        assert _trailing(error)["harvest-current-class-id"] == won.item.class_id  # type: ignore[arg-type]
    history = team.stub(team.expert).GetHistory(labels_pb2.GetHistoryRequest(project_id=team.project_id,
                                                                             item_id=team.items[0]))
    assert [a.annotation_id for a in history.annotations] == [won.annotation.annotation_id]  # type: ignore[union-attr]
    assert team.item(team.items[0]).item.version == 2


def test_concurrent_writers_on_different_items_all_succeed(team: Team) -> None:
    errors: list[BaseException] = []

    def label(index: int) -> None:
        try:
            team.annotate(team.annotators[index % 3], team.items[index], "bird", 1)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=label, args=(i,)) for i in range(len(team.items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    listed = team.stub(team.expert).ListItems(labels_pb2.ListItemsRequest(
        project_id=team.project_id, filter=labels_pb2.ItemFilter(label=labels_pb2.LABEL_FILTER_LABELED)))
    assert listed.page.total_size == len(team.items)


def test_retry_with_the_same_request_id_returns_the_first_result(team: Team) -> None:
    ann = team.annotators[0]
    first = team.annotate(ann, team.items[0], "cat", 1, client_request_id="req-1")
    again = team.annotate(ann, team.items[0], "cat", 1, client_request_id="req-1")
    assert again.annotation.annotation_id == first.annotation.annotation_id and again.item.version == 2
    error = _error(team.annotate, ann, team.items[1], "cat", 1, client_request_id="req-1")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_batch_applies_to_all_or_none(team: Team) -> None:
    ann = team.annotators[0]
    team.annotate(ann, team.items[2], "dog", 1)
    stub = team.stub(ann)
    stale = labels_pb2.BatchAnnotateRequest(project_id=team.project_id, class_id=team.cls("bird"), items=[
        labels_pb2.ItemVersion(item_id=i, expected_version=1) for i in team.items[:3]])
    error = _error(stub.BatchAnnotate, stale)
    assert error.code() == grpc.StatusCode.ABORTED and _trailing(error)["harvest-stale-item-ids"] == team.items[2]
    assert team.item(team.items[0]).item.version == 1, "nothing was written"
    fresh = labels_pb2.BatchAnnotateRequest(project_id=team.project_id, class_id=team.cls("bird"), items=[
        labels_pb2.ItemVersion(item_id=i, expected_version=2 if i == team.items[2] else 1) for i in team.items[:3]])
    done = stub.BatchAnnotate(fresh)
    assert [i.class_id for i in done.items] == [team.cls("bird")] * 3
    assert [a.item_id for a in done.annotations] == team.items[:3]


def test_undo_appends_an_event_restoring_the_previous_value(team: Team) -> None:
    ann, bob = team.annotators[:2]
    item = team.items[0]
    team.annotate(ann, item, "cat", 1)
    team.annotate(ann, item, "dog", 2)
    undone = team.stub(ann).Undo(labels_pb2.UndoRequest(project_id=team.project_id, item_id=item, expected_version=3))
    assert undone.item.class_id == team.cls("cat") and undone.annotation.kind == labels_pb2.ANNOTATION_KIND_UNDO
    assert undone.annotation.previous_class_id == team.cls("dog")
    dog_event = undone.annotation.undoes_annotation_id
    error = _error(team.stub(ann).Undo, labels_pb2.UndoRequest(project_id=team.project_id, item_id=item,
                                                               annotation_id=dog_event, expected_version=4))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "already undone" in error.details()
    error = _error(team.stub(bob).Undo, labels_pb2.UndoRequest(project_id=team.project_id, item_id=item,
                                                               expected_version=4))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, "bob has nothing of his own to undo"
    history = team.stub(ann).GetHistory(labels_pb2.GetHistoryRequest(project_id=team.project_id, item_id=item))
    assert len(history.annotations) == 3


def test_annotator_cannot_undo_someone_elses_annotation_but_an_expert_can(team: Team) -> None:
    ann, bob = team.annotators[:2]
    first = team.annotate(ann, team.items[0], "cat", 1)
    request = labels_pb2.UndoRequest(project_id=team.project_id, item_id=team.items[0],
                                     annotation_id=first.annotation.annotation_id, expected_version=2)
    assert _error(team.stub(bob).Undo, request).code() == grpc.StatusCode.PERMISSION_DENIED
    assert team.stub(team.expert).Undo(request).item.status == labels_pb2.ITEM_STATUS_UNLABELED


def test_retired_and_unknown_classes_are_refused(team: Team) -> None:
    expert = team.stub(team.expert)
    expert.MergeClasses(labels_pb2.MergeClassesRequest(project_id=team.project_id,
                                                       source_class_ids=[team.cls("dog")],
                                                       target_class_id=team.cls("cat")))
    error = _error(team.annotate, team.annotators[0], team.items[0], "dog", 1)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "merged" in error.details()
    request = labels_pb2.AnnotateRequest(project_id=team.project_id, item_id=team.items[0], expected_version=1,
                                         class_id="0" * 32)
    assert _error(team.stub(team.annotators[0]).Annotate, request).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_archived_project_refuses_labels(team: Team) -> None:
    team.stub(team.expert).ArchiveProject(labels_pb2.ArchiveProjectRequest(project_id=team.project_id,
                                                                           archived=True))
    error = _error(team.annotate, team.annotators[0], team.items[0], "cat", 1)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "archived" in error.details()


def test_k_votes_agreeing_label_an_item(panel: Team) -> None:
    ann, bob, cid = panel.annotators
    item = panel.items[0]
    assert panel.annotate(ann, item, "cat", 1).item.status == labels_pb2.ITEM_STATUS_IN_PROGRESS
    # Bob read version 1 too: another annotator's vote is not a conflict when K > 1.
    second = panel.annotate(bob, item, "cat", 1)
    assert second.item.status == labels_pb2.ITEM_STATUS_IN_PROGRESS and second.item.annotation_count == 2
    third = panel.annotate(cid, item, "cat", 1)
    assert third.item.status == labels_pb2.ITEM_STATUS_LABELED and third.item.class_id == panel.cls("cat")
    assert sorted(third.item.annotator_ids) == sorted(third.item.annotator_ids) and len(third.item.annotator_ids) == 3


def test_own_newer_vote_is_a_conflict_when_k_above_one(panel: Team) -> None:
    ann = panel.annotators[0]
    panel.annotate(ann, panel.items[0], "cat", 1)
    error = _error(panel.annotate, ann, panel.items[0], "dog", 1)
    assert error.code() == grpc.StatusCode.ABORTED


def test_disagreement_goes_to_review_and_the_reviewer_decides(panel: Team) -> None:
    ann, bob, cid = panel.annotators
    item = panel.items[1]
    panel.annotate(ann, item, "cat", 1)
    panel.annotate(bob, item, "dog", 1)
    last = panel.annotate(cid, item, "bird", 1)
    assert last.item.status == labels_pb2.ITEM_STATUS_DISAGREEMENT and last.item.class_id == ""
    expert = panel.stub(panel.expert)
    queue = expert.ListReviewQueue(labels_pb2.ListReviewQueueRequest(project_id=panel.project_id))
    assert [t.item.item_id for t in queue.tasks] == [item]
    assert queue.tasks[0].agreement.annotation_count == 3 and len(queue.tasks[0].annotations) == 3
    decided = expert.Review(labels_pb2.ReviewRequest(project_id=panel.project_id, item_id=item,
                                                     class_id=panel.cls("dog"), expected_version=4,
                                                     comment="beak shape"))
    assert decided.item.status == labels_pb2.ITEM_STATUS_REVIEWED and decided.item.class_id == panel.cls("dog")
    assert decided.annotation.source == common_pb2.LABEL_SOURCE_REVIEW
    error = _error(panel.annotate, ann, item, "cat", 5)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "review" in error.details()
    assert not expert.ListReviewQueue(labels_pb2.ListReviewQueueRequest(project_id=panel.project_id)).tasks
    audit = panel.stub(panel.labels.admin_token).GetAuditLog(labels_pb2.GetAuditLogRequest(action="Review"))
    assert [e.target_id for e in audit.entries] == [item]


def test_annotators_cannot_review(panel: Team) -> None:
    request = labels_pb2.ReviewRequest(project_id=panel.project_id, item_id=panel.items[0],
                                       class_id=panel.cls("cat"), expected_version=1)
    assert _error(panel.stub(panel.annotators[0]).Review, request).code() == grpc.StatusCode.PERMISSION_DENIED


def test_agreement_per_item_and_kappas_per_project(panel: Team) -> None:
    ann, bob, cid = panel.annotators
    votes = [("cat", "cat", "cat"), ("dog", "dog", "cat"), ("bird", "bird", "bird"), ("cat", "dog", "dog")]
    for item, (a, b, c) in zip(panel.items, votes, strict=False):
        panel.annotate(ann, item, a, 1)
        panel.annotate(bob, item, b, 1)
        panel.annotate(cid, item, c, 1)
    response = panel.stub(ann).GetAgreement(labels_pb2.GetAgreementRequest(project_id=panel.project_id,
                                                                           item_ids=panel.items[:2]))
    first, second = response.items
    assert first.agreement == 1.0 and first.majority_class_id == panel.cls("cat") and first.annotation_count == 3
    assert second.votes[panel.cls("dog")] == 2 and abs(second.agreement - 2 / 3) < 1e-6
    project = response.project
    assert project.items_compared == 4 and project.items_in_disagreement == 2
    assert len(project.pairs) == 3 and all(p.shared_items == 4 for p in project.pairs)
    assert -1 <= project.fleiss_kappa <= 1 and not math.isnan(project.mean_cohen_kappa)
    ann_bob = next(p for p in project.pairs if {p.user_a, p.user_b} == {
        panel.labels.core.users.get_user("ann").id, panel.labels.core.users.get_user("bob").id})
    assert ann_bob.kappa == pytest.approx(0.6363636, abs=1e-6)  # 3/4 observed, 5/16 by chance


def test_blind_projects_hide_other_votes_from_annotators(panel: Team) -> None:
    panel.stub(panel.expert).UpdateProjectSettings(labels_pb2.UpdateProjectSettingsRequest(
        project_id=panel.project_id, settings=labels_pb2.ProjectSettings(required_annotations=3,
                                                                         blind_annotation=True)))
    ann, bob = panel.annotators[:2]
    panel.annotate(ann, panel.items[0], "cat", 1)
    seen_by_bob = panel.stub(bob).GetItem(labels_pb2.GetItemRequest(project_id=panel.project_id,
                                                                   item_id=panel.items[0]))
    assert not seen_by_bob.annotations and not seen_by_bob.item.annotator_ids
    assert len(panel.item(panel.items[0]).annotations) == 1, "experts see every vote"


def test_assignment_hands_out_items_the_annotator_has_not_seen(panel: Team) -> None:
    ann = panel.annotators[0]
    panel.annotate(ann, panel.items[0], "cat", 1)
    expert = panel.stub(panel.expert)
    assigned = expert.AssignItems(labels_pb2.AssignItemsRequest(project_id=panel.project_id, username="ann",
                                                                count=2))
    assert len(assigned.item_ids) == 2 and panel.items[0] not in assigned.item_ids
    queued = panel.stub(ann).NextItems(labels_pb2.NextItemsRequest(project_id=panel.project_id, n=2))
    assert [q.reason for q in queued.items] == ["assigned", "assigned"]
    assert {q.item.item_id for q in queued.items} == set(assigned.item_ids)
    error = _error(expert.AssignItems, labels_pb2.AssignItemsRequest(project_id=panel.project_id,
                                                                     username="root", count=1))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
