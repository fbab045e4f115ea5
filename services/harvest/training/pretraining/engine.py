"""The pretraining loop: views -> student (DDP) -> objective -> LARS/SGD with warm-up + cosine, checkpoints,
metrics, a k-NN probe and the backbone package.

It shares the SSL engine's machinery by import rather than by copy: `InfiniteSampler` (global batch drawn
from a seeded permutation, each rank its slice), `Checkpointer` + `PreemptionFlag` (SIGTERM/SIGUSR2 ->
agreed stop -> checkpoint -> exit 143 -> resume), `RunWriter` (metrics.jsonl, atomic checkpoints),
`build_optimizer`/`build_schedule` (LARS/LAMB/SGD, no weight decay or trust ratio on biases and norms),
`device_for`/`Comm`, and `harvest.training.runtime` (determinism, SyncBatchNorm, DDP/compile, AMP). As
there, the host never waits for the device inside a logging window: the logs stay on the device and are
read (and averaged over ranks) once per window.
"""

from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from harvest.common.objectstore import ObjectStore
from harvest.common.snapshots import Manifest
from harvest.training.config import TrainConfig
from harvest.training.data import InfiniteSampler, mix_seed
from harvest.training.distributed import Comm
from harvest.training.loop import StepLoop
from harvest.training.models import load_pretrained
from harvest.training.optim import build_optimizer, build_schedule
from harvest.training.pretraining.backbones import PACKAGE_FILE, WEIGHTS_FILE, package_manifest
from harvest.training.pretraining.config import GLOBAL_CROPS, PretrainConfig
from harvest.training.pretraining.images import PretrainData, load_images
from harvest.training.pretraining.networks import build_backbone
from harvest.training.pretraining.objectives import build_objective, build_student
from harvest.training.pretraining.probe import knn_accuracy
from harvest.training.pretraining.views import MultiCrop
from harvest.training.runtime import autocast, fetch_weights, place, wrap

log = logging.getLogger(__name__)


class PretrainTrainer(StepLoop):
    """One pretraining run of one rank; `run()` trains to `train.steps` or until preempted."""

    def __init__(self, cfg: PretrainConfig, manifest: Manifest, store: ObjectStore, run_dir: str, comm: Comm, *,
                 cache_dir: Path, work_dir: Path) -> None:
        self.cfg, self.manifest = cfg, manifest
        self.local_batch = cfg.per_rank_batch(comm.world_size)
        self._start(cfg.train, comm)
        data = load_images(manifest, store, cfg.data.cache_dir or cache_dir, comm, resolution=cfg.data.resolution,
                           channels=cfg.data.channels, include_validation=cfg.data.include_validation,
                           workers=cfg.data.download_workers)
        self.data: PretrainData = data.to(self.device) if self.cuda and cfg.data.on_device else data
        backbone, self.feature_dim = build_backbone(cfg.model, cfg.data.channels, len(manifest.classes))
        if cfg.model.init_weights_key:  # continue from a registered backbone (or classifier), as SSL jobs can
            load_pretrained(backbone, fetch_weights(store, cfg.model.init_weights_key, work_dir / "init"))
        self.student = place(build_student(cfg.objective, backbone, self.feature_dim), comm, self.device,
                             sync_bn=cfg.model.sync_bn, channels_last=self.channels_last,
                             hint="use model.norm=group and objective.head_norm=none on CPU for exact loss integrity")
        self.objective = build_objective(cfg.objective, comm, self.student, cfg.train.steps)
        self.objective.to(self.device)
        self.net = wrap(self.student, comm, self.device, compile=cfg.train.compile)
        self.optimizer = build_optimizer(self.student, cfg.optim, cfg.learning_rate())
        self.schedule = build_schedule(self.optimizer, cfg.optim, cfg.train.steps)
        self.sampler = InfiniteSampler(len(self.data.train), cfg.train.batch_size, mix_seed(cfg.train.seed, 1),
                                       comm.rank, comm.world_size)
        self.views = MultiCrop(cfg.augment, cfg.data.resolution, data.mean, data.std, seed=cfg.train.seed,
                               local_crops=cfg.crops_per_image() - GLOBAL_CROPS, rank=comm.rank,
                               world_size=comm.world_size, device=self.device, channels_last=self.channels_last)
        self._open_run(store, run_dir, work_dir, cfg.train)

    # -- state ---------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"student": self.student.state_dict(), "objective": self.objective.state_dict(),
                "optimizer": self.optimizer.state_dict(), "scheduler": self.schedule.state_dict(),
                "samplers": {"images": self.sampler.state_dict()}, "config": self.cfg.model_dump(mode="json"),
                "snapshot_id": self.manifest.snapshot_id}

    def _resume(self) -> int:
        state = self.checkpointer.load_latest()
        if state is None:
            return 0
        self.student.load_state_dict(state["student"])
        self.objective.load_state_dict(state["objective"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["scheduler"])
        self.sampler.load_state_dict(state["samplers"]["images"])
        return int(state["step"])

    def checkpoint(self, step: int) -> None:
        self.checkpointer.save(step, self.state())

    # -- loop ----------------------------------------------------------------------------------------------
    def images_per_step(self) -> int:
        """Crops through the network per optimizer step, all ranks together (local crops are smaller)."""
        return self.cfg.train.batch_size * self.views.count

    def train_step(self, step: int) -> dict[str, torch.Tensor]:
        torch.manual_seed(mix_seed(self.cfg.train.seed, step, self.comm.rank))  # dropout etc.: resumable
        index = self.data.train[self.sampler.local(self.sampler.next_global()).to(self.data.train.device)]
        views = self.views(self.data.images[index], step)
        self.student.train()
        with autocast(self.device, self.cfg.train.amp):
            loss, logs = self.objective.loss(self.net, views, step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.objective.before_optimizer_step(self.student, step)
        if self.cfg.train.clip_grad is not None:
            logs["grad_norm"] = nn.utils.clip_grad_norm_(self.student.parameters(), self.cfg.train.clip_grad)
        self.optimizer.step()
        self.schedule.step()
        self.objective.after_optimizer_step(self.student, step)
        return {"loss": loss.detach(), **{k: v.detach().float() for k, v in logs.items()}}

    @property
    def train_config(self) -> TrainConfig:
        return self.cfg.train

    def _log(self, step: int, window: dict[str, list[torch.Tensor]], seconds: float, steps: int,
             started: float) -> None:
        """Window means, averaged over ranks (each rank's loss covers its share of the global batch)."""
        keys = sorted(window)
        means = torch.stack([torch.stack(window[k]).float().mean() for k in keys])
        values = self.comm.mean_(means).tolist()  # one collective and one host sync per window
        if self.writer is None:
            return
        record: dict[str, Any] = {"kind": "train", "step": step, **dict(zip(keys, values, strict=True))}
        rate = steps / max(seconds, 1e-9)
        record.update(lr=self.schedule.get_last_lr()[0], images_per_s=rate * self.images_per_step(),
                      steps_per_s=rate, eta_s=(self.cfg.train.steps - step) / rate,
                      elapsed_s=time.perf_counter() - started)
        self.writer.log(record)

    def evaluate(self, step: int) -> dict[str, Any]:
        """k-NN accuracy of the exported backbone (labeled split -> validation split), on rank 0 only."""
        data = self.data
        if self.writer is None or len(data.labeled) == 0 or len(data.validation) == 0:
            return {}
        backbone = self.objective.export(self.student)
        accuracy = knn_accuracy(backbone, data.images[data.labeled], data.labels[data.labeled],
                                data.images[data.validation], data.labels[data.validation],
                                len(self.manifest.classes), k=self.cfg.train.knn_k, normalize=self.views.normalize,
                                batch=self.cfg.train.eval_batch)
        result = {"kind": "eval", "step": step, "knn_accuracy": accuracy, "knn_k": self.cfg.train.knn_k,
                  "bank_images": len(data.labeled), "validation_images": len(data.validation)}
        self.writer.log(result, flush=True)
        return result

    def _finish(self, step: int) -> None:
        """Rank 0 publishes the backbone package (weights + model.json of kind "backbone")."""
        if self.writer is None:
            self.comm.barrier()
            return
        buffer = io.BytesIO()
        backbone = self.objective.export(self.student)
        torch.save({k: v.detach().cpu() for k, v in backbone.state_dict().items()}, buffer)
        weights_key = self.writer.put_bytes(WEIGHTS_FILE, buffer.getvalue())
        package = package_manifest(
            snapshot_id=self.manifest.snapshot_id, classes=self.manifest.classes, model=self.cfg.model,
            weights_key=weights_key, algorithm=self.cfg.objective.name, steps=step,
            resolution=self.cfg.data.resolution, channels=self.cfg.data.channels, mean=self.data.mean,
            std=self.data.std, feature_dim=self.feature_dim,
            metrics={k: v for k, v in self.last_eval.items() if k != "kind"},
            objective=self.cfg.objective.model_dump(mode="json"))
        self.writer.put_bytes(PACKAGE_FILE, json.dumps(package, indent=2).encode(), "application/json")
        self._event(step, "completed", model=weights_key)
        self.writer.flush()
        self.comm.barrier()
