"""Turns a registered model into a running one: reads its package from `models/<model>/`, builds the
network on the chosen device and keeps it in the LRU cache with its batcher. torch is imported on the first
model needed, never at service start (health answers at once).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from harvest.common.objectstore import ObjectStore
from harvest.inference import package as packages
from harvest.inference.package import Preprocessing
from harvest.inference.tables import ModelRow

if TYPE_CHECKING:
    from harvest.inference.cache import Entry, ModelCache
    from harvest.inference.network import LoadedModel
    from harvest.inference.settings import InferenceSettings


class Runtime:
    def __init__(self, store: ObjectStore, settings: InferenceSettings) -> None:
        self._store = store
        self._settings = settings
        self._rows: dict[str, ModelRow] = {}
        self._cache: ModelCache | None = None
        self._lock = threading.Lock()

    @property
    def cache(self) -> ModelCache:
        with self._lock:
            if self._cache is None:
                from harvest.inference.cache import ModelCache

                self._cache = ModelCache(self._load, self._settings.cache_bytes, max_batch=self._settings.max_batch,
                                         max_wait_s=None if self._settings.max_wait_ms is None
                                         else self._settings.max_wait_ms / 1000,
                                         workers=self._settings.forward_workers)
            return self._cache

    def entry(self, row: ModelRow) -> Entry:
        with self._lock:
            self._rows[row.model_id] = row
        return self.cache.get(row.model_id)

    def model(self, row: ModelRow) -> LoadedModel:
        return self.entry(row).model

    def _load(self, model_id: str) -> LoadedModel:
        from harvest.inference import network

        row = self._rows[model_id]
        weights = self._store.get(row.package_prefix + packages.WEIGHTS_FILE)
        return network.load(model_id, row.network, len(row.class_names), Preprocessing.from_dict(row.preprocessing),
                            weights, network.pick_device(self._settings.device), self._settings.cpu_graph)

    def drop(self, model_id: str) -> None:
        """Unload a model (archived: it will not be used again)."""
        if self._cache is not None:
            self._cache.drop(model_id)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
