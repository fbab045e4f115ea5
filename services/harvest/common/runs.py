"""A training run's objects under `runs/<job>/`: its metrics log and its checkpoints.

The training job writes them (`RunWriter`); the scheduler and the UI read them (`RunReader`). Layout:

- `runs/<job>/metrics.jsonl`: one JSON object per line, each with at least `step` and `kind`
  (`train`, `eval`, `state_check`, `event`). Object stores cannot append, so the writer keeps the file
  locally and re-puts the whole object atomically on `flush()`; a reader sees a complete prefix.
- `runs/<job>/checkpoints/step-<000000123>.pt`: checkpoints, each written as a whole object *before*
  `runs/<job>/checkpoints/latest` (a tiny JSON pointer `{"step", "key"}`) is replaced, so a reader that
  follows the pointer never sees a partial checkpoint. Older checkpoints are pruned after the pointer moves.
- `runs/<job>/model/...`: the final model package (written with `put_bytes`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvest.common.errors import NotFound
from harvest.common.objectstore import ObjectStore, check_key

METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
LATEST = "latest"
#: Per-item noisy-label scores of a noisy-label job ({item_id, score, given_class, suggested_class} lines);
#: the inference service sends them to labels as suspected errors when it registers the job's model.
SUSPECTED_ERRORS = "suspected_errors.jsonl"


@dataclass(frozen=True, slots=True)
class CheckpointRef:
    """Where one published checkpoint lives."""

    step: int
    key: str


def _prefix(run_dir: str) -> str:
    return check_key(run_dir.strip("/")) + "/"


class RunReader:
    """Read-only view of a run (used by the scheduler to follow progress, and by the job to resume)."""

    def __init__(self, store: ObjectStore, run_dir: str) -> None:
        self.store = store
        self.prefix = _prefix(run_dir)

    def key(self, name: str) -> str:
        return self.prefix + name

    def metrics(self) -> list[dict[str, Any]]:
        """Every record written so far (empty when the run has not flushed yet)."""
        try:
            data = self.store.get(self.key(METRICS))
        except NotFound:
            return []
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]

    def latest_checkpoint(self) -> CheckpointRef | None:
        """The newest published checkpoint, following the `latest` pointer (None when there is none)."""
        try:
            pointer = json.loads(self.store.get(self.key(f"{CHECKPOINTS}/{LATEST}")))
        except NotFound:
            return None
        ref = CheckpointRef(int(pointer["step"]), str(pointer["key"]))
        return ref if self.store.exists(ref.key) else self._newest_listed()

    def _newest_listed(self) -> CheckpointRef | None:
        """Fallback when the pointer names a pruned object: the highest-step checkpoint listed."""
        refs = list(self.checkpoints())
        return refs[-1] if refs else None

    def checkpoints(self) -> Iterator[CheckpointRef]:
        """Published checkpoints in step order."""
        for info in self.store.list(self.key(f"{CHECKPOINTS}/step-")):
            name = info.key.rsplit("/", 1)[-1]
            if name.endswith(".pt"):
                yield CheckpointRef(int(name[len("step-"):-len(".pt")]), info.key)

    def download_checkpoint(self, ref: CheckpointRef, path: Path) -> Path:
        self.store.download(ref.key, path)
        return path


class RunWriter(RunReader):
    """The job's side: append metrics locally, publish them and checkpoints atomically.

    Only one process of a job (rank 0) writes. `resume_step` drops records past the step a restarted job
    resumes from, so a curve never shows the steps that were redone.
    """

    def __init__(self, store: ObjectStore, run_dir: str, local_dir: Path, *, resume_step: int | None = None,
                 flush_seconds: float = 10.0, keep_checkpoints: int = 2) -> None:
        super().__init__(store, run_dir)
        self.local_dir = local_dir
        local_dir.mkdir(parents=True, exist_ok=True)
        self._metrics_path = local_dir / METRICS
        self.flush_seconds = flush_seconds
        self.keep_checkpoints = max(1, keep_checkpoints)
        self._last_flush = time.monotonic()
        self._dirty = False
        kept = [r for r in self.metrics() if resume_step is None or int(r.get("step", 0)) <= resume_step]
        self._metrics_path.write_text("".join(json.dumps(r) + "\n" for r in kept))
        self._dirty = resume_step is not None

    def log(self, record: dict[str, Any], *, flush: bool = False) -> None:
        """Append one record; publish when `flush` or when `flush_seconds` have passed since the last one."""
        with open(self._metrics_path, "a") as out:
            out.write(json.dumps(record, default=float) + "\n")
        self._dirty = True
        if flush or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        if self._dirty:
            self.store.put_file(self.key(METRICS), self._metrics_path, "application/x-ndjson")
            self._dirty = False
        self._last_flush = time.monotonic()

    def publish_checkpoint(self, step: int, path: Path) -> CheckpointRef:
        """Upload a checkpoint file, then move the `latest` pointer to it, then prune old ones."""
        ref = CheckpointRef(step, self.key(f"{CHECKPOINTS}/step-{step:09d}.pt"))
        self.store.put_file(ref.key, path)
        pointer = json.dumps({"step": step, "key": ref.key, "written_at": time.time()}).encode()
        self.store.put(self.key(f"{CHECKPOINTS}/{LATEST}"), pointer, content_type="application/json")
        for old in list(self.checkpoints())[: -self.keep_checkpoints]:
            if old.step != step:
                self.store.delete(old.key)
        return ref

    def put_bytes(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        key = self.key(name)
        self.store.put(key, data, content_type=content_type)
        return key
