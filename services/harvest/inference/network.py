"""A registered model loaded for inference: the training program's network with its EMA weights, split
into body (embedding) and head (classifier), on the GPU when there is one.

Importing this module imports torch (~5 s); the service imports it only when a model is first needed.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from harvest.common.errors import FailedPrecondition
from harvest.inference.package import Preprocessing
from harvest.inference.preprocess import normalize
from harvest.training.config import ModelConfig
from harvest.training.models import SmallCNN, WideResNet, build_model

log = logging.getLogger(__name__)


class Embedder(nn.Module):
    """forward(x) -> (logits, embedding): the penultimate features and the classifier applied to them."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        if isinstance(model, SmallCNN):
            self.body: nn.Module = model.features
            self.head: nn.Module = model.classifier
        elif isinstance(model, WideResNet):
            self.body = nn.Sequential(model.stem, model.blocks, model.head)
            self.head = model.classifier
        else:  # torchvision ResNet: every child but the final fc, then flatten
            children = list(model.children())
            self.body = nn.Sequential(*children[:-1], nn.Flatten())
            self.head = children[-1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return self.head(features), features


#: Intra-op threads torch would use, read once when this module is imported (before any batcher worker
#: set its own count: `torch.set_num_threads` in one thread also becomes the default of threads that have
#: not used torch yet, so reading it later in a new thread could give a worker's share instead).
CPU_THREADS = max(1, torch.get_num_threads())
#: Most default CPU workers: measured on 2 cores only; on a large host many single-threaded workers
#: would split the same queue into tiny batches.
MAX_DEFAULT_WORKERS = 4
#: Default batching wait on a GPU (see `batch_wait_s`).
GPU_BATCH_WAIT_MS = 4.0


def forward_workers(device: torch.device, setting: int) -> int:
    """Forward passes one model runs at once: the setting, or by default one per core on CPU, at most
    MAX_DEFAULT_WORKERS (each pass on its share of the cores; see `batcher`), and one on a GPU (which
    parallelizes within the pass)."""
    if setting > 0:
        return setting
    return min(CPU_THREADS, MAX_DEFAULT_WORKERS) if device.type == "cpu" else 1


def batch_wait_s(device: torch.device, setting_s: float | None) -> float:
    """How long a batcher worker waits for more images after the first: the setting, or by default none on
    CPU and GPU_BATCH_WAIT_MS on a GPU.

    Why none on CPU: each worker owns a core there, so while it waits for a batch to fill its core idles,
    and a CPU forward costs about the same per image whatever the batch size; with 16 clients of 4 images
    each, waiting 4 ms kept the server on 1.56 of 2 cores (547-618 images/s), not waiting on 1.87
    (617-641 images/s; `bench/inference.py`).
    A GPU forward of 64 images costs little more than one of 4, so there waiting for a fuller batch pays.
    """
    if setting_s is not None:
        return setting_s
    return 0.0 if device.type == "cpu" else GPU_BATCH_WAIT_MS / 1000


def use_all_cores() -> None:
    """Give the calling thread every core for its own forward passes (pool scoring), whatever count the
    batcher workers set before this thread first used torch."""
    torch.set_num_threads(CPU_THREADS)


def frozen_graph(embedder: Embedder, prep: Preprocessing, device: torch.device) -> torch.jit.ScriptModule | None:
    """The embedder traced and frozen for CPU serving, or None where it cannot be (logged; eager serves).

    Why: a frozen graph folds each BatchNorm that follows a convolution into it and runs the whole forward
    in C++ without Python's interpreter lock, so the batcher's concurrent forward passes and the request
    threads stop queueing for that lock between layers (`bench/inference.py` measures both, each against a
    bare loop of the same module). TorchScript is deprecated in favour of torch.compile/torch.export, but
    those compile for minutes per model and shape on CPU; tracing takes well under a second and is the
    format `harvest.inference.export` already writes.
    """
    if device.type != "cpu":
        return None
    def example(batch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(batch)
        return torch.randn((batch, prep.channels, prep.resolution, prep.resolution), generator=generator).contiguous(
            memory_format=torch.channels_last)

    try:
        # Filters are process-wide (a concurrent load may briefly see them): acceptable for a one-off trace.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", FutureWarning)  # the deprecation note above
            # A tracer warning means the trace may hold a value of this input (a shape, a branch taken)...
            warnings.simplefilter("error", torch.jit.TracerWarning)
            # ...except torch's own shape checks (GroupNorm's "more than 1 value per channel"), which only raise.
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning, module=r"torch\.nn\.functional")
            graph = torch.jit.freeze(torch.jit.trace(embedder, example(2)))
            check = example(3)  # another batch size and other values than the trace's
            eager, traced = embedder(check), graph(check)
        if not all(torch.allclose(a, b, rtol=1e-3, atol=1e-4) for a, b in zip(eager, traced, strict=True)):
            raise ValueError("the frozen graph does not reproduce the network's outputs")
    except Exception as exc:  # noqa: BLE001 - any network the tracer cannot follow is served eagerly
        log.warning("serving the network eagerly: it could not be frozen into a graph (%s)", str(exc)[:200])
        return None
    return graph


def pick_device(setting: str) -> torch.device:
    if setting == "cuda" or (setting == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


@dataclass
class Outputs:
    """Per image: class probabilities (N, C) and embeddings (N, D), as float32 numpy arrays."""

    probabilities: np.ndarray
    embeddings: np.ndarray


class LoadedModel:
    """One model ready to run: `run(uint8 batch) -> Outputs`; safe to call from several threads."""

    def __init__(self, model_id: str, network: nn.Module, prep: Preprocessing, device: torch.device,
                 cpu_graph: bool = True) -> None:
        self.model_id = model_id
        self.prep = prep
        self.device = device
        # channels-last: oneDNN's and cuDNN's fast convolution layout (measured ~20% faster for WRN-28-2 on CPU).
        self.network = network.to(device, memory_format=torch.channels_last).eval()
        self.embedder = Embedder(self.network).eval()
        #: What `run` calls: the frozen graph on CPU (see `frozen_graph`), else the eager embedder.
        self.served: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] = self.embedder
        graph = frozen_graph(self.embedder, prep, device) if cpu_graph else None
        if graph is not None:
            self.served = graph
        shape = (1, prep.channels, 1, 1)
        self.mean = torch.tensor(prep.mean, dtype=torch.float32, device=device).view(shape)
        self.std = torch.tensor(prep.std, dtype=torch.float32, device=device).view(shape)
        # What the cache budget counts: the weights, twice with a frozen graph (it holds its own folded copy;
        # the eager network stays for export).
        weights = sum(t.numel() * t.element_size() for t in self.network.state_dict().values())
        self.nbytes = weights * (2 if graph is not None else 1)

    def worker_setup(self, workers: int) -> Callable[[], None]:
        """What each of `workers` batcher threads runs first: on CPU, its share of the cores as its intra-op
        thread count. Threads that already used torch keep theirs; threads that have not get this count as
        their default, which is why the core count is read once at import (CPU_THREADS) and pool scoring
        sets its own (`use_all_cores`)."""
        share = max(1, CPU_THREADS // workers)

        def setup() -> None:
            if self.device.type == "cpu":
                torch.set_num_threads(share)

        return setup

    def inputs(self, images: torch.Tensor) -> torch.Tensor:
        normalized = normalize(images.to(self.device, non_blocking=True), self.mean, self.std)
        return normalized.contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def run(self, images: torch.Tensor) -> Outputs:
        logits, features = self.served(self.inputs(images))
        probabilities = torch.softmax(logits.float(), dim=-1)
        return Outputs(probabilities.cpu().numpy(), features.float().cpu().numpy())


def load(model_id: str, network_config: dict[str, object], num_classes: int, prep: Preprocessing, weights: bytes,
         device: torch.device, cpu_graph: bool = True) -> LoadedModel:
    """Build the training program's network and load the package's weights; FailedPrecondition if they do
    not fit (a package from another version of the training program, or a damaged file)."""
    try:
        cfg = ModelConfig.model_validate({**network_config, "pretrained": None})
        network = build_model(cfg, prep.channels, num_classes)
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001 - any failure means the package cannot be used
        raise FailedPrecondition(f"model {model_id} cannot be loaded: {str(exc)[:300]}") from None
    return LoadedModel(model_id, network, prep, device, cpu_graph)
