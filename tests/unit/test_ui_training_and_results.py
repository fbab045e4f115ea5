"""Training form (what is submitted), job monitoring (progress, curves, cancel), results (confusion heat map,
per-class accuracy, promote) and the admin page, each against a fake client."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from harvest.ui.components.charts import confusion_frame
from harvest.ui.jobspec import TrainChoices, curves, eta_words, fraction_done, submit_request
from harvest.v1 import common_pb2, inference_pb2, labels_pb2, scheduler_pb2
from tests.unit.test_ui_fake_client import ADMIN, ANNOTATOR, FakeClient, project_handlers, signed_in

pytestmark = pytest.mark.unit

CATALOG = scheduler_pb2.ListPresetsResponse(
    presets=[scheduler_pb2.Preset(name="quick", description="CPU, minutes", algorithm="fixmatch",
                                  backbone="small_cnn", steps=200),
             scheduler_pb2.Preset(name="standard", description="one GPU", algorithm="freematch", backbone="wrn28_2")],
    backends=[scheduler_pb2.BACKEND_LOCAL, scheduler_pb2.BACKEND_SLURM],
    algorithms=["supervised", "fixmatch", "freematch"], backbones=["small_cnn", "wrn28_2"])


def _training_page() -> None:
    from harvest.ui.pages import training

    training.render()


def _jobs_page() -> None:
    from harvest.ui.pages import jobs

    jobs.render()


def _results_page() -> None:
    from harvest.ui.pages import results

    results.render()


def _admin_page() -> None:
    from harvest.ui.pages import admin

    admin.render()


def test_submit_request_leaves_unset_choices_to_the_preset() -> None:
    request = submit_request("p1", TrainChoices(preset="quick"))
    assert request.preset == "quick" and request.HasField("freeze_now")
    assert not request.HasField("steps") and not request.HasField("global_batch_size")
    assert request.algorithm == "" and request.backend == scheduler_pb2.BACKEND_UNSPECIFIED
    custom = submit_request("p1", TrainChoices(preset="hpc", algorithm="fixmatch", steps=500, global_batch_size=64,
                                               backend="slurm", nodes=2, gpus_per_node=4, time_limit_min=30),
                            validate_only=True)
    assert (custom.steps, custom.global_batch_size, custom.backend) == (500, 64, scheduler_pb2.BACKEND_SLURM)
    assert (custom.resources.nodes, custom.resources.gpus_per_node, custom.resources.time_limit_s) == (2, 4, 1800)
    assert custom.validate_only


def test_training_form_previews_with_validate_only_then_submits() -> None:
    rendered = scheduler_pb2.Job(preset="standard", algorithm="freematch", backbone="wrn28_2",
                                 resolved_config="steps: 200\n", rendered_spec="torchrun --nproc-per-node 1 ...")
    client = FakeClient(labels=project_handlers(), scheduler={
        "ListPresets": CATALOG, "SubmitJob": lambda r: scheduler_pb2.SubmitJobResponse(
            job=rendered if r.validate_only else scheduler_pb2.Job(job_id="j1", display_name="standard #1"))})
    app = signed_in(AppTest.from_function(_training_page), client)
    app.run()
    app.radio(key="train_preset").set_value("standard")
    app.number_input(key="train_steps").set_value(300)
    next(b for b in app.button if b.label == "Show what will be submitted").click().run()
    preview = client.scheduler.requests("SubmitJob")[0]
    assert preview.validate_only and preview.preset == "standard" and preview.steps == 300
    assert "torchrun --nproc-per-node 1 ..." in [c.value for c in app.code]
    next(b for b in app.button if b.label == "Start training").click().run()
    submitted = client.scheduler.requests("SubmitJob")[1]
    assert not submitted.validate_only and submitted.request_id
    assert app.session_state["selected_job_id"] == "j1"


def test_training_form_submits_pretraining_and_a_start_model() -> None:
    catalog = scheduler_pb2.ListPresetsResponse()
    catalog.CopyFrom(CATALOG)
    catalog.presets.add(name="quick_dino", description="CPU DINO", algorithm="dino", backbone="small_cnn",
                        kind=scheduler_pb2.JOB_KIND_SELF_SUPERVISED_PRETRAINING)
    models = inference_pb2.ListModelsResponse(models=[
        inference_pb2.Model(model_id="b1", version=3, kind=inference_pb2.MODEL_KIND_BACKBONE, algorithm="dino",
                            backbone="small_cnn"),
        inference_pb2.Model(model_id="old", version=1, status=inference_pb2.MODEL_STATUS_ARCHIVED)])
    client = FakeClient(labels=project_handlers(), inference={"ListModels": models}, scheduler={
        "ListPresets": catalog, "SubmitJob": scheduler_pb2.SubmitJobResponse(job=scheduler_pb2.Job(job_id="j2"))})
    app = signed_in(AppTest.from_function(_training_page), client)
    app.run()
    assert app.radio(key="train_preset").options == ["quick", "standard"]  # classifier presets by default
    assert app.selectbox(key="train_start").options == ["(random initialization)", "v3 · backbone · dino/small_cnn"]
    app.radio(key="train_kind").set_value("Backbone (self-supervised)").run()
    assert app.radio(key="train_preset").options == ["quick_dino"]
    assert app.selectbox(key="train_algorithm").options == ["(preset)", "dino"]
    app.selectbox(key="train_start").set_value("v3 · backbone · dino/small_cnn")
    next(b for b in app.button if b.label == "Start training").click().run()
    submitted = client.scheduler.requests("SubmitJob")[0]
    assert submitted.kind == scheduler_pb2.JOB_KIND_SELF_SUPERVISED_PRETRAINING and submitted.preset == "quick_dino"
    assert submitted.init_model_id == "b1"


def test_annotators_get_no_training_form() -> None:
    client = FakeClient(labels=project_handlers(), scheduler={"ListPresets": CATALOG})
    app = signed_in(AppTest.from_function(_training_page), client, user=ANNOTATOR)
    app.run()
    assert "expert role" in app.info[0].value
    assert client.scheduler.requests("SubmitJob") == []


def _running_job() -> scheduler_pb2.Job:
    return scheduler_pb2.Job(job_id="j1", display_name="quick #1", state=scheduler_pb2.JOB_STATE_RUNNING,
                             last_sequence=4, progress=scheduler_pb2.JobProgress(
                                 step=50, total_steps=200, images_per_second=812.0, eta_s=95, gpu_count=2,
                                 world_size=2))


def _events() -> list[scheduler_pb2.JobEvent]:
    def metric(seq: int, step: int, **values: float) -> scheduler_pb2.JobEvent:
        return scheduler_pb2.JobEvent(sequence=seq, metric=scheduler_pb2.MetricPoint(step=step, values=values,
                                                                                     phase="train"))
    return [scheduler_pb2.JobEvent(sequence=4, job=_running_job()), metric(1, 10, loss=2.0, mask_rate=0.1),
            metric(2, 20, loss=1.5, mask_rate=0.4), metric(3, 30, loss=1.1, mask_rate=0.6),
            scheduler_pb2.JobEvent(sequence=4, progress=_running_job().progress)]


def test_job_numbers_progress_eta_and_curves() -> None:
    job = _running_job()
    assert fraction_done(job) == 0.25
    assert eta_words(95) == "1m 35s" and eta_words(0) == "unknown" and eta_words(7300) == "2h 01m"
    assert fraction_done(scheduler_pb2.Job(state=scheduler_pb2.JOB_STATE_SUCCEEDED)) == 1.0
    assert curves(_events()) == {"loss": {10: 2.0, 20: 1.5, 30: 1.1}, "mask_rate": {10: 0.1, 20: 0.4, 30: 0.6}}


def test_job_page_shows_progress_throughput_and_cancels() -> None:
    client = FakeClient(labels=project_handlers(), scheduler={
        "ListJobs": scheduler_pb2.ListJobsResponse(jobs=[_running_job()]),
        "GetJob": scheduler_pb2.GetJobResponse(job=_running_job()),
        "WatchJob": lambda r: iter(_events()),
        "GetJobLogs": lambda r: iter([scheduler_pb2.GetJobLogsResponse(text="step 50 loss 1.1\n")]),
        "CancelJob": scheduler_pb2.CancelJobResponse(job=_running_job())})
    app = signed_in(AppTest.from_function(_jobs_page), client)
    app.run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"ETA": "1m 35s", "img/s": "812", "GPUs": "2", "Processes": "2"}
    assert "step 50 of 200" in app.get("progress")[0].proto.text
    assert "step 50 loss 1.1" in [c.value.strip() for c in app.code]
    assert client.scheduler.requests("WatchJob")[0].after_sequence == 0
    next(b for b in app.button if b.label == "Cancel job").click().run()
    assert client.scheduler.requests("CancelJob")[0].job_id == "j1"


def _model() -> inference_pb2.Model:
    return inference_pb2.Model(
        model_id="m1", version=1, algorithm="fixmatch", backbone="small_cnn", status=inference_pb2.MODEL_STATUS_READY,
        class_names=["cat", "dog"], class_ids=["c-cat", "c-dog"],
        evaluation=inference_pb2.EvaluationReport(
            accuracy=0.75, num_samples=8,
            classes=[inference_pb2.ClassMetrics(class_name="cat", accuracy=1.0, precision=0.67, support=4),
                     inference_pb2.ClassMetrics(class_name="dog", accuracy=0.5, precision=1.0, support=4)],
            confusion_matrix=[inference_pb2.ConfusionRow(counts=[4, 0]), inference_pb2.ConfusionRow(counts=[2, 2])]))


def test_confusion_frame_is_row_normalized_in_class_order() -> None:
    frame = confusion_frame(_model())
    assert list(frame.itertuples(index=False, name=None)) == [
        ("cat", "cat", 4, 1.0), ("cat", "dog", 0, 0.0), ("dog", "cat", 2, 0.5), ("dog", "dog", 2, 0.5)]


def test_results_page_shows_accuracy_heat_map_and_promotes() -> None:
    client = FakeClient(
        labels={**project_handlers(), "ListItems": labels_pb2.ListItemsResponse()},
        inference={"ListModels": inference_pb2.ListModelsResponse(models=[_model()]),
                   "PromoteModel": inference_pb2.PromoteModelResponse(model=_model())})
    app = signed_in(AppTest.from_function(_results_page), client)
    app.run()
    assert not app.exception
    assert app.metric[0].value == "75.0%"
    assert list(app.dataframe[0].value["accuracy (recall)"]) == [1.0, 0.5]
    assert app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    next(b for b in app.button if b.label == "Promote to active").click().run()
    assert client.inference.requests("PromoteModel")[0].model_id == "m1"


def test_admin_page_lists_users_and_changes_a_role() -> None:
    users = [labels_pb2.User(username="admin", role=common_pb2.ROLE_ADMIN),
             labels_pb2.User(username="bob", role=common_pb2.ROLE_ANNOTATOR)]
    client = FakeClient(labels={**project_handlers(), "ListUsers": labels_pb2.ListUsersResponse(users=users),
                                "UpdateUser": labels_pb2.UpdateUserResponse(),
                                "ListMembers": labels_pb2.ListMembersResponse(),
                                "AddMember": labels_pb2.AddMemberResponse()})
    app = signed_in(AppTest.from_function(_admin_page), client, user=ADMIN)
    app.run()
    assert list(app.dataframe[0].value["username"]) == ["admin", "bob"]
    app.selectbox[1].set_value("bob")
    app.selectbox[2].set_value("expert")
    next(b for b in app.button if b.label == "Apply").click().run()
    update = client.labels.requests("UpdateUser")[0]
    assert update.username == "bob" and update.role == common_pb2.ROLE_EXPERT and not update.HasField("disabled")
    app.text_input(key="member_username").input("bob").run()
    next(b for b in app.button if b.label == "Add member").click().run()
    assert client.labels.requests("AddMember")[0].username == "bob"


def test_admin_page_is_closed_to_experts() -> None:
    client = FakeClient(labels=project_handlers())
    app = signed_in(AppTest.from_function(_admin_page), client)
    app.run()
    assert "Only administrators" in app.info[0].value
    assert client.labels.requests("ListUsers") == []
