"""Projects and Data pages: only the user's projects are listed, class lines become CreateProject classes,
uploads report every file, and statistics come from GetProjectStats."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from harvest.ui.classes import parse_class_lines
from harvest.v1 import common_pb2, labels_pb2, storage_pb2
from tests.unit.test_ui_fake_client import ANNOTATOR, PROJECT, FakeClient, project_handlers, signed_in

pytestmark = pytest.mark.unit


def _projects_page() -> None:
    from harvest.ui.pages import projects

    projects.render()


def _data_page() -> None:
    from harvest.ui.pages import data

    data.render()


def test_class_lines_read_name_color_and_key_from_the_end() -> None:
    parsed = parse_class_lines("golden retriever #FF8800 g\ncat 2\n\n dog ")
    assert [(c.name, c.color, c.shortcut) for c in parsed] == [
        ("golden retriever", "#ff8800", "g"), ("cat", "", "2"), ("dog", "", "")]


@pytest.mark.parametrize("text, problem", [("cat c", "cannot be a shortcut"), ("cat #12 1", "not #RRGGBB"),
                                           ("cat 1\ndog 1", "same key"), ("cat\nCat", "same name")])
def test_class_lines_refuse_what_the_labeling_keys_could_not_bind(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_class_lines(text)


def test_projects_page_lists_what_list_projects_returns_and_creates_with_classes() -> None:
    created = labels_pb2.Project(project_id="p2", name="birds", classes=[labels_pb2.ClassDef(name="owl")])
    client = FakeClient(labels={**project_handlers(),
                                "CreateProject": labels_pb2.CreateProjectResponse(project=created)})
    app = signed_in(AppTest.from_function(_projects_page), client)
    app.run()
    assert list(app.dataframe[0].value["name"]) == ["pets"]
    assert "cat [1], dog [2]" in list(app.dataframe[0].value["classes"])  # the retired class is not offered
    app.text_input[0].input("birds")
    app.text_area[0].input("owl #aa5500 o\nwren")
    app.button[0].click().run()
    request = client.labels.requests("CreateProject")[0]
    assert request.name == "birds"
    assert [(c.name, c.color, c.shortcut) for c in request.classes] == [("owl", "#aa5500", "o"), ("wren", "", "")]
    assert app.session_state["harvest_project_id"] == "p2"
    assert app.session_state["flash"] == "Created project birds with 1 classes."


def test_a_bad_class_line_is_reported_and_nothing_is_created() -> None:
    client = FakeClient(labels=project_handlers())
    app = signed_in(AppTest.from_function(_projects_page), client)
    app.run()
    app.text_input[0].input("birds")
    app.text_area[0].input("owl r")
    app.button[0].click().run()
    assert "Classes: line 1" in app.error[0].value
    assert client.labels.requests("CreateProject") == []


def test_annotators_see_no_create_form() -> None:
    app = signed_in(AppTest.from_function(_projects_page), FakeClient(labels=project_handlers()), user=ANNOTATOR)
    app.run()
    assert not app.text_area


def _stats_handlers() -> tuple[dict[str, object], dict[str, object]]:
    labels = {**project_handlers(), "GetProjectStats": labels_pb2.GetProjectStatsResponse(
        items=50, labeled=10, unlabeled=40, classes=[labels_pb2.ClassStats(class_name="cat", labeled=6),
                                                     labels_pb2.ClassStats(class_name="dog", labeled=4)],
        annotators=[labels_pb2.AnnotatorStats(username="ana", annotations=11, items=10)])}
    storage = {"GetDatasetStats": storage_pb2.GetDatasetStatsResponse(image_count=50, total_bytes=2_000_000)}
    return labels, storage


def test_data_page_shows_project_statistics() -> None:
    labels, storage = _stats_handlers()
    app = signed_in(AppTest.from_function(_data_page), FakeClient(labels=labels, storage=storage))
    app.run()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Images"] == "50" and metrics["Labeled"] == "10" and metrics["Unlabeled"] == "40"
    assert list(app.dataframe[0].value["labeled"]) == [6, 4]
    assert list(app.dataframe[1].value["annotator"]) == ["ana"]


def test_upload_reports_stored_duplicate_and_rejected_files_with_reasons() -> None:
    from harvest.ui.uploads import upload_all

    def answer(name: str, data: bytes) -> storage_pb2.UploadImagesResponse:
        results = {
            "a.png": [storage_pb2.FileResult(name="a.png", status=storage_pb2.FILE_STATUS_STORED, width=8, height=8)],
            "b.zip": [storage_pb2.FileResult(name="b.zip", status=storage_pb2.FILE_STATUS_EXPANDED),
                      storage_pb2.FileResult(name="b.zip!x.png", status=storage_pb2.FILE_STATUS_DUPLICATE),
                      storage_pb2.FileResult(name="b.zip!y.txt", status=storage_pb2.FILE_STATUS_REJECTED,
                                             reject_reason=storage_pb2.REJECT_REASON_UNSUPPORTED_TYPE,
                                             message="not an image")]}[name]
        counts = {s: sum(r.status == s for r in results) for s in (1, 2, 3)}
        return storage_pb2.UploadImagesResponse(results=results, summary=storage_pb2.IngestSummary(
            stored=counts[1], duplicate=counts[2], rejected=counts[3]))

    client = FakeClient()
    client.upload_answer = answer
    seen: list[tuple[int, int]] = []
    outcome = upload_all(client, "p1", [("a.png", b"12"), ("b.zip", b"3456")],
                         on_progress=lambda done, total, name: seen.append((done, total)))
    assert (outcome.stored, outcome.duplicate, outcome.rejected) == (1, 1, 1)
    assert [(r["file"], r["result"], r["reason"]) for r in outcome.rows] == [
        ("a.png", "stored", ""), ("b.zip!x.png", "duplicate", ""), ("b.zip!y.txt", "rejected", "unsupported_type")]
    assert seen == [(0, 6), (2, 6), (6, 6)]
    assert [files[0][0] for _, files, _ in client.uploads] == ["a.png", "b.zip"]
    assert client.uploads[0][2] == common_pb2.SUGGESTED_LABEL_POLICY_SUGGEST


def test_pages_without_a_project_ask_to_choose_one() -> None:
    app = signed_in(AppTest.from_function(_data_page), FakeClient(labels=project_handlers()), project=None)
    app.run()
    assert "Choose a project" in app.info[0].value
    assert PROJECT.name not in [h.value for h in app.header]
