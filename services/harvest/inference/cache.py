"""Loaded models kept in memory, least recently used first out, bounded by the bytes of their weights.

Each entry owns its dynamic batcher. A model is loaded once even when many calls ask for it at the same
moment (a per-model lock); the model just loaded is never the one evicted, so a model larger than the
whole budget still serves (alone).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harvest.inference.batcher import DynamicBatcher
    from harvest.inference.network import LoadedModel


@dataclass
class Entry:
    model: LoadedModel
    batcher: DynamicBatcher


class ModelCache:
    def __init__(self, load: Callable[[str], LoadedModel], budget_bytes: int, *, max_batch: int,
                 max_wait_s: float | None, workers: int = 0) -> None:
        self._load = load
        self.budget_bytes = budget_bytes
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._workers = workers
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, model_id: str) -> Entry:
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is not None:
                self._entries.move_to_end(model_id)
                return entry
            loading = self._loading.setdefault(model_id, threading.Lock())
        with loading:
            with self._lock:
                entry = self._entries.get(model_id)
            if entry is None:
                entry = self._make(model_id)
                with self._lock:
                    self._entries[model_id] = entry
                    self._evict(keep=model_id)
            with self._lock:
                self._loading.pop(model_id, None)
            return entry

    def _make(self, model_id: str) -> Entry:
        from harvest.inference.batcher import DynamicBatcher
        from harvest.inference.network import batch_wait_s, forward_workers

        model = self._load(model_id)
        workers = forward_workers(model.device, self._workers)

        def run(images):  # type: ignore[no-untyped-def]
            outputs = model.run(images)
            return outputs.probabilities, outputs.embeddings

        batcher = DynamicBatcher(run, max_batch=self._max_batch,
                                 max_wait_s=batch_wait_s(model.device, self._max_wait_s),
                                 name=f"batcher-{model_id[:8]}", workers=workers,
                                 setup=model.worker_setup(workers))
        return Entry(model, batcher)

    def _evict(self, keep: str) -> None:
        while self.used_bytes > self.budget_bytes and len(self._entries) > 1:
            oldest = next(iter(self._entries))
            if oldest == keep:
                self._entries.move_to_end(keep)
                oldest = next(iter(self._entries))
            self._entries.pop(oldest).batcher.close()

    def drop(self, model_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(model_id, None)
        if entry is not None:
            entry.batcher.close()

    @property
    def used_bytes(self) -> int:
        return sum(e.model.nbytes for e in self._entries.values())

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def close(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            entry.batcher.close()
