"""Review mode (the contested queue, kappa, final decisions and conflicts) and the Data page's S3 prefix
import (ImportPrefix, then WatchImport into a progress bar and a summary), each against a fake client."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from harvest.ui.pages.data import PrefixImport
from harvest.ui.pages.review import annotator_votes, kappa_words
from harvest.v1 import common_pb2, labels_pb2, storage_pb2
from tests.unit.test_ui_fake_client import (
    ANNOTATOR,
    EXPERT,
    PROJECT,
    FakeClient,
    FakeRpcError,
    project_handlers,
    signed_in,
    stream,
)

pytestmark = pytest.mark.unit

APP = Path(__file__).resolve().parents[2] / "services" / "harvest" / "ui" / "app.py"
LABEL, CLEAR, UNDO, REVIEW = (labels_pb2.ANNOTATION_KIND_LABEL, labels_pb2.ANNOTATION_KIND_CLEAR,
                              labels_pb2.ANNOTATION_KIND_UNDO, labels_pb2.ANNOTATION_KIND_REVIEW)


def _review_page() -> None:
    from harvest.ui.pages import review

    review.render()


def _data_page() -> None:
    from harvest.ui.pages import data

    data.render()


def _vote(username: str, class_id: str, version: int, kind: int = LABEL) -> labels_pb2.Annotation:
    return labels_pb2.Annotation(user_id=f"id-{username}", username=username, class_id=class_id, kind=kind,
                                 item_version=version)


class FakeReviews:
    """A review queue like the service's: items in disagreement, lowest agreement first; a Review with the
    current version makes the item REVIEWED (it leaves the queue), a stale one answers ABORTED."""

    def __init__(self) -> None:
        self.tasks = {
            "i1": labels_pb2.ReviewTask(
                item=labels_pb2.Item(item_id="i1", image_id="img1", original_name="tabby.png", version=3,
                                     status=labels_pb2.ITEM_STATUS_DISAGREEMENT),
                agreement=labels_pb2.ItemAgreement(item_id="i1", votes={"c-cat": 1, "c-dog": 1}, agreement=0.5,
                                                   annotation_count=2),
                annotations=[_vote("ana", "c-cat", 2), _vote("bob", "c-dog", 3)]),
            "i2": labels_pb2.ReviewTask(
                item=labels_pb2.Item(item_id="i2", image_id="img2", original_name="rex.png", version=4,
                                     status=labels_pb2.ITEM_STATUS_DISAGREEMENT),
                agreement=labels_pb2.ItemAgreement(item_id="i2", votes={"c-dog": 2, "c-cat": 1}, agreement=2 / 3,
                                                   majority_class_id="c-dog", annotation_count=3),
                annotations=[_vote("ana", "c-dog", 2), _vote("bob", "c-dog", 3), _vote("cy", "c-cat", 4)])}
        self.reviewed: dict[str, labels_pb2.Item] = {}

    def handlers(self) -> dict[str, object]:
        return {**project_handlers(), "ListReviewQueue": self.queue, "Review": self.review, "GetItem": self.get_item,
                "GetAgreement": labels_pb2.GetAgreementResponse(project=labels_pb2.ProjectAgreement(
                    fleiss_kappa=0.42, mean_cohen_kappa=float("nan"), items_compared=12, items_in_disagreement=2,
                    pairs=[labels_pb2.PairwiseKappa(user_a="id-ana", user_b="id-bob", kappa=0.3,
                                                    shared_items=9)]))}

    def queue(self, request: labels_pb2.ListReviewQueueRequest) -> labels_pb2.ListReviewQueueResponse:
        ranked = sorted(self.tasks.values(), key=lambda t: t.agreement.agreement)
        return labels_pb2.ListReviewQueueResponse(tasks=ranked[:request.page.page_size])

    def get_item(self, request: labels_pb2.GetItemRequest) -> labels_pb2.GetItemResponse:
        found = self.reviewed.get(request.item_id) or self.tasks[request.item_id].item
        return labels_pb2.GetItemResponse(item=found)

    def review(self, request: labels_pb2.ReviewRequest) -> labels_pb2.ReviewResponse:
        item = self.get_item(labels_pb2.GetItemRequest(item_id=request.item_id)).item
        if request.expected_version != item.version:
            raise FakeRpcError(grpc.StatusCode.ABORTED, f"item changed: version {item.version}")
        decided = labels_pb2.Item(item_id=item.item_id, original_name=item.original_name, version=item.version + 1,
                                  status=labels_pb2.ITEM_STATUS_REVIEWED, class_id=request.class_id,
                                  label_source=common_pb2.LABEL_SOURCE_REVIEW)
        self.reviewed[item.item_id] = decided
        self.tasks.pop(item.item_id)
        return labels_pb2.ReviewResponse(item=decided)


def _review_app(fake: FakeReviews, user: labels_pb2.User = EXPERT) -> tuple[FakeClient, AppTest]:
    client = FakeClient(labels=fake.handlers(),
                        storage={"GetImage": stream(storage_pb2.GetImageResponse(chunk=_PNG))})
    return client, signed_in(AppTest.from_function(_review_page), client, user=user)


def _button(app: AppTest, label: str) -> Button:
    return next(b for b in app.button if b.label == label)


# ---- review ----

def test_each_annotator_counts_with_their_latest_vote_and_reviews_are_not_votes() -> None:
    events = [_vote("ana", "c-cat", 2), _vote("bob", "c-dog", 3), _vote("ana", "c-dog", 4),
              _vote("cy", "c-cat", 5), _vote("cy", "", 6, kind=UNDO), _vote("dee", "c-cat", 7),
              _vote("dee", "", 8, kind=CLEAR), _vote("eve", "c-cat", 9, kind=REVIEW)]
    assert annotator_votes(list(reversed(events))) == {"ana": "c-dog", "bob": "c-dog"}
    assert kappa_words(float("nan")) == "—" and kappa_words(0.4171) == "0.42"


def test_queue_shows_most_contested_first_with_votes_agreement_and_kappa() -> None:
    fake = FakeReviews()
    client, app = _review_app(fake)
    app.run()
    assert not app.exception
    queue = app.dataframe[1].value
    assert list(queue["image"]) == ["tabby.png", "rex.png"]
    assert list(queue["agreement"]) == ["50%", "67%"]
    assert list(queue["votes"]) == ["cat 1 · dog 1", "dog 2 · cat 1"]
    assert list(queue["annotators"]) == ["ana: cat, bob: dog", "ana: dog, bob: dog, cy: cat"]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Fleiss' κ"] == "0.42" and metrics["Mean Cohen's κ"] == "—"
    assert metrics["In disagreement"] == "2"
    assert list(app.dataframe[0].value["annotator A"]) == ["ana"]  # pairs named by username, not user id
    assert list(app.dataframe[2].value["vote"]) == ["cat", "dog"]  # the selected (first) item's voters
    assert app.image  # the image under decision is shown
    assert client.labels.requests("GetAgreement")[0].project_id == "p1"
    assert "old" not in [b.label for b in app.button]  # a retired class is not a decision


def test_a_decision_is_written_with_the_version_seen_and_the_item_leaves_the_queue() -> None:
    fake = FakeReviews()
    client, app = _review_app(fake)
    app.run()
    app.text_input(key="review_comment_i1").input("whiskers")
    _button(app, "cat").click().run()
    sent = client.labels.requests("Review")[0]
    assert (sent.project_id, sent.item_id, sent.class_id, sent.expected_version, sent.comment) == (
        "p1", "i1", "c-cat", 3, "whiskers")
    assert not app.exception
    assert app.success[0].value == "tabby.png: final class cat."
    assert list(app.dataframe[1].value["image"]) == ["rex.png"]
    assert app.selectbox[0].value == "i2"  # the next most contested item comes up


def test_a_vote_written_meanwhile_is_reported_and_the_item_reread_before_deciding_again() -> None:
    fake = FakeReviews()
    client, app = _review_app(fake)
    app.run()
    late = fake.tasks["i1"]  # another annotator votes while the reviewer looks
    late.item.version = 4
    late.annotations.append(_vote("cy", "c-dog", 4))
    late.agreement.votes["c-dog"] = 2
    _button(app, "cat").click().run()
    assert client.labels.requests("GetItem")[0].item_id == "i1"
    assert "ABORTED" in app.warning[0].value and "changed meanwhile" in app.warning[0].value
    assert fake.tasks["i1"].item.status == labels_pb2.ITEM_STATUS_DISAGREEMENT  # nothing decided
    assert "cy: dog" in list(app.dataframe[1].value["annotators"])[0]  # the queue shows the new vote
    app.selectbox[0].set_value("i1").run()
    _button(app, "dog").click().run()
    assert client.labels.requests("Review")[-1].expected_version == 4
    assert fake.reviewed["i1"].class_id == "c-dog"


def test_an_item_another_reviewer_decided_is_reported_as_gone() -> None:
    fake = FakeReviews()
    client, app = _review_app(fake)
    app.run()
    fake.review(labels_pb2.ReviewRequest(item_id="i1", class_id="c-dog", expected_version=3))
    _button(app, "cat").click().run()
    assert "Another reviewer already decided tabby.png: dog" in app.warning[0].value
    assert list(app.dataframe[1].value["image"]) == ["rex.png"]


def test_review_in_an_archived_project_says_why_and_writes_nothing() -> None:
    fake = FakeReviews()
    client, app = _review_app(fake)
    client.labels.handlers["Review"] = FakeRpcError(grpc.StatusCode.FAILED_PRECONDITION,
                                                    "project pets is archived: it cannot review items")
    app.run()
    _button(app, "dog").click().run()
    assert "FAILED_PRECONDITION: project pets is archived" in app.warning[0].value
    assert set(fake.tasks) == {"i1", "i2"}


def test_an_empty_queue_still_shows_the_project_kappa() -> None:
    fake = FakeReviews()
    fake.tasks.clear()
    client, app = _review_app(fake)
    app.run()
    assert "Nothing to review" in app.success[0].value
    assert {m.label for m in app.metric} >= {"Fleiss' κ", "Mean Cohen's κ"}


def test_annotators_get_no_review_page() -> None:
    fake = FakeReviews()
    client, app = _review_app(fake, user=ANNOTATOR)
    app.run()
    assert "expert role" in app.info[0].value
    assert client.labels.requests("ListReviewQueue") == []


@pytest.mark.parametrize("user, shown", [(EXPERT, True), (ANNOTATOR, False)])
def test_navigation_offers_review_to_experts_only(user: labels_pb2.User, shown: bool) -> None:
    labels = {**project_handlers(), "GetProjectStats": labels_pb2.GetProjectStatsResponse()}
    app = signed_in(AppTest.from_file(str(APP), default_timeout=30), FakeClient(labels=labels), user=user)
    app.run()
    pages = {page["page_name"] for page in app._registered_pages.values()}
    assert ("Review" in pages) is shown and {"Data", "Labeling"} <= pages


# ---- S3 prefix import ----

def _operation(state: int, done: int = 0, total: int = 0, **counters: int) -> common_pb2.Operation:
    return common_pb2.Operation(operation_id="op1", kind="import_prefix", project_id="p1", state=state,
                                progress=common_pb2.Progress(done=done, total=total, unit="images"),
                                counters=counters)


def _finished() -> storage_pb2.WatchImportResponse:
    return storage_pb2.WatchImportResponse(
        operation=_operation(common_pb2.OPERATION_STATE_SUCCEEDED, 3, 3, stored=1, duplicate=1, rejected=1),
        results=[storage_pb2.FileResult(name="archive/cat/a.png", status=storage_pb2.FILE_STATUS_STORED),
                 storage_pb2.FileResult(name="archive/cat/b.png", status=storage_pb2.FILE_STATUS_DUPLICATE),
                 storage_pb2.FileResult(name="archive/notes.txt", status=storage_pb2.FILE_STATUS_REJECTED,
                                        reject_reason=storage_pb2.REJECT_REASON_UNSUPPORTED_TYPE)],
        summary=storage_pb2.IngestSummary(stored=1, duplicate=1, rejected=1))


def _data_app(user: labels_pb2.User = EXPERT) -> tuple[FakeClient, AppTest]:
    labels = {**project_handlers(), "GetProjectStats": labels_pb2.GetProjectStatsResponse(items=3)}
    running = storage_pb2.WatchImportResponse(
        operation=_operation(common_pb2.OPERATION_STATE_RUNNING, 1, 4, stored=1))
    client = FakeClient(labels=labels, storage={
        "GetDatasetStats": storage_pb2.GetDatasetStatsResponse(),
        "ImportPrefix": storage_pb2.ImportPrefixResponse(operation_id="op1"),
        "WatchImport": stream(running, still_open=True)})
    return client, signed_in(AppTest.from_function(_data_page), client, user=user)


def test_import_starts_the_prefix_then_follows_it_to_a_summary() -> None:
    client, app = _data_app()
    app.run()
    app.text_input(key="import_bucket").input("lab-archive")
    app.text_input(key="import_prefix").input(" archive/ ")
    app.checkbox(key="import_image_folder").check()
    app.selectbox(key="import_policy").set_value("Label (folder names become labels)")
    _button(app, "Import").click().run()
    started = client.storage.requests("ImportPrefix")[0]
    assert (started.project_id, started.bucket, started.prefix, started.image_folder) == (
        "p1", "lab-archive", "archive/", True)
    assert started.suggested_label_policy == common_pb2.SUGGESTED_LABEL_POLICY_LABEL
    assert client.storage.requests("WatchImport")[0].operation_id == "op1"
    bar = app.get("progress")[0].proto
    assert bar.value == 25 and "1 of 4 objects · 1 stored, 0 duplicate, 0 rejected" in bar.text
    client.storage.handlers["WatchImport"] = stream(_finished())
    app.run()  # what the fragment's next refresh does
    assert not app.exception
    assert app.success[0].value == "Imported s3://lab-archive/archive/: 1 stored, 1 duplicate, 1 rejected."
    table = app.dataframe[0].value
    assert list(table["object"]) == ["archive/cat/a.png", "archive/cat/b.png", "archive/notes.txt"]
    assert list(table["reason"]) == ["", "", "unsupported_type"]
    watched = len(client.storage.requests("WatchImport"))
    app.run()
    assert len(client.storage.requests("WatchImport")) == watched  # a finished import is not watched again


def test_a_failed_import_says_why_with_what_it_did_so_far() -> None:
    client, app = _data_app()
    client.storage.handlers["WatchImport"] = stream(storage_pb2.WatchImportResponse(operation=common_pb2.Operation(
        operation_id="op1", project_id="p1", state=common_pb2.OPERATION_STATE_FAILED,
        error_message="bucket lab-archive became unreadable", counters={"stored": 2})))
    app.run()
    app.text_input(key="import_prefix").input("archive/")
    _button(app, "Import").click().run()
    assert app.error[0].value == ("Import failed — bucket lab-archive became unreadable. So far "
                                  "s3://(data bucket)/archive/: 2 stored, 0 duplicate, 0 rejected.")


def test_a_refused_import_shows_the_services_reason() -> None:
    client, app = _data_app()
    client.storage.handlers["ImportPrefix"] = FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT,
                                                           "bucket secret is outside the import roots")
    app.run()
    app.text_input(key="import_bucket").input("secret")
    app.text_input(key="import_prefix").input("x/")
    _button(app, "Import").click().run()
    assert "INVALID_ARGUMENT: bucket secret is outside the import roots" in app.error[0].value
    assert client.storage.requests("WatchImport") == []


def test_an_empty_prefix_is_refused_before_calling_the_service() -> None:
    client, app = _data_app()
    app.run()
    _button(app, "Import").click().run()
    assert "Give a prefix" in app.error[0].value
    assert client.storage.requests("ImportPrefix") == []


def test_annotators_get_no_import_form() -> None:
    client, app = _data_app(user=ANNOTATOR)
    app.run()
    assert "Import" not in [b.label for b in app.button]
    assert PROJECT.name in app.header[0].value


def test_a_reopened_watch_repeats_no_result_and_counts_come_from_the_summary_at_the_end() -> None:
    watch = PrefixImport(operation_id="op1", source="s3://b/p/")
    watch.absorb(storage_pb2.WatchImportResponse(operation=_operation(
        common_pb2.OPERATION_STATE_RUNNING, 2, 4, stored=1, duplicate=1)))
    assert (watch.counts(), watch.fraction(), watch.finished) == ((1, 1, 0), 0.5, False)
    watch.absorb(_finished())
    watch.absorb(_finished())
    assert len(watch.results) == 3
    assert (watch.counts(), watch.fraction(), watch.finished) == ((1, 1, 1), 1.0, True)


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


_PNG = _png()
