"""The jobs core on SQLite and PostgreSQL: state machine, timestamps, event sequences, queue positions,
per-project limits, idempotent submission and adoption (a scripted backend stands in for the cluster)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from harvest.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from harvest.common.snapshots import manifest_key
from harvest.scheduler.core import SchedulerCore, SubmitRequest
from harvest.scheduler.launchers.base import LaunchStatus, Phase
from harvest.scheduler.states import State
from tests.harness.scheduler import ScriptedLauncher, caller, scripted_core

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> tuple[SchedulerCore, ScriptedLauncher, object]:
    core, launcher, dispatcher = scripted_core(database_url, tmp_path, max_active_per_project=2, submit_lease_s=60)
    for snapshot, project in (("snap-a", "p1"), ("snap-b", "p2")):
        core.store.put(manifest_key(snapshot), json.dumps({"project_id": project}).encode() + b"\n")
    return core, launcher, dispatcher


def submit(core: SchedulerCore, project: str = "p1", **kwargs: object) -> str:
    snapshot = {"p1": "snap-a", "p2": "snap-b"}.get(project, "snap-a")
    request = SubmitRequest(project_id=project, snapshot_id=snapshot, steps=5, **kwargs)  # type: ignore[arg-type]
    return core.submit_job(caller(), request).row.job_id


def test_job_walks_the_state_machine_with_timestamped_transitions_and_gapless_events(setup) -> None:  # noqa: ANN001
    core, launcher, dispatcher = setup
    job_id = submit(core)
    assert dispatcher.submitted == [job_id]
    assert core.launch(job_id) == "submitted"
    launcher.statuses[job_id] = LaunchStatus(Phase.RUNNING, nodes=("n1",))
    core.poll()
    launcher.statuses[job_id] = LaunchStatus(Phase.SUCCEEDED, exit_code=0)
    core.poll()
    view = core.get_job(caller(), job_id)
    states = [(State(e.payload["from"]) if e.payload["from"] else None, State(e.payload["to"]))
              for e in view.transitions]
    assert states == [(None, State.QUEUED), (State.QUEUED, State.SUBMITTED), (State.SUBMITTED, State.RUNNING),
                      (State.RUNNING, State.SUCCEEDED)]
    times = [e.time for e in view.transitions]
    assert times == sorted(times)
    assert view.row.started_at is not None and view.row.finished_at is not None
    events = core.jobs.events(job_id)
    assert [e.sequence for e in events] == list(range(1, view.row.last_sequence + 1))
    assert view.transitions[1].payload["reason"] == "submitted as local ext-1"


def test_second_launch_of_the_same_job_does_not_submit_again(setup) -> None:  # noqa: ANN001
    core, launcher, _ = setup
    job_id = submit(core)
    assert core.launch(job_id) == "submitted"
    assert core.launch(job_id) == "state"
    assert launcher.submitted == [f"harvest-{job_id}"]


def test_launch_after_a_crash_between_submit_and_record_adopts_the_backend_job(setup) -> None:  # noqa: ANN001
    core, launcher, _ = setup
    job_id = submit(core)
    launcher.submitted.append(f"harvest-{job_id}")  # an earlier attempt got this far, then died
    core.settings.submit_lease_s = 0.01
    assert core.launch(job_id) == "adopted"
    assert launcher.submitted == [f"harvest-{job_id}"]
    row = core.jobs.get(job_id)
    assert row.state == State.SUBMITTED and row.external_id == "ext-1"


def test_concurrent_launches_submit_each_job_once(setup) -> None:  # noqa: ANN001
    core, launcher, _ = setup
    core.settings.max_active_per_project = 100
    ids = [submit(core) for _ in range(10)]
    threads = [threading.Thread(target=core.launch, args=(job_id,)) for job_id in ids * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(launcher.submitted) == sorted(f"harvest-{j}" for j in ids)


def test_project_limit_holds_jobs_queued_with_their_position_until_a_slot_frees(setup) -> None:  # noqa: ANN001
    core, launcher, dispatcher = setup
    ids = [submit(core) for _ in range(3)]
    other = submit(core, project="p2")
    assert [core.launch(j) for j in ids] == ["submitted", "submitted", "limit"]
    assert core.launch(other) == "submitted"  # another project is not held back
    assert core.get_job(caller(), ids[2]).queue_position == 1
    launcher.statuses[ids[0]] = LaunchStatus(Phase.FAILED, exit_code=1, message="exit code 1")
    dispatcher.submitted.clear()
    core.poll()
    assert dispatcher.submitted == [ids[2]]  # the freed slot re-dispatches the held job
    assert core.launch(ids[2]) == "submitted"


def test_queue_positions_follow_submission_order(setup) -> None:  # noqa: ANN001
    core, _, _ = setup
    ids = [submit(core) for _ in range(3)]
    assert [core.get_job(caller(), j).queue_position for j in ids] == [1, 2, 3]


def test_cancel_queued_job_is_immediate_and_cancel_of_finished_job_is_refused(setup) -> None:  # noqa: ANN001
    core, launcher, dispatcher = setup
    queued = submit(core)
    assert core.cancel_job(caller(), queued, "not needed").row.state == State.CANCELLED
    assert core.launch(queued) == "state"
    assert core.cancel_job(caller(), queued).row.state == State.CANCELLED  # unchanged, no error
    running = submit(core)
    core.launch(running)
    assert core.cancel_job(caller(), running).row.state == State.SUBMITTED  # until the backend confirms
    assert dispatcher.cancelled == [running]
    core.cancel_on_backend(running)
    assert core.jobs.get(running).state == State.CANCELLED and launcher.cancelled == ["ext-1"]
    done = submit(core)
    core.launch(done)
    launcher.statuses[done] = LaunchStatus(Phase.SUCCEEDED, exit_code=0)
    core.poll()
    with pytest.raises(FailedPrecondition, match="already succeeded"):
        core.cancel_job(caller(), done)


def test_requeue_is_recorded_as_preempted_then_submitted_again(setup) -> None:  # noqa: ANN001
    core, launcher, _ = setup
    job_id = submit(core)
    core.launch(job_id)
    launcher.statuses[job_id] = LaunchStatus(Phase.RUNNING)
    core.poll()
    launcher.statuses[job_id] = LaunchStatus(Phase.PENDING, restarts=1, message="node n2 failed")
    core.poll()
    row = core.jobs.get(job_id)
    assert row.state == State.SUBMITTED and row.restart_count == 1
    assert [State(e.payload["to"]) for e in core.jobs.transitions(job_id)][-2:] == [State.PREEMPTED, State.SUBMITTED]


def test_failure_keeps_the_plain_reason_the_exception_and_the_log_tail(setup) -> None:  # noqa: ANN001
    core, launcher, _ = setup
    job_id = submit(core)
    core.launch(job_id)
    launcher.log_text = b"".join(b"line %d\n" % i for i in range(150)) + b"0: training failed: image x missing\n"
    launcher.statuses[job_id] = LaunchStatus(Phase.FAILED, exit_code=2, message="exit code 2")
    core.poll()
    row = core.jobs.get(job_id)
    assert row.state == State.FAILED
    assert row.error_message.startswith("the training program refused its input")
    assert "training failed: image x missing" in row.error_message
    assert len(row.log_tail.splitlines()) == 100 and row.log_tail.endswith("image x missing")


def test_same_request_id_returns_the_first_job(setup) -> None:  # noqa: ANN001
    core, _, dispatcher = setup
    first = submit(core, request_id="train-1")
    assert submit(core, request_id="train-1") == first
    assert dispatcher.submitted == [first]


def test_submission_is_validated(setup) -> None:  # noqa: ANN001
    core, _, _ = setup
    with pytest.raises(NotFound, match="snapshot 'missing'"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="missing"))
    with pytest.raises(FailedPrecondition, match="another project"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-b"))
    with pytest.raises(InvalidArgument, match="not enabled"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", backend="slurm"))
    with pytest.raises(InvalidArgument, match="one node"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", resources={"nodes": 2}))
    with pytest.raises(InvalidArgument, match="snapshot_id"):
        core.submit_job(caller(), SubmitRequest(project_id="p1"))
    with pytest.raises(NotFound):
        core.get_job(caller(), "nope")


def test_validate_only_renders_without_creating(setup) -> None:  # noqa: ANN001
    core, _, dispatcher = setup
    view = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", validate_only=True))
    assert "--snapshot snap-a" in view.row.rendered_spec
    assert dispatcher.submitted == [] and core.jobs.count_project("p1") == 0


def test_list_pages_newest_first_and_filters(setup) -> None:  # noqa: ANN001
    from harvest.scheduler.jobs import JobFilter

    core, _, _ = setup
    ids = [submit(core) for _ in range(5)]
    submit(core, project="p2")
    first, token, total = core.list_jobs(caller(), JobFilter(), "p1", 3, "")
    second, end, _ = core.list_jobs(caller(), JobFilter(), "p1", 3, token)
    assert total == 5 and end == ""
    assert [v.row.job_id for v in first + second] == list(reversed(ids))
    core.cancel_job(caller(), ids[0])
    cancelled, _, _ = core.list_jobs(caller(), JobFilter(states=[State.CANCELLED]), "p1", 10, "")
    assert [v.row.job_id for v in cancelled] == [ids[0]]
    with pytest.raises(InvalidArgument, match="page_token"):
        core.list_jobs(caller(), JobFilter(), "p1", 3, "garbage")


def test_watch_replays_then_ends_after_the_terminal_event(setup) -> None:  # noqa: ANN001
    core, launcher, _ = setup
    job_id = submit(core)
    core.launch(job_id)
    launcher.statuses[job_id] = LaunchStatus(Phase.SUCCEEDED, exit_code=0)
    core.poll()
    items = list(core.watch(caller(), job_id, 0, False, lambda: True))
    assert items[0].row.job_id == job_id  # type: ignore[union-attr]
    assert [i.sequence for i in items[1:]] == [1, 2, 3]  # type: ignore[union-attr]
    resumed = list(core.watch(caller(), job_id, 2, False, lambda: True))
    assert [i.sequence for i in resumed[1:]] == [3]  # type: ignore[union-attr]
    with pytest.raises(InvalidArgument):
        list(core.watch(caller(), job_id, -1, False, lambda: True))


def test_logs_of_a_queued_job_are_not_available_yet(setup) -> None:  # noqa: ANN001
    core, launcher, _ = setup
    job_id = submit(core)
    with pytest.raises(FailedPrecondition, match="queued"):
        list(core.logs(caller(), job_id, 0, None, False, "", lambda: True))
    core.launch(job_id)
    launcher.log_text = b"a\nb\nc\npartial"
    assert list(core.logs(caller(), job_id, 2, None, False, "", lambda: True)) == [("b\nc\n", 6)]


def _register_package(core: SchedulerCore, model_id: str, snapshot: str, **network: object) -> None:
    package = {"format": "harvest.model/1", "snapshot_id": snapshot, "classes": ["a", "b"], "kind": "backbone",
               "model": {"arch": "small_cnn", "width": 32, "norm": "group", **network},
               "preprocessing": {"resolution": 32, "channels": 3, "mean": [0.5] * 3, "std": [0.25] * 3}}
    core.store.put(f"models/{model_id}/model.json", json.dumps(package).encode())
    core.store.put(f"models/{model_id}/weights.pt", b"weights")


def test_init_model_starts_the_job_from_a_registered_model_of_the_same_shape(setup) -> None:  # noqa: ANN001
    core, _, _ = setup
    _register_package(core, "m1", "snap-a")
    view = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", init_model_id="m1"))
    assert view.row.init_model_id == "m1"
    assert "model.init_weights_key=models/m1/weights.pt" in view.row.training_args
    assert "--set model.init_weights_key=models/m1/weights.pt" in view.row.rendered_spec


def test_init_model_is_refused_with_what_to_change(setup) -> None:  # noqa: ANN001
    core, _, _ = setup
    _register_package(core, "wide", "snap-a", width=16)
    _register_package(core, "theirs", "snap-b")
    with pytest.raises(InvalidArgument, match=r"model.width=16 \(this job: 32\)"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", init_model_id="wide"))
    with pytest.raises(PermissionDenied, match="does not belong to project p1"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", init_model_id="theirs"))
    with pytest.raises(NotFound, match="not a registered model"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", init_model_id="nope"))
    with pytest.raises(NotFound, match="not a registered model"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", init_model_id="../x"))
    with pytest.raises(InvalidArgument, match="give init_model_id instead"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a",
                                                overrides={"model.init_weights_key": "models/theirs/weights.pt"}))
    for sneaky in ({"model": "{init_weights_key: models/theirs/weights.pt}"}, {"model.pretrained": "/etc/hosts"},
                   {"model": "{pretrained: /tmp/x.pt}"}):
        with pytest.raises(InvalidArgument, match="give init_model_id|init_model_id"):
            core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", overrides=sneaky))
        with pytest.raises(InvalidArgument, match="init_model_id"):
            core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", kind=2, overrides=sneaky))
    core.store.delete("models/wide/weights.pt")
    with pytest.raises(FailedPrecondition, match="has no weights"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", init_model_id="wide",
                                                overrides={"model.width": "16"}))
    _register_package(core, "wide", "snap-a", width=16)
    wide = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", init_model_id="wide",
                                                   overrides={"model.width": "16"}))
    assert "model.init_weights_key=models/wide/weights.pt" in wide.row.training_args


def test_pretraining_jobs_resolve_their_own_presets_and_run_the_pretrain_task(setup) -> None:  # noqa: ANN001
    core, _, _ = setup
    view = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", kind=2,
                                                   preset="quick_dino", steps=400))
    row = view.row
    assert row.kind == 2 and row.algorithm == "dino" and row.preset == "quick_dino" and row.total_steps == 400
    assert "--task pretrain --snapshot snap-a --config quick_dino" in row.rendered_spec
    assert "local_crops: 4" in row.resolved_config
    simclr = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", kind=2, algorithm="simclr",
                                                     preset="quick_dino", overrides={"augment.local_crops": "0"}))
    assert simclr.row.algorithm == "simclr" and "objective.name=simclr" in simclr.row.training_args
    with pytest.raises(InvalidArgument, match="pretrains with simclr, dino"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", kind=2, algorithm="fixmatch"))
    with pytest.raises(InvalidArgument, match="unknown pretraining preset"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", kind=2, preset="nope"))
    with pytest.raises(InvalidArgument, match="local_crops applies to objective.name=dino only"):
        core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a", kind=2, algorithm="simclr",
                                                preset="quick_dino"))
    training = core.submit_job(caller(), SubmitRequest(project_id="p1", snapshot_id="snap-a"))
    assert "--task" not in training.row.rendered_spec and training.row.kind == 1
