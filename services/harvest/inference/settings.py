"""Settings of the inference service (`HARVEST_INFERENCE_*`), read once at start and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class InferenceSettings(BaseSettings):
    """Registry database, model cache, dynamic batching, input limits and pool scoring."""

    model_config = SettingsConfigDict(env_prefix="HARVEST_INFERENCE_", extra="ignore", case_sensitive=False)

    db_url: str | None = Field(default=None, description="Model registry; default sqlite:///$HARVEST_HOME/inference.db")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="auto: the GPU when there is one.")
    cache_bytes: int = Field(default=2 * 1024**3, gt=0,
                             description="Loaded models kept in memory (weights), least recently used evicted.")
    max_batch: int = Field(default=64, ge=1, le=4096, description="Dynamic batching: most images per forward.")
    max_wait_ms: float | None = Field(
        default=None, ge=0, le=1000, description="Dynamic batching: longest wait for more images after the "
        "first; unset = none on CPU (a waiting worker idles its core and bigger batches cost as much per "
        "image there), 4 ms on a GPU (a fuller batch costs little more than a small one).")
    forward_workers: int = Field(
        default=0, ge=0, le=64, description="Dynamic batching: forward passes of one model at once; 0 = one per "
        "core on CPU (each single-threaded: more images/s than one pass over all cores), one on a GPU.")
    cpu_graph: bool = Field(
        default=True, description="On CPU, serve a frozen TorchScript graph of the network (BatchNorm folded, "
        "no interpreter lock during the forward); false serves the eager network.")
    max_input_bytes: int = Field(default=4 * 1024 * 1024, gt=0, description="One raw image of Predict.")
    max_input_pixels: int = Field(default=50_000_000, gt=0, description="Decompression-bomb guard (w x h).")
    scoring_batch: int = Field(default=256, ge=1, description="Images per forward in pool scoring.")
    scoring_put_batch: int = Field(default=1000, ge=1, le=2000, description="Predictions per PutPredictions.")
    cv_folds: int = Field(default=5, ge=2, le=20, description="Folds of the out-of-sample suspected-error model.")
    membership_ttl_s: float = Field(default=30.0, ge=0, description="How long a membership answer is reused.")

    def resolved_db_url(self, home: Path) -> str:
        return self.db_url or f"sqlite:///{home / 'inference.db'}"
