"""Dynamic batching: images from concurrent Predict / PredictStream calls share one forward pass.

A worker thread takes the first waiting image, then gathers more until the batch is full (`max_batch`)
or `max_wait_s` has passed since that first image, runs the network once and resolves each image's
future. Under load batches fill at once (no waiting); a lone request waits at most `max_wait_s`. Images
are taken in arrival order.

A model may have several workers, each running its own forward pass: on CPU one single-threaded pass per
core serves more images than one pass spread over every core (no barrier between the cores after each
layer, so a core briefly taken by the request threads delays one pass instead of stalling all of them;
`bench/inference.py` measures both). `setup` runs once in each worker thread before its first batch (to
set that thread's intra-op thread count).

A model evicted from the cache is closed while requests that already hold it may still submit; those are
served in the caller's own thread (the model lives as long as they hold it) instead of waiting behind the
workers' stop signal for a future nobody would resolve.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np
import torch

#: One image's result: (probabilities (C,), embedding (D,)).
Result = tuple[np.ndarray, np.ndarray]
_STOP = object()


class DynamicBatcher:
    """Collects single images into batches for `run(uint8 (N, C, H, W)) -> (probs (N, C), emb (N, D))`."""

    def __init__(self, run: Callable[[torch.Tensor], tuple[np.ndarray, np.ndarray]], *, max_batch: int,
                 max_wait_s: float, name: str = "batcher", workers: int = 1,
                 setup: Callable[[], None] | None = None) -> None:
        if workers < 1:
            raise ValueError("a batcher needs at least one worker")
        self._run = run
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.workers = workers
        self._setup = setup
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._counts = threading.Lock()
        self._state = threading.Lock()  # orders every queued image before the stop signals
        self._closed = False
        self.batches = 0
        self.images = 0
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{index}", daemon=True)
                         for index in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, images: Sequence[torch.Tensor]) -> list[Future[Result]]:
        """Queue images (each (C, H, W) uint8); one future per image, resolved when its batch ran."""
        items: list[tuple[torch.Tensor, Future[Result]]] = [(image, Future()) for image in images]
        with self._state:
            if not self._closed:
                for item in items:
                    self._queue.put(item)
                return [future for _, future in items]
        for start in range(0, len(items), self.max_batch):  # closed: served here, in max_batch slices
            chunk = [item for item in items[start:start + self.max_batch] if item[1].set_running_or_notify_cancel()]
            if chunk:
                self._execute(chunk)
        return [future for _, future in items]

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Finish what is queued, then stop the workers; later submissions run in their caller's thread."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            for _ in self._threads:
                self._queue.put(_STOP)

    def _gather(self, first: Any) -> tuple[list[Any], bool]:
        batch, stop = [first], False
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is _STOP:
                stop = True
                break
            batch.append(item)
        return batch, stop

    def _loop(self) -> None:
        if self._setup is not None:
            self._setup()
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch, stop = self._gather(first)
            live = [(image, future) for image, future in batch if future.set_running_or_notify_cancel()]
            if live:
                self._execute(live)
            if stop:
                return

    def _execute(self, batch: list[tuple[torch.Tensor, Future[Result]]]) -> None:
        try:
            probabilities, embeddings = self._run(torch.stack([image for image, _ in batch]))
        except BaseException as exc:  # noqa: BLE001 - the callers receive the failure
            for _, future in batch:
                future.set_exception(exc)
            return
        with self._counts:
            self.batches += 1
            self.images += len(batch)
        for index, (_, future) in enumerate(batch):
            future.set_result((probabilities[index], embeddings[index]))
