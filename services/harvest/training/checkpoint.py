"""Preemption safety: atomic checkpoints in the run dir, resume from the latest, and signal handling.

Slurm sends SIGUSR2 (with `--signal=USR2@<s>`) or SIGTERM before preemption, Kubernetes SIGTERM before
evicting a pod, torchrun forwards SIGTERM to its workers. The handler only sets a flag; every
`signal_poll_every` steps the ranks agree (all-reduce MAX) on whether any of them was signalled, so they
all stop after the *same* step, rank 0 writes one checkpoint, and the job exits with 143 (re-run me).
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import torch

from harvest.common.runs import RunReader, RunWriter
from harvest.training.distributed import Comm

log = logging.getLogger(__name__)
FORMAT = 1
PREEMPTED_EXIT_CODE = 143


class PreemptionFlag:
    """Set by SIGTERM/SIGUSR2; read collectively so every rank stops at the same step."""

    SIGNALS = (signal.SIGTERM, signal.SIGUSR2)

    def __init__(self) -> None:
        self.received: int | None = None
        for sig in self.SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def agreed(self, comm: Comm, device: torch.device) -> bool:
        """True on every rank when any rank was signalled (one tiny all-reduce, on the device NCCL needs)."""
        flag = torch.tensor([1.0 if self.received is not None else 0.0], device=device)
        return bool(comm.max_(flag).item() > 0) if comm.active else self.received is not None


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


class Checkpointer:
    """Writes (rank 0) and reads (every rank) the checkpoints of one run dir."""

    def __init__(self, reader: RunReader, writer: RunWriter | None, comm: Comm, scratch: Path) -> None:
        self.reader, self.writer, self.comm, self.scratch = reader, writer, comm, scratch
        scratch.mkdir(parents=True, exist_ok=True)

    def save(self, step: int, state: dict[str, Any]) -> None:
        """Every rank calls this (RNG states are gathered); rank 0 uploads, then moves `latest`."""
        rngs = self.comm.gather_objects(rng_state())
        if self.writer is None:
            return
        payload = {"format": FORMAT, "step": step, "world_size": self.comm.world_size, "rng": rngs, **state}
        fd, tmp = tempfile.mkstemp(dir=self.scratch, prefix=f"step-{step}.", suffix=".pt")
        os.close(fd)
        try:
            torch.save(payload, tmp)
            ref = self.writer.publish_checkpoint(step, Path(tmp))
        finally:
            Path(tmp).unlink(missing_ok=True)
        log.info("checkpoint written", extra={"step": step, "key": ref.key})

    def load_latest(self) -> dict[str, Any] | None:
        """The newest checkpoint's contents, restoring this rank's RNG state when the world size matches."""
        ref = self.reader.latest_checkpoint()
        if ref is None:
            return None
        path = self.reader.download_checkpoint(ref, self.scratch / f"resume-rank{self.comm.rank}.pt")
        state = torch.load(path, map_location="cpu", weights_only=False)
        path.unlink(missing_ok=True)
        if state.get("format") != FORMAT:
            raise RuntimeError(f"checkpoint {ref.key} has format {state.get('format')}, expected {FORMAT}")
        if state["world_size"] == self.comm.world_size:
            set_rng_state(state["rng"][self.comm.rank])
        log.info("resuming", extra={"step": ref.step, "key": ref.key, "saved_world_size": state["world_size"]})
        return state
