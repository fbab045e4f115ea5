"""Items, predictions, suspected errors and the labeling queue over real gRPC on SQLite and PostgreSQL:
idempotent registration with suggested labels, filtered and paginated listings, strategies reading stored
scores, and leases that keep two annotators off the same item until they expire."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from harvest.common.auth import Role
from harvest.v1 import common_pb2, labels_pb2
from tests.integration.labels_server import LabelsUnderTest, image_id, running_labels

pytestmark = pytest.mark.integration


@dataclass
class Setup:
    labels: LabelsUnderTest
    project: labels_pb2.Project
    items: list[str]
    expert: str
    ann: str
    bob: str

    @property
    def project_id(self) -> str:
        return self.project.project_id

    def cls(self, index: int) -> str:
        return self.project.classes[index].class_id

    def stub(self, token: str):  # type: ignore[no-untyped-def]
        return self.labels.client(token).labels


@pytest.fixture
def setup(database_url: str) -> Iterator[Setup]:
    with running_labels(database_url) as labels:
        expert = labels.user("eve", Role.EXPERT)
        ann, bob = labels.user("ann"), labels.user("bob")
        project, items = labels.project(expert, "pets", images=10)
        for name in ("ann", "bob"):
            labels.member(project.project_id, name)
        yield Setup(labels, project, items, expert, ann, bob)


def _predict(setup: Setup, model: str, rows: dict[str, tuple[list[float], list[float]]]) -> None:
    predictions = []
    for item, (probabilities, embedding) in rows.items():
        predictions.append(labels_pb2.ItemPrediction(item_id=item, prediction=common_pb2.Prediction(
            probabilities=[common_pb2.ClassProbability(class_id=setup.cls(i), class_name=f"c{i}", probability=p)
                           for i, p in enumerate(probabilities)], embedding=embedding)))
    stored = setup.stub(setup.expert).PutPredictions(labels_pb2.PutPredictionsRequest(
        project_id=setup.project_id, model_id=model, predictions=predictions))
    assert stored.stored == len(rows)


def _error(call, *args) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        call(*args)
    return exc.value


def test_registration_is_idempotent_and_keeps_suggestions(setup: Setup) -> None:
    stub = setup.stub(setup.expert)
    request = labels_pb2.RegisterItemsRequest(project_id=setup.project_id, items=[
        labels_pb2.NewItem(image_id=image_id("a"), original_name="cat/a.jpg", suggested_label="cat",
                           format=common_pb2.IMAGE_FORMAT_JPEG),
        labels_pb2.NewItem(image_id=image_id("b"), original_name="zebra/b.jpg", suggested_label="zebra",
                           object_key="external/b.jpg")])
    first = stub.RegisterItems(request)
    again = stub.RegisterItems(request)
    assert [r.created for r in first.items] == [True, True] and [r.created for r in again.items] == [False, False]
    assert [r.item_id for r in first.items] == [r.item_id for r in again.items]
    a = stub.GetItem(labels_pb2.GetItemRequest(project_id=setup.project_id, item_id=first.items[0].item_id)).item
    b = stub.GetItem(labels_pb2.GetItemRequest(project_id=setup.project_id, item_id=first.items[1].item_id)).item
    assert a.suggested_class_id == setup.cls(0) and a.status == labels_pb2.ITEM_STATUS_UNLABELED
    assert a.object_key == f"datasets/{setup.project_id}/{image_id('a')}.jpg"
    assert b.suggested_class_id == "" and b.suggested_label == "zebra" and b.object_key == "external/b.jpg"
    error = _error(stub.RegisterItems, labels_pb2.RegisterItemsRequest(
        project_id=setup.project_id, items=[labels_pb2.NewItem(image_id="not-a-hash")]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_noisy_label_policy_records_import_events_and_creates_classes(setup: Setup) -> None:
    response = setup.stub(setup.expert).RegisterItems(labels_pb2.RegisterItemsRequest(
        project_id=setup.project_id, suggested_label_policy=common_pb2.SUGGESTED_LABEL_POLICY_NOISY_LABEL,
        items=[labels_pb2.NewItem(image_id=image_id("n1"), original_name="x.png", suggested_label="hamster")]))
    assert [c.name for c in response.created_classes] == ["hamster"]
    item = setup.stub(setup.expert).GetItem(labels_pb2.GetItemRequest(project_id=setup.project_id,
                                                                     item_id=response.items[0].item_id))
    assert item.item.noisy and item.item.label_source == common_pb2.LABEL_SOURCE_IMPORT
    assert item.item.class_id == response.created_classes[0].class_id
    assert [a.source for a in item.annotations] == [common_pb2.LABEL_SOURCE_IMPORT]


def test_list_items_filters_and_pages_without_gaps(setup: Setup) -> None:
    stub = setup.stub(setup.ann)
    for item in setup.items[:4]:
        stub.Annotate(labels_pb2.AnnotateRequest(project_id=setup.project_id, item_id=item, class_id=setup.cls(1),
                                                 expected_version=1))
    labeled = stub.ListItems(labels_pb2.ListItemsRequest(project_id=setup.project_id, filter=labels_pb2.ItemFilter(
        label=labels_pb2.LABEL_FILTER_LABELED)))
    assert [i.item_id for i in labeled.items] == setup.items[:4] and labeled.page.total_size == 4
    ann_id = setup.labels.core.users.get_user("ann").id
    by_ann = stub.ListItems(labels_pb2.ListItemsRequest(project_id=setup.project_id, filter=labels_pb2.ItemFilter(
        annotator_id=ann_id, class_ids=[setup.cls(1)])))
    assert by_ann.page.total_size == 4
    named = stub.ListItems(labels_pb2.ListItemsRequest(project_id=setup.project_id, filter=labels_pb2.ItemFilter(
        name_contains="IMG0009")))
    assert [i.original_name for i in named.items] == ["img0009.png"]
    seen, token = [], ""
    filter_ = labels_pb2.ItemFilter(label=labels_pb2.LABEL_FILTER_UNLABELED)
    while True:
        page = stub.ListItems(labels_pb2.ListItemsRequest(project_id=setup.project_id, filter=filter_,
                                                          page=common_pb2.PageRequest(page_size=4, page_token=token)))
        seen += [i.item_id for i in page.items]
        token = page.page.next_page_token
        if not token:
            break
    assert seen == setup.items[4:]
    error = _error(stub.ListItems, labels_pb2.ListItemsRequest(project_id=setup.project_id,
                                                               page=common_pb2.PageRequest(page_token="bogus!")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    recent = stub.ListItems(labels_pb2.ListItemsRequest(project_id=setup.project_id,
                                                        order=labels_pb2.ITEM_ORDER_UPDATED_DESC,
                                                        page=common_pb2.PageRequest(page_size=2)))
    following = stub.ListItems(labels_pb2.ListItemsRequest(
        project_id=setup.project_id, order=labels_pb2.ITEM_ORDER_UPDATED_DESC,
        page=common_pb2.PageRequest(page_size=2, page_token=recent.page.next_page_token)))
    assert [i.item_id for i in recent.items] == [setup.items[3], setup.items[2]]
    assert [i.item_id for i in following.items] == [setup.items[1], setup.items[0]]


def test_predictions_are_scored_on_the_server_and_shown_on_items(setup: Setup) -> None:
    _predict(setup, "m1", {setup.items[0]: ([0.7, 0.2, 0.1], [1.0, 0.0])})
    item = setup.stub(setup.ann).GetItem(labels_pb2.GetItemRequest(project_id=setup.project_id,
                                                                  item_id=setup.items[0])).item
    expected_entropy = -sum(p * math.log(p) for p in (0.7, 0.2, 0.1))
    assert item.prediction.model_id == "m1" and item.prediction.predicted_class_id == setup.cls(0)
    assert item.prediction.confidence == pytest.approx(0.7) and item.prediction.margin == pytest.approx(0.5)
    assert item.prediction.entropy == pytest.approx(expected_entropy, rel=1e-5)
    assert list(item.prediction.embedding) == [1.0, 0.0]
    error = _error(setup.stub(setup.expert).PutPredictions, labels_pb2.PutPredictionsRequest(
        project_id=setup.project_id, model_id="m1", predictions=[labels_pb2.ItemPrediction(
            item_id=setup.items[0], prediction=common_pb2.Prediction(probabilities=[
                common_pb2.ClassProbability(class_id=setup.cls(0), probability=0.5)]))]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "sum" in error.details()
    error = _error(setup.stub(setup.ann).PutPredictions, labels_pb2.PutPredictionsRequest(
        project_id=setup.project_id, model_id="m1"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(("strategy", "first"), [
    (labels_pb2.QUEUE_STRATEGY_LEAST_CONFIDENT, 2), (labels_pb2.QUEUE_STRATEGY_MARGIN, 1),
    (labels_pb2.QUEUE_STRATEGY_ENTROPY, 2)])
def test_uncertainty_strategies_read_the_stored_scores(setup: Setup, strategy: int, first: int) -> None:
    _predict(setup, "m1", {
        setup.items[0]: ([0.98, 0.01, 0.01], []),
        setup.items[1]: ([0.5, 0.49, 0.01], []),     # smallest margin
        setup.items[2]: ([0.34, 0.33, 0.33], []),    # least confident, highest entropy
    })
    queued = setup.stub(setup.ann).NextItems(labels_pb2.NextItemsRequest(project_id=setup.project_id, n=2,
                                                                         strategy=strategy, seed=7))
    assert queued.effective_strategy == strategy and queued.model_id == "m1"
    assert queued.items[0].item.item_id == setup.items[first]
    assert queued.items[0].score >= queued.items[1].score and queued.items[0].lease.lease_id


def test_diversity_picks_the_farthest_items_from_the_labeled_set(setup: Setup) -> None:
    embeddings = {setup.items[i]: ([0.4, 0.3, 0.3], [float(i), 0.0]) for i in range(10)}
    _predict(setup, "m1", embeddings)
    setup.stub(setup.ann).Annotate(labels_pb2.AnnotateRequest(project_id=setup.project_id, item_id=setup.items[0],
                                                              class_id=setup.cls(0), expected_version=1))
    queued = setup.stub(setup.ann).NextItems(labels_pb2.NextItemsRequest(
        project_id=setup.project_id, n=2, strategy=labels_pb2.QUEUE_STRATEGY_DIVERSITY, seed=1))
    assert queued.effective_strategy == labels_pb2.QUEUE_STRATEGY_DIVERSITY
    # Farthest from item 0 (x=0) is item 9; then the point farthest from {0, 9} is item 4 or 5.
    assert queued.items[0].item.item_id == setup.items[9]
    assert queued.items[1].item.item_id in (setup.items[4], setup.items[5])
    hybrid = setup.stub(setup.bob).NextItems(labels_pb2.NextItemsRequest(
        project_id=setup.project_id, n=1, strategy=labels_pb2.QUEUE_STRATEGY_HYBRID, seed=1))
    assert hybrid.effective_strategy == labels_pb2.QUEUE_STRATEGY_HYBRID


def test_strategies_fall_back_to_random_without_predictions(setup: Setup) -> None:
    queued = setup.stub(setup.ann).NextItems(labels_pb2.NextItemsRequest(
        project_id=setup.project_id, n=3, strategy=labels_pb2.QUEUE_STRATEGY_DIVERSITY))
    assert queued.effective_strategy == labels_pb2.QUEUE_STRATEGY_RANDOM and len(queued.items) == 3
    assert queued.model_id == ""


def test_leased_items_are_skipped_for_others_until_released_or_expired(setup: Setup) -> None:
    ann_queue = setup.stub(setup.ann).NextItems(labels_pb2.NextItemsRequest(project_id=setup.project_id, n=6,
                                                                            lease_s=1, seed=3))
    leased = {q.item.item_id for q in ann_queue.items}
    bob_queue = setup.stub(setup.bob).NextItems(labels_pb2.NextItemsRequest(project_id=setup.project_id, n=10))
    assert {q.item.item_id for q in bob_queue.items} == set(setup.items) - leased
    released = setup.stub(setup.bob).ReleaseLease(labels_pb2.ReleaseLeaseRequest(project_id=setup.project_id))
    assert released.released == 4
    time.sleep(1.2)
    again = setup.stub(setup.bob).NextItems(labels_pb2.NextItemsRequest(project_id=setup.project_id, n=10))
    assert {q.item.item_id for q in again.items} == set(setup.items), "expired leases no longer hold items"


def test_annotated_items_leave_the_callers_queue(setup: Setup) -> None:
    stub = setup.stub(setup.ann)
    queued = stub.NextItems(labels_pb2.NextItemsRequest(project_id=setup.project_id, n=1, seed=5)).items[0]
    stub.Annotate(labels_pb2.AnnotateRequest(project_id=setup.project_id, item_id=queued.item.item_id,
                                             class_id=setup.cls(0), expected_version=queued.item.version))
    rest = stub.NextItems(labels_pb2.NextItemsRequest(project_id=setup.project_id, n=100))
    assert queued.item.item_id not in {q.item.item_id for q in rest.items} and len(rest.items) == 9
    error = _error(stub.NextItems, labels_pb2.NextItemsRequest(project_id=setup.project_id, n=0))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_suspected_errors_are_listed_by_score_and_close_when_relabeled(setup: Setup) -> None:
    ann = setup.stub(setup.ann)
    for item in setup.items[:3]:
        ann.Annotate(labels_pb2.AnnotateRequest(project_id=setup.project_id, item_id=item, class_id=setup.cls(0),
                                                expected_version=1))
    expert = setup.stub(setup.expert)
    stored = expert.PutSuspectedErrors(labels_pb2.PutSuspectedErrorsRequest(
        project_id=setup.project_id, detector="confident_learning", model_id="m1", errors=[
            labels_pb2.NewSuspectedError(item_id=setup.items[0], score=0.4),
            labels_pb2.NewSuspectedError(item_id=setup.items[1], score=0.9, suggested_class_id=setup.cls(1))]))
    assert stored.stored == 2
    listed = ann.ListSuspectedErrors(labels_pb2.ListSuspectedErrorsRequest(project_id=setup.project_id))
    assert [s.item.item_id for s in listed.items] == [setup.items[1], setup.items[0]]
    assert listed.items[0].suspected_error.given_class_id == setup.cls(0)
    flagged = ann.ListItems(labels_pb2.ListItemsRequest(project_id=setup.project_id,
                                                        filter=labels_pb2.ItemFilter(suspected_error=True)))
    assert flagged.page.total_size == 2
    ann.Annotate(labels_pb2.AnnotateRequest(project_id=setup.project_id, item_id=setup.items[1],
                                            class_id=setup.cls(1), expected_version=2))
    after = ann.ListSuspectedErrors(labels_pb2.ListSuspectedErrorsRequest(project_id=setup.project_id))
    assert [s.item.item_id for s in after.items] == [setup.items[0]]
    replaced = expert.PutSuspectedErrors(labels_pb2.PutSuspectedErrorsRequest(
        project_id=setup.project_id, detector="confident_learning", replace=True))
    assert replaced.cleared == 2
    error = _error(expert.PutSuspectedErrors, labels_pb2.PutSuspectedErrorsRequest(
        project_id=setup.project_id, detector="cl", errors=[labels_pb2.NewSuspectedError(item_id=setup.items[5],
                                                                                          score=0.5)]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "no label" in error.details()
