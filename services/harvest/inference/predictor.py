"""Predict and PredictStream: inputs (stored image ids or raw bytes) through the shared dynamic batcher.

Each input is checked and decoded on its own: a bad one gets an error in its result and the others are
still answered. Results keep input order; a stream yields each result as soon as its batch has run.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from harvest.common.errors import HarvestError, InvalidArgument, NotFound
from harvest.common.peers import Caller
from harvest.inference.links import ServiceLinks
from harvest.inference.package import Preprocessing
from harvest.inference.registry import Registry
from harvest.inference.runtime import Runtime
from harvest.inference.settings import InferenceSettings
from harvest.inference.tables import ModelRow

MAX_INPUTS = 256
#: Inputs of one stream decoded ahead of the results sent (bounds a stream's memory).
STREAM_WINDOW = 512


@dataclass(frozen=True, slots=True)
class Input:
    """One image to predict: exactly one of image_id / image_bytes (or neither, which is an error)."""

    image_id: str = ""
    image_bytes: bytes = b""
    client_key: str = ""
    has_source: bool = True


@dataclass(frozen=True, slots=True)
class Options:
    model_id: str
    project_id: str
    top_k: int
    include_embeddings: bool


@dataclass
class Result:
    index: int
    source: Input
    probabilities: np.ndarray | None = None
    embedding: np.ndarray | None = None
    error: str = ""


class Predictor:
    def __init__(self, registry: Registry, links: ServiceLinks, runtime: Runtime, settings: InferenceSettings) -> None:
        self._registry = registry
        self._links = links
        self._runtime = runtime
        self._settings = settings

    def resolve(self, caller: Caller, options: Options) -> ModelRow:
        if options.top_k < 0:
            raise InvalidArgument("top_k must be 0 (meaning 5) or positive")
        return self._registry.usable(caller, options.model_id, options.project_id)

    def predict(self, caller: Caller, options: Options, inputs: Sequence[Input]) -> tuple[ModelRow, list[Result]]:
        if not inputs:
            raise InvalidArgument("send at least one input")
        if len(inputs) > MAX_INPUTS:
            raise InvalidArgument(f"{len(inputs)} inputs is over the limit of {MAX_INPUTS}: use PredictStream")
        row = self.resolve(caller, options)
        entry = self._runtime.entry(row)
        prep = entry.model.prep
        pending = [self._submit(caller, row, options, prep, entry, index, item) for index, item in enumerate(inputs)]
        return row, [self._collect(result, future) for result, future in pending]

    def stream(self, caller: Caller, options: Options, inputs: Iterable[Input]) -> tuple[ModelRow, Iterator[Result]]:
        """Resolve the model at once (errors before any result), then results as their batches complete."""
        row = self.resolve(caller, options)
        entry = self._runtime.entry(row)
        window: queue.Queue[Any] = queue.Queue(maxsize=STREAM_WINDOW)
        done = object()

        def feed() -> None:
            try:
                for index, item in enumerate(inputs):
                    window.put(self._submit(caller, row, options, entry.model.prep, entry, index, item))
            except BaseException as exc:  # noqa: BLE001 - the request stream failed (client gone)
                window.put(exc)
            window.put(done)

        threading.Thread(target=feed, name="predict-stream", daemon=True).start()

        def results() -> Iterator[Result]:
            while True:
                pending = window.get()
                if pending is done:
                    return
                if isinstance(pending, BaseException):
                    raise pending
                yield self._collect(*pending)

        return row, results()

    def _submit(self, caller: Caller, row: ModelRow, options: Options, prep: Preprocessing, entry: Any, index: int,
                item: Input) -> tuple[Result, Future[Any] | None]:
        from harvest.inference.preprocess import BadImage, decode

        result = Result(index, item)
        try:
            data = self._bytes(caller, row, options, item)
            image = decode(data, prep, max_bytes=self._settings.max_input_bytes,
                           max_pixels=self._settings.max_input_pixels)
        except (BadImage, InvalidArgument, NotFound) as exc:
            result.error = str(exc)
            return result, None
        return result, entry.batcher.submit([image])[0]

    def _bytes(self, caller: Caller, row: ModelRow, options: Options, item: Input) -> bytes:
        if not item.has_source:
            raise InvalidArgument("input has neither image_id nor image_bytes")
        if item.image_id:
            project = options.project_id or row.project_id
            try:
                return self._links.image(caller, project, item.image_id)
            except NotFound:
                raise NotFound(f"no image {item.image_id[:12]}… in project {project}") from None
            except HarvestError as exc:
                if exc.code.name in ("INVALID_ARGUMENT",):
                    raise InvalidArgument(f"image id {item.image_id[:16]!r} is not valid") from None
                raise
        return item.image_bytes

    @staticmethod
    def _collect(result: Result, future: Future[Any] | None) -> Result:
        if future is not None:
            result.probabilities, result.embedding = future.result()
        return result
