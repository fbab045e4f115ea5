"""From a run's `metrics.jsonl` to job events: metric points (train/eval curves) and a progress summary.

Only records past the last step already emitted for their phase become events, so a requeued run that
recomputes steps after its checkpoint never duplicates points on a curve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

PHASES = {"train": "train", "eval": "eval"}
SKIP = {"kind", "step", "per_class_accuracy", "confusion", "fingerprints"}


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    events: list[tuple[str, dict[str, Any]]]
    progress: dict[str, Any]
    metric_steps: dict[str, int]


def follow(records: list[dict[str, Any]], metric_steps: dict[str, int], previous: dict[str, Any],
           total_steps: int, world_size: int, gpu_count: int) -> ProgressUpdate | None:
    """New events since `metric_steps`, or None when nothing new was logged."""
    steps = dict(metric_steps)
    events: list[tuple[str, dict[str, Any]]] = []
    latest = dict(previous.get("latest_metrics") or {})
    step, rate, eta = int(previous.get("step", 0)), float(previous.get("images_per_second", 0.0)), 0.0
    for record in records:
        phase = PHASES.get(str(record.get("kind")))
        if phase is None:
            continue
        record_step = int(record.get("step", 0))
        if record_step <= steps.get(phase, 0):
            continue
        values = {k: float(v) for k, v in record.items() if k not in SKIP and isinstance(v, int | float)
                  and not isinstance(v, bool)}
        if phase == "eval":
            values = {f"val_{k}": v for k, v in values.items()}
        steps[phase] = record_step
        events.append(("metric", {"step": record_step, "phase": phase, "values": values, "time": time.time()}))
        latest.update(values)
        if phase == "train":
            step = max(step, record_step)
            rate = values.get("images_per_s", rate)
            eta = values.get("eta_s", eta)
    if not events:
        return None
    progress = {"step": step, "total_steps": total_steps, "images_per_second": rate, "eta_s": eta,
                "gpu_count": gpu_count, "world_size": world_size, "latest_metrics": latest,
                "updated_at": time.time()}
    events.append(("progress", progress))
    return ProgressUpdate(events, progress, steps)
