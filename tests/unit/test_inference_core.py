"""Inference building blocks without servers: preprocessing matches training, the dynamic batcher, the
model cache's memory bound, confident learning, prediction scores and the package format."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torchvision.io import encode_jpeg, encode_png

from harvest.common.errors import FailedPrecondition
from harvest.common.snapshots import ManifestEntry
from harvest.inference import messages
from harvest.inference.batcher import DynamicBatcher
from harvest.inference.cache import ModelCache
from harvest.inference.package import Preprocessing, evaluation_report, parse
from harvest.inference.preprocess import BadImage, decode, normalize
from harvest.inference.suspects import confident_learning, find_suspects
from harvest.inference.tables import ModelRow
from harvest.training import data as training_data
from harvest.training.augment import Augmenter
from harvest.training.config import AugmentConfig
from harvest.training.datasets import TORCHVISION_IO

pytestmark = pytest.mark.filterwarnings(f"ignore:{TORCHVISION_IO}")


# ---- preprocessing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("channels", "encoder"), [(1, encode_png), (3, encode_png), (3, encode_jpeg)])
def test_preprocessing_is_exactly_what_training_does(tmp_path: Path, channels: int, encoder: object) -> None:
    generator = torch.Generator().manual_seed(channels)
    image = torch.randint(0, 256, (3, 45, 37), dtype=torch.uint8, generator=generator)
    data = encoder(image).numpy().tobytes()  # type: ignore[operator]
    path = tmp_path / "image"
    path.write_bytes(data)
    entry = ManifestEntry("k", "0" * 64, 37, 45, "a", "labeled")
    mean, std = (0.3,) * channels, (0.2,) * channels
    trained = Augmenter(AugmentConfig(), mean, std, seed=0).normalize(
        training_data.decode(path, entry, 32, channels).unsqueeze(0))
    prep = Preprocessing(32, channels, mean, std)
    served = normalize(decode(data, prep, max_bytes=1 << 20, max_pixels=1 << 20).unsqueeze(0),
                       torch.tensor(mean).view(1, -1, 1, 1), torch.tensor(std).view(1, -1, 1, 1))
    torch.testing.assert_close(served, trained, rtol=0, atol=0)


@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty"), (b"GIF89a....", "not an image"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt"),
    (b"x" * 2000, "over the"),
])
def test_hostile_inputs_are_refused_with_a_reason(data: bytes, words: str) -> None:
    with pytest.raises(BadImage, match=words):
        decode(data, Preprocessing(28, 1, (0.5,), (0.5,)), max_bytes=1000, max_pixels=10_000)


def test_too_many_pixels_is_refused_before_decoding() -> None:
    big = encode_png(torch.zeros((1, 200, 200), dtype=torch.uint8)).numpy().tobytes()
    with pytest.raises(BadImage, match="pixels"):
        decode(big, Preprocessing(28, 1, (0.5,), (0.5,)), max_bytes=1 << 20, max_pixels=10_000)


# ---- dynamic batching -------------------------------------------------------------------------------------

def _echo(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    flat = images.float().flatten(1).numpy()
    return flat[:, :2], flat


def test_batcher_merges_concurrent_requests_and_keeps_each_result_with_its_image() -> None:
    calls: list[int] = []

    def run(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(images))
        time.sleep(0.01)
        return _echo(images)

    batcher = DynamicBatcher(run, max_batch=16, max_wait_s=0.05)
    results: dict[int, list[float]] = {}

    def client(number: int) -> None:
        futures = batcher.submit([torch.full((1, 2, 2), number, dtype=torch.uint8)])
        results[number] = futures[0].result(timeout=10)[1].tolist()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batcher.close()
    assert all(values == [float(n)] * 4 for n, values in results.items()) and len(results) == 40
    assert max(calls) > 1 and max(calls) <= 16 and sum(calls) == 40


def test_batcher_failure_reaches_every_caller_of_the_batch() -> None:
    def broken(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        raise RuntimeError("device lost")

    batcher = DynamicBatcher(broken, max_batch=4, max_wait_s=0.01)
    futures = batcher.submit([torch.zeros((1, 2, 2), dtype=torch.uint8)] * 3)
    for future in futures:
        with pytest.raises(RuntimeError, match="device lost"):
            future.result(timeout=5)
    batcher.close()

def test_images_submitted_after_close_are_still_answered() -> None:
    """An evicted model's batcher is closed while a request that already holds the model submits: that
    request is served (in its own thread, in max_batch slices), never left waiting on a future."""
    calls: list[int] = []

    def run(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(images))
        return _echo(images)

    batcher = DynamicBatcher(run, max_batch=4, max_wait_s=0.001, workers=2)
    queued = batcher.submit([torch.full((1, 2, 2), 1, dtype=torch.uint8)])
    batcher.close()
    batcher.close()  # closing twice is harmless
    late = batcher.submit([torch.full((1, 2, 2), n, dtype=torch.uint8) for n in range(10)])
    assert queued[0].result(timeout=5)[1].tolist() == [1.0] * 4
    assert [f.result(timeout=5)[1].tolist() for f in late] == [[float(n)] * 4 for n in range(10)]
    assert batcher.closed and sorted(calls) == [1, 2, 4, 4]  # the queued image by a worker, the rest inline
    for thread in batcher._threads:
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_batcher_workers_run_batches_at_once_each_with_its_own_thread_setting() -> None:
    """Two workers: two forward passes overlap, each worker thread ran `setup` (its intra-op thread count)
    before its first batch while the calling thread keeps its own count, and close() stops both workers."""
    running, most, lock = [0], [0], threading.Lock()
    seen_threads: set[int] = set()
    outer_threads = torch.get_num_threads()

    def run(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        seen_threads.add(torch.get_num_threads())
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return _echo(images)

    batcher = DynamicBatcher(run, max_batch=2, max_wait_s=0.001, workers=2,
                             setup=lambda: torch.set_num_threads(1))
    futures = batcher.submit([torch.full((1, 2, 2), n, dtype=torch.uint8) for n in range(8)])
    assert [f.result(timeout=10)[1].tolist() for f in futures] == [[float(n)] * 4 for n in range(8)]
    batcher.close()
    for thread in batcher._threads:
        thread.join(timeout=5)
    assert most[0] == 2 and seen_threads == {1} and torch.get_num_threads() == outer_threads
    assert not any(thread.is_alive() for thread in batcher._threads)
    assert batcher.images == 8 and batcher.batches >= 4


def test_worker_count_and_core_share_do_not_follow_a_workers_thread_setting() -> None:
    """A worker's torch.set_num_threads(1) becomes the default of threads that have not used torch yet;
    the default worker count and each worker's share must still come from the cores, in any thread."""
    from harvest.inference.network import CPU_THREADS, MAX_DEFAULT_WORKERS, forward_workers

    batcher = DynamicBatcher(_echo, max_batch=2, max_wait_s=0.001, workers=1, setup=lambda: torch.set_num_threads(1))
    batcher.submit([torch.zeros((1, 2, 2), dtype=torch.uint8)])[0].result(timeout=10)
    seen: dict[str, int] = {}

    def fresh_thread() -> None:
        seen["workers"] = forward_workers(torch.device("cpu"), 0)
        seen["gpu_workers"] = forward_workers(torch.device("cuda"), 0)
        seen["explicit"] = forward_workers(torch.device("cpu"), 3)

    thread = threading.Thread(target=fresh_thread)
    thread.start()
    thread.join()
    batcher.close()
    assert seen == {"workers": min(CPU_THREADS, MAX_DEFAULT_WORKERS), "gpu_workers": 1, "explicit": 3}


def test_batchers_wait_for_a_fuller_batch_only_on_a_gpu_unless_told() -> None:
    """On CPU a waiting worker idles its core (and batch size barely changes the cost per image): no wait
    by default there; a GPU waits GPU_BATCH_WAIT_MS; a configured wait is used as given on either."""
    from harvest.inference.network import GPU_BATCH_WAIT_MS
    from harvest.inference.runtime import Runtime
    from harvest.inference.settings import InferenceSettings

    def batcher_wait(device: str, max_wait_s: float | None) -> float:
        model = SimpleNamespace(nbytes=1, run=None, device=torch.device(device), worker_setup=lambda workers: None)
        cache = ModelCache(lambda model_id: model, budget_bytes=10, max_batch=4,  # type: ignore[arg-type,return-value]
                           max_wait_s=max_wait_s, workers=1)
        try:
            return cache.get("m").batcher.max_wait_s
        finally:
            cache.close()

    assert batcher_wait("cpu", None) == 0.0
    assert batcher_wait("cuda", None) == GPU_BATCH_WAIT_MS / 1000 > 0
    assert batcher_wait("cpu", 0.007) == 0.007 and batcher_wait("cuda", 0.0) == 0.0
    assert InferenceSettings().max_wait_ms is None
    runtime = Runtime(None, InferenceSettings(max_wait_ms=2.5))  # type: ignore[arg-type]
    assert runtime.cache._max_wait_s == 0.0025



# ---- model cache ------------------------------------------------------------------------------------------

def test_cache_evicts_least_recently_used_models_beyond_the_budget() -> None:
    loads: list[str] = []

    def load(model_id: str) -> SimpleNamespace:
        loads.append(model_id)
        return SimpleNamespace(nbytes=100, run=lambda images: SimpleNamespace(probabilities=None, embeddings=None),
                               device=torch.device("cpu"), worker_setup=lambda workers: None)

    cache = ModelCache(load, budget_bytes=250, max_batch=4, max_wait_s=0)  # type: ignore[arg-type]
    cache.get("a")
    cache.get("b")
    cache.get("a")  # a is now the most recent
    cache.get("c")  # over budget: b goes
    assert cache.loaded() == ["a", "c"] and cache.used_bytes == 200
    cache.get("b")
    assert loads == ["a", "b", "c", "b"]
    cache.close()


def test_cache_loads_a_model_once_under_concurrent_requests() -> None:
    loads: list[str] = []

    def load(model_id: str) -> SimpleNamespace:
        loads.append(model_id)
        time.sleep(0.05)
        return SimpleNamespace(nbytes=1, run=None, device=torch.device("cpu"), worker_setup=lambda workers: None)

    cache = ModelCache(load, budget_bytes=10, max_batch=4, max_wait_s=0)  # type: ignore[arg-type]
    threads = [threading.Thread(target=cache.get, args=("m",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["m"]
    cache.close()


# ---- suspected errors -------------------------------------------------------------------------------------

def test_confident_learning_flags_labels_another_class_claims() -> None:
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8], [0.9, 0.1]])
    labels = np.array([0, 0, 1, 1, 1])  # the last one looks like class 0
    found = confident_learning(probabilities, labels)
    assert [(s.index, s.suggested) for s in found] == [(4, 0)] and found[0].score == pytest.approx(0.9)


def test_a_nearly_impossible_label_is_flagged_even_when_no_class_is_confident() -> None:
    # class 2 is hard (its members reach only ~0.6), so the last item's 0.55 for class 2 clears no
    # threshold; but its given class 0 gets 0.05 against a typical 0.9: it is flagged, suggesting class 2
    probabilities = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.9, 0.05],
                              [0.3, 0.1, 0.6], [0.2, 0.2, 0.6], [0.05, 0.4, 0.55]])
    labels = np.array([0, 0, 1, 1, 2, 2, 0])
    found = confident_learning(probabilities, labels)
    assert [(s.index, s.suggested) for s in found] == [(6, 2)]
    probabilities[6] = [0.3, 0.1, 0.6]  # 0.6 now clears t_2: off the confident joint's diagonal
    assert [s.index for s in confident_learning(probabilities, labels)] == [6]
    probabilities[6] = [0.3, 0.4, 0.3]  # doubtful but plausible (0.3 against a typical 0.7): not flagged
    assert confident_learning(probabilities, labels) == []


def test_flipped_labels_rank_first_among_clustered_embeddings() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 6, (4, 16))
    labels = np.repeat(np.arange(4), 50)
    embeddings = centers[labels] + rng.normal(0, 1, (200, 16))
    given = labels.copy()
    flipped = [3, 77, 120, 190]
    given[flipped] = (labels[flipped] + 1) % 4
    found = find_suspects(embeddings, given, 4, folds=5)
    assert sorted(s.index for s in found[:4]) == flipped
    assert all(s.suggested == labels[s.index] for s in found[:4])


def test_too_few_labels_flag_nothing() -> None:
    assert find_suspects(np.zeros((5, 3)), np.array([0, 1, 0, 1, 0]), 2) == []


# ---- scores and package -----------------------------------------------------------------------------------

def _row() -> ModelRow:
    return ModelRow(model_id="m", class_names=["a", "b", "c"], class_ids=["ia", "ib", ""])


def test_prediction_scores_come_from_the_full_distribution() -> None:
    message = messages.prediction(_row(), np.array([0.2, 0.7, 0.1], dtype=np.float32), None, top_k=1)
    assert [p.class_name for p in message.probabilities] == ["b"] and message.predicted_class_id == "ib"
    assert message.confidence == pytest.approx(0.7) and message.margin == pytest.approx(0.5)
    assert message.entropy == pytest.approx(-(0.2 * np.log(0.2) + 0.7 * np.log(0.7) + 0.1 * np.log(0.1)), rel=1e-5)
    assert len(messages.prediction(_row(), np.array([0.2, 0.7, 0.1]), None, top_k=0).probabilities) == 3


def _package(**changes: object) -> bytes:
    raw = {"format": "harvest.model/1", "snapshot_id": "s", "classes": ["a", "b"], "model": {"arch": "small_cnn",
           "width": 8}, "weights": "runs/j/model/weights.pt", "algorithm": "fixmatch", "steps": 10,
           "preprocessing": {"resolution": 16, "channels": 3, "mean": [0.5] * 3, "std": [0.25] * 3},
           "metrics": {"accuracy": 0.5, "confusion": [[3, 1], [2, 2]], "validation_images": 8, "step": 10}}
    raw.update(changes)
    return json.dumps(raw).encode()


def test_package_parses_and_reports_per_class_metrics() -> None:
    package = parse(_package(), "model.json")
    assert package.embedding_dim == 32 and package.preprocessing.channels == 3
    report = evaluation_report(package.metrics, package.classes)
    assert report["classes"][0] == {"class_name": "a", "accuracy": 0.75, "precision": 0.6, "support": 4}


@pytest.mark.parametrize("changes", [{"format": "other/1"}, {"classes": []},
                                     {"preprocessing": {"resolution": 16, "channels": 3, "mean": [0.5], "std": [1]}}])
def test_broken_packages_are_refused_with_the_reason(changes: dict[str, object]) -> None:
    with pytest.raises(FailedPrecondition, match="not a usable model package"):
        parse(_package(**changes), "runs/j/model/model.json")


@pytest.mark.parametrize(("arch", "norm"), [("small_cnn", "batch"), ("small_cnn", "group"), ("wrn28_2", "batch")])
def test_cpu_serving_runs_a_frozen_graph_that_gives_the_networks_outputs(arch: str, norm: str) -> None:
    from harvest.inference.network import LoadedModel
    from harvest.training.config import ModelConfig
    from harvest.training.models import build_model

    torch.manual_seed(0)
    network = build_model(ModelConfig(arch=arch, width=8, norm=norm), 3, 5)
    for module in network.modules():  # non-trivial statistics, so folding BatchNorm into the convolutions matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    prep = Preprocessing(16, 3, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    frozen = LoadedModel("m", network, prep, torch.device("cpu"))
    eager = LoadedModel("m", network, prep, torch.device("cpu"), cpu_graph=False)
    images = torch.randint(0, 256, (7, 3, 16, 16), dtype=torch.uint8)  # another batch size than the trace's
    assert isinstance(frozen.served, torch.jit.ScriptModule) and eager.served is eager.embedder
    assert frozen.nbytes == 2 * eager.nbytes  # the graph holds its own folded copy of the weights
    got, want = frozen.run(images), eager.run(images)
    np.testing.assert_allclose(got.probabilities, want.probabilities, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.embeddings, want.embeddings, rtol=1e-4, atol=1e-4)


class _Untraceable(torch.nn.Module):
    """Returns a Python number beside a tensor: the tracer refuses it."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        return x.flatten(1), 3


class _DataDependent(torch.nn.Module):
    """Takes a branch by the input's values: a trace would keep the branch of its own example."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = x.flatten(1)
        return (features if bool(features.sum() > 0) else -features), features


@pytest.mark.parametrize("network", [_Untraceable(), _DataDependent()], ids=["untraceable", "data-dependent"])
def test_a_network_that_cannot_be_frozen_is_served_eagerly_and_says_why(
        network: torch.nn.Module, caplog: pytest.LogCaptureFixture) -> None:
    from harvest.inference.network import frozen_graph

    prep = Preprocessing(4, 1, (0.5,), (0.25,))
    with caplog.at_level("WARNING", logger="harvest.inference.network"):
        assert frozen_graph(network, prep, torch.device("cpu")) is None  # type: ignore[arg-type]
    assert "serving the network eagerly" in caplog.text
