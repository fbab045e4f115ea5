"""The step loop every training program runs (SSL training, self-supervised pretraining): train steps,
logging windows, periodic evaluation and checkpoints, the preemption agreement, the final package.

An engine subclasses `StepLoop` and provides the pieces that differ (`train_step`, `_log`, `evaluate`,
`checkpoint`, `_finish`); the order of those calls, which decides what a resumed run repeats, is here once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from harvest.common.objectstore import ObjectStore
from harvest.common.runs import RunReader, RunWriter
from harvest.training.checkpoint import Checkpointer, PreemptionFlag
from harvest.training.config import TrainConfig
from harvest.training.data import mix_seed
from harvest.training.distributed import Comm, device_for
from harvest.training.runtime import setup_determinism


@dataclass
class Outcome:
    status: Literal["completed", "preempted"]
    step: int
    final_eval: dict[str, Any] = field(default_factory=dict)


class StepLoop:
    """`run()` trains from `self.step` to `train.steps`, or until every rank agrees to stop on a signal."""

    comm: Comm
    device: torch.device
    step: int
    checkpointer: Checkpointer
    writer: RunWriter | None
    preemption: PreemptionFlag
    last_eval: dict[str, Any]

    def _start(self, train: TrainConfig, comm: Comm) -> None:
        """This rank's device, memory format and seeded generators: the first thing either engine does."""
        self.comm = comm
        self.device = device_for(comm.env)
        self.cuda = self.device.type == "cuda"
        self.channels_last = self.cuda if train.channels_last is None else train.channels_last
        setup_determinism(mix_seed(train.seed, 0), train.deterministic, self.cuda)

    def _open_run(self, store: ObjectStore, run_dir: str, work_dir: Path, train: TrainConfig) -> None:
        """Resume from the run's latest checkpoint (the engine's `_resume`), then open its files: metrics and
        checkpoints are written by the leader only, after the resumed step so a restart repeats nothing."""
        self.checkpointer = Checkpointer(RunReader(store, run_dir), None, self.comm, work_dir / "checkpoints")
        self.step = self._resume()
        self.writer = RunWriter(store, run_dir, work_dir / "run", resume_step=self.step or None,
                                flush_seconds=train.flush_seconds,
                                keep_checkpoints=train.keep_checkpoints) if self.comm.env.is_leader else None
        self.checkpointer.writer = self.writer
        self.preemption = PreemptionFlag()
        self.last_eval = {}

    def _resume(self) -> int:
        raise NotImplementedError

    @property
    def train_config(self) -> TrainConfig:
        raise NotImplementedError

    def train_step(self, step: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def evaluate(self, step: int) -> dict[str, Any]:
        raise NotImplementedError

    def checkpoint(self, step: int) -> None:
        raise NotImplementedError

    def _log(self, step: int, window: dict[str, list[torch.Tensor]], seconds: float, steps: int,
             started: float) -> None:
        raise NotImplementedError

    def _finish(self, step: int) -> None:
        raise NotImplementedError

    def run(self) -> Outcome:
        cfg = self.train_config
        total = cfg.steps
        if self.step >= total:  # a restart after the end: just make sure the package exists
            self.last_eval = self.evaluate(total)
            self._finish(total)
            return Outcome("completed", total, self.last_eval)
        window: dict[str, list[torch.Tensor]] = {}
        window_start, window_steps, started = time.perf_counter(), 0, time.perf_counter()
        for step in range(self.step, total):
            logs = self.train_step(step)
            for key, value in logs.items():
                window.setdefault(key, []).append(value)
            window_steps += 1
            done = step + 1
            if done % cfg.log_every == 0 or done == total:
                self._log(done, window, time.perf_counter() - window_start, window_steps, started)
                window, window_start, window_steps = {}, time.perf_counter(), 0
            if done % cfg.eval_every == 0 or done == total:
                self.last_eval = self.evaluate(done)
            saved = done % cfg.checkpoint_every == 0 and done < total
            if saved:
                self.checkpoint(done)
            if done % cfg.signal_poll_every == 0 and done < total and self.preemption.agreed(self.comm, self.device):
                if not saved:
                    self.checkpoint(done)
                self._event(done, "preempted", signal=self.preemption.received)
                return Outcome("preempted", done, self.last_eval)
        self.checkpoint(total)
        self._finish(total)
        return Outcome("completed", total, self.last_eval)

    def _event(self, step: int, name: str, **fields: Any) -> None:
        if self.writer is not None:
            self.writer.log({"kind": "event", "step": step, "event": name, **fields}, flush=True)
