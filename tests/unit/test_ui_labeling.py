"""Labeling: the single-image session (label → next, accept a suggestion, undo, conflicts) and the grid's
one-action BatchAnnotate, against a fake labels service that keeps versions like the real one."""

from __future__ import annotations

import grpc
import pytest
from streamlit.testing.v1 import AppTest

from harvest.ui.labeler import Labeler
from harvest.v1 import common_pb2, labels_pb2, storage_pb2
from tests.unit.test_ui_fake_client import FakeClient, FakeRpcError, project_handlers, signed_in

pytestmark = pytest.mark.unit


class FakeItems:
    """Items with versions: Annotate/Undo bump the version and refuse a stale expected_version (ABORTED)."""

    def __init__(self, count: int) -> None:
        self.items = {f"i{n}": labels_pb2.Item(item_id=f"i{n}", image_id=f"img{n}", original_name=f"{n}.png",
                                               version=1, status=labels_pb2.ITEM_STATUS_UNLABELED)
                      for n in range(count)}
        self.items["i0"].prediction.CopyFrom(common_pb2.Prediction(
            model_id="m1", predicted_class_id="c-dog", predicted_class_name="dog", confidence=0.91))
        self.history: dict[str, list[str]] = {}

    def handlers(self) -> dict[str, object]:
        return {**project_handlers(), "NextItems": self.next_items, "Annotate": self.annotate, "Undo": self.undo,
                "GetItem": lambda r: labels_pb2.GetItemResponse(item=self.items[r.item_id]),
                "ListItems": lambda r: labels_pb2.ListItemsResponse(items=list(self.items.values())),
                "BatchAnnotate": self.batch}

    def next_items(self, request: labels_pb2.NextItemsRequest) -> labels_pb2.NextItemsResponse:
        free = [i for i in self.items.values() if not i.class_id][:request.n]
        return labels_pb2.NextItemsResponse(items=[labels_pb2.QueuedItem(item=i) for i in free],
                                            effective_strategy=labels_pb2.QUEUE_STRATEGY_RANDOM)

    def _write(self, item_id: str, expected: int, class_id: str) -> labels_pb2.Item:
        item = self.items[item_id]
        if expected != item.version:
            raise FakeRpcError(grpc.StatusCode.ABORTED, f"item changed: version {item.version}")
        self.history.setdefault(item_id, []).append(item.class_id)
        item.class_id, item.version = class_id, item.version + 1
        return item

    def annotate(self, request: labels_pb2.AnnotateRequest) -> labels_pb2.AnnotateResponse:
        return labels_pb2.AnnotateResponse(item=self._write(request.item_id, request.expected_version,
                                                            request.class_id))

    def undo(self, request: labels_pb2.UndoRequest) -> labels_pb2.UndoResponse:
        previous = self.history[request.item_id].pop()
        item = self._write(request.item_id, request.expected_version, previous)
        self.history[request.item_id].pop()
        return labels_pb2.UndoResponse(item=item)

    def batch(self, request: labels_pb2.BatchAnnotateRequest) -> labels_pb2.BatchAnnotateResponse:
        return labels_pb2.BatchAnnotateResponse(items=[self._write(i.item_id, i.expected_version, request.class_id)
                                                       for i in request.items])


def _setup(count: int = 5) -> tuple[FakeItems, FakeClient, Labeler]:
    fake = FakeItems(count)
    client = FakeClient(labels=fake.handlers())
    labeler = Labeler(project_id="p1")
    labeler.fill(client)
    return fake, client, labeler


def test_labeling_writes_with_the_version_seen_and_moves_to_the_next_image() -> None:
    fake, client, labeler = _setup()
    assert labeler.current().item_id == "i0"
    assert labeler.label(client, "c-cat")
    sent = client.labels.requests("Annotate")[0]
    assert (sent.item_id, sent.class_id, sent.expected_version) == ("i0", "c-cat", 1)
    assert sent.source == common_pb2.LABEL_SOURCE_HUMAN and sent.client_request_id
    assert labeler.current().item_id == "i1"
    assert fake.items["i0"].class_id == "c-cat"


def test_accepting_a_suggestion_records_the_model_as_source() -> None:
    fake, client, labeler = _setup()
    assert labeler.accept(client)
    sent = client.labels.requests("Annotate")[0]
    assert (sent.class_id, sent.source, sent.model_id) == ("c-dog", common_pb2.LABEL_SOURCE_MODEL, "m1")
    assert not labeler.accept(client)  # i1 has no suggestion: nothing is written
    assert labeler.message == "No model suggestion for this image yet."
    assert len(client.labels.requests("Annotate")) == 1


def test_undo_restores_the_last_label_and_shows_that_image_again() -> None:
    fake, client, labeler = _setup()
    labeler.label(client, "c-cat")
    labeler.label(client, "c-dog")
    assert labeler.undo(client)
    assert labeler.current().item_id == "i1"
    assert fake.items["i1"].class_id == ""
    assert fake.items["i0"].class_id == "c-cat"
    assert client.labels.requests("Undo")[0].expected_version == 2


def test_a_label_changed_meanwhile_is_reread_not_overwritten() -> None:
    fake, client, labeler = _setup()
    fake.items["i0"].class_id, fake.items["i0"].version = "c-dog", 2  # someone else labeled it
    assert not labeler.label(client, "c-cat")
    assert fake.items["i0"].class_id == "c-dog"
    assert labeler.current().version == 2 and labeler.current().class_id == "c-dog"
    assert "Someone changed this image" in labeler.message


def test_previous_rereads_the_item_and_the_queue_refills_near_its_end() -> None:
    fake, client, labeler = _setup(count=30)
    for _ in range(19):
        labeler.label(client, "c-cat")
    assert len(client.labels.requests("NextItems")) >= 2  # refilled before running dry
    assert labeler.current().item_id == "i19"
    labeler.step(client, -1)
    assert labeler.current().item_id == "i18" and labeler.current().class_id == "c-cat"
    assert client.labels.requests("GetItem")[-1].item_id == "i18"


def _labeling_page() -> None:
    from harvest.ui.pages import labeling

    labeling.render()


def _page(fake: FakeItems) -> tuple[FakeClient, AppTest]:
    client = FakeClient(labels=fake.handlers(), storage={
        "GetImage": lambda r: iter([storage_pb2.GetImageResponse(chunk=_PNG)]),
        "BatchGetThumbnails": lambda r: storage_pb2.BatchGetThumbnailsResponse(
            thumbnails=[storage_pb2.Thumbnail(image_id=i, data=_PNG) for i in r.image_ids])})
    return client, signed_in(AppTest.from_function(_labeling_page), client)


def test_single_view_binds_class_keys_and_shows_the_suggestion() -> None:
    fake = FakeItems(3)
    client, app = _page(fake)
    app.run()
    assert not app.exception
    assert app.metric[0].value == "dog" and "91%" in app.metric[0].delta
    buttons = {b.label: b for b in app.button}
    assert {"cat", "dog", "Accept suggestion", "Previous", "Next", "Undo"} <= set(buttons)
    assert "old" not in buttons  # a retired class takes no labels
    buttons["cat"].click().run()
    assert fake.items["i0"].class_id == "c-cat"
    assert any("**Image 2**" in m.value for m in app.markdown)


def test_grid_labels_every_selected_image_in_one_batch() -> None:
    fake = FakeItems(4)
    client, app = _page(fake)
    app.run()
    app.segmented_control[0].set_value("Grid").run()
    app.checkbox(key="pick_i1").check()
    app.checkbox(key="pick_i3").check().run()
    app.selectbox(key="grid_class").set_value("c-dog")
    next(b for b in app.button if b.label == "Label 2 selected").click().run()
    batch = client.labels.requests("BatchAnnotate")
    assert len(batch) == 1
    assert [(i.item_id, i.expected_version) for i in batch[0].items] == [("i1", 1), ("i3", 1)]
    assert batch[0].class_id == "c-dog"
    assert fake.items["i1"].class_id == fake.items["i3"].class_id == "c-dog"


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


_PNG = _png()
