"""The training loop shared by every algorithm: batches, AMP, DDP, optimizer, EMA, evaluation, metrics,
checkpoints and the final model package.

Per step the host never waits for the device: logs stay on the device and are read once per logging
window; augmentation parameters are drawn on the host; EMA is one `_foreach_lerp_`; the only collectives
are DDP's gradient all-reduce, the algorithm's (tiny) state reduction (Co-teaching: a gather of the
batch's per-sample losses) and, every `signal_poll_every` steps, the preemption agreement. The
noisy-label algorithms add, once per pass over the labeled set, a forward pass over it (each rank its
share, gathered), a mixture fit on rank 0 and its broadcast.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from harvest.common.objectstore import ObjectStore
from harvest.common.runs import SUSPECTED_ERRORS
from harvest.common.snapshots import Manifest
from harvest.training import algorithms
from harvest.training.algorithms import Batch, fingerprint
from harvest.training.augment import Augmenter
from harvest.training.config import TrainConfig, TrainingConfig
from harvest.training.data import InfiniteSampler, TrainingData, mix_seed, prepare
from harvest.training.distributed import Comm
from harvest.training.dual_network import DualNetwork, publishable, stacked_logits
from harvest.training.loop import StepLoop
from harvest.training.models import build_model, load_pretrained
from harvest.training.optim import EMA, build_optimizer, build_schedule
from harvest.training.runtime import autocast, fetch_weights, place, wrap

log = logging.getLogger(__name__)
MODEL_FORMAT = "harvest.model/1"
#: Items whose label is more likely wrong than right are written to it.
SUSPECT_THRESHOLD = 0.5


class Trainer(StepLoop):
    """One training run of one rank; `run()` trains to the configured step count or until preempted."""

    def __init__(self, cfg: TrainingConfig, manifest: Manifest, store: ObjectStore, run_dir: str, comm: Comm, *,
                 cache_dir: Path, work_dir: Path) -> None:
        self.cfg, self.manifest = cfg, manifest
        self._start(cfg.train, comm)
        self.store, self.work_dir = store, work_dir
        algorithm_cls = algorithms.ALGORITHMS[cfg.algorithm.name]
        data = prepare(manifest, store, cfg.data.cache_dir or cache_dir, comm, resolution=cfg.data.resolution,
                       channels=cfg.data.channels, truth_key=cfg.data.unlabeled_truth,
                       with_labeled=cfg.data.unlabeled_includes_labeled, weak_labels=algorithm_cls.uses_noisy_labels,
                       workers=cfg.data.download_workers)
        self.data: TrainingData = data.to(self.device) if self.cuda and cfg.data.on_device else data
        self.model = self._build_model(algorithm_cls.networks)
        self.ema = EMA(self.model, copy.deepcopy(self.model), cfg.train.ema_decay)
        self.net = wrap(self.model, comm, self.device, compile=cfg.train.compile)
        self.algorithm = algorithms.build(cfg.algorithm, len(data.classes), max(1, len(data.pool)), cfg.train.steps,
                                          comm, labeled_size=len(data.labeled),
                                          batch_size=cfg.train.batch_size).to(self.device)
        self.algorithm.attach_teacher(self.ema.module)
        self.optimizer = build_optimizer(self.model, cfg.optim, cfg.learning_rate())
        self.schedule = build_schedule(self.optimizer, cfg.optim, cfg.train.steps)
        self.local_batch = cfg.per_rank_batch(comm.world_size)
        self.views = self.algorithm.unlabeled_views
        self.lb_sampler = InfiniteSampler(len(data.labeled), cfg.train.batch_size, mix_seed(cfg.train.seed, 1),
                                          comm.rank, comm.world_size)
        self.ulb_sampler = None if self.views == "none" else InfiniteSampler(
            len(data.pool), cfg.train.batch_size * cfg.algorithm.uratio, mix_seed(cfg.train.seed, 2), comm.rank,
            comm.world_size)
        self.augmenter = Augmenter(cfg.augment, data.mean, data.std, seed=cfg.train.seed, rank=comm.rank,
                                   world_size=comm.world_size, device=self.device,
                                   channels_last=self.channels_last)
        self._open_run(store, run_dir, work_dir, cfg.train)
        self.published_network = 0  # of a pair: the one with the better validation accuracy

    # -- setup ---------------------------------------------------------------------------------------------
    def _build_model(self, networks: int) -> nn.Module:
        cfg = self.cfg
        initial, same_classes = self._initial_weights()

        def one() -> nn.Module:
            network = build_model(cfg.model, cfg.data.channels, len(self.manifest.classes))
            if initial is not None:  # a pair keeps its own heads, so the two networks start apart
                load_pretrained(network, initial, skip_head=networks > 1 or not same_classes)
            return network

        model = one() if networks == 1 else DualNetwork(one)
        return place(model, self.comm, self.device, sync_bn=cfg.model.sync_bn, channels_last=self.channels_last)

    def _initial_weights(self) -> tuple[Path | None, bool]:
        """`model.init_weights_key` (a registered backbone or classifier) fetched into the scratch dir, and
        whether its head was trained for this snapshot's class list (same names, same order)."""
        key = self.cfg.model.init_weights_key
        if not key:
            return None, False
        target = fetch_weights(self.store, key, self.work_dir / "init")
        package_key = f"{key.rpartition('/')[0]}/model.json"
        classes: list[str] = []
        if self.store.exists(package_key):
            package = json.loads(self.store.get(package_key))
            classes = list(package.get("classes") or []) if package.get("kind", "classifier") == "classifier" else []
        return target, classes == list(self.manifest.classes)

    # -- state ---------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        samplers = {"labeled": self.lb_sampler.state_dict()}
        if self.ulb_sampler is not None:
            samplers["unlabeled"] = self.ulb_sampler.state_dict()
        return {"model": self.model.state_dict(), "ema": self.ema.module.state_dict(),
                "optimizer": self.optimizer.state_dict(), "scheduler": self.schedule.state_dict(),
                "algorithm": self.algorithm.state_dict(), "samplers": samplers,
                "config": self.cfg.model_dump(mode="json"), "snapshot_id": self.manifest.snapshot_id}

    def _resume(self) -> int:
        state = self.checkpointer.load_latest()
        if state is None:
            return 0
        self.model.load_state_dict(state["model"])
        self.ema.module.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["scheduler"])
        self.algorithm.load_state_dict(state["algorithm"])
        self.lb_sampler.load_state_dict(state["samplers"]["labeled"])
        if self.ulb_sampler is not None:
            self.ulb_sampler.load_state_dict(state["samplers"]["unlabeled"])
        return int(state["step"])

    def checkpoint(self, step: int) -> None:
        self._check_state_agreement(step)
        self.checkpointer.save(step, self.state())

    def _check_state_agreement(self, step: int) -> None:
        """Prove (and record) that every rank holds the same algorithm state; fail loudly if not."""
        prints = self.comm.gather_objects(fingerprint(self.algorithm.state_dict()))
        if self.writer is not None:
            self.writer.log({"kind": "state_check", "step": step, "algorithm": self.algorithm.name,
                             "fingerprints": prints})
        if len(set(prints)) > 1:
            raise RuntimeError(f"algorithm state diverged across ranks at step {step}: {prints}")

    # -- loop ----------------------------------------------------------------------------------------------
    def _batch(self, step: int) -> Batch:
        data, aug = self.data, self.augmenter
        lb = self.lb_sampler.local(self.lb_sampler.next_global()).to(data.labeled.device)
        batch = Batch(aug.weak(data.labeled[lb], step, 0), data.labels[lb].to(self.device, non_blocking=True),
                      idx_lb=lb)
        if self.ulb_sampler is None:
            return batch
        global_idx = self.ulb_sampler.next_global()  # drawn even when unused: a resumed run stays in step
        if not self.algorithm.uses_unlabeled(step):
            return batch
        ulb = self.ulb_sampler.local(global_idx).to(data.pool.device)
        images = data.pool[ulb]
        batch.x_ulb_w = aug.weak(images, step, 1)
        if self.views == "weak+strong":
            batch.x_ulb_s = aug.strong(images, step, 2)
        elif self.views == "weak+weak":
            batch.x_ulb_s = aug.weak(images, step, 3)
        batch.y_ulb = data.pool_truth[ulb].to(self.device, non_blocking=True)
        batch.idx_ulb_global = global_idx.to(self.device, non_blocking=True)
        return batch

    def images_per_step(self) -> int:
        """Images through the network per optimizer step, all ranks together (for images/s)."""
        views = {"none": 0, "weak": 1, "weak+strong": 2, "weak+weak": 2}[self.views]
        return self.cfg.train.batch_size * (1 + self.cfg.algorithm.uratio * views) * self.algorithm.networks

    def train_step(self, step: int) -> dict[str, torch.Tensor]:
        if self.algorithm.wants_sample_losses(step):
            self.algorithm.update_sample_losses(self.sample_losses()[0], step)
        torch.manual_seed(mix_seed(self.cfg.train.seed, step, self.comm.rank))  # dropout etc.: resumable
        batch = self._batch(step)
        self.model.train()
        with autocast(self.device, self.cfg.train.amp):
            result = self.algorithm.train_step(self.net, batch, step)
        self.optimizer.zero_grad(set_to_none=True)
        result.loss.backward()
        self.optimizer.step()
        self.schedule.step()
        self.ema.update(step)
        return {"loss": result.loss.detach(), **result.logs}

    @property
    def train_config(self) -> TrainConfig:
        return self.cfg.train

    def _log(self, step: int, window: dict[str, list[torch.Tensor]], seconds: float, steps: int,
             started: float) -> None:
        if self.writer is None:
            return
        keys = sorted(window)
        totals = torch.stack([torch.stack(window[k]).float().sum() for k in keys]).tolist()  # one host sync
        sums = dict(zip(keys, totals, strict=True))
        record: dict[str, Any] = {"kind": "train", "step": step}
        for key, total in sums.items():
            if key not in ("pl_correct", "pl_known"):
                record[key] = total / steps
        if sums.get("pl_known"):
            record["pseudo_label_accuracy"] = sums["pl_correct"] / sums["pl_known"]
        rate = steps / max(seconds, 1e-9)
        record.update(lr=self.schedule.get_last_lr()[0], images_per_s=rate * self.images_per_step(),
                      steps_per_s=rate, eta_s=(self.cfg.train.steps - step) / rate,
                      elapsed_s=time.perf_counter() - started)
        self.writer.log(record)

    @torch.no_grad()
    def sample_losses(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Each network's cross-entropy against the given label, (networks, labeled), and the networks' mean
        prediction, (labeled,), for every labeled image. Each rank computes a contiguous share in eval mode;
        all ranks then hold the whole, in order (one all-gather)."""
        images, labels = self.data.labeled, self.data.labels
        n, k = len(images), self.algorithm.networks
        share = -(-n // self.comm.world_size)
        start = min(n, self.comm.rank * share)
        rows = torch.zeros(share, k + 1, device=self.device)  # k losses, then the predicted class
        self.model.eval()
        for offset, chunk in zip(range(0, share, self.cfg.train.eval_batch),
                                 torch.arange(start, min(n, start + share)).split(self.cfg.train.eval_batch),
                                 strict=False):
            idx = chunk.to(images.device)
            with autocast(self.device, self.cfg.train.amp):
                logits = stacked_logits(self.model(self.augmenter.normalize(images[idx]))).float()
            truth = labels[idx].to(self.device)
            for j in range(k):
                rows[offset:offset + len(chunk), j] = F.cross_entropy(logits[j], truth, reduction="none")
            rows[offset:offset + len(chunk), k] = logits.softmax(-1).mean(0).argmax(-1).float()
        self.model.train()
        everyone = self.comm.gather_cat(rows)[:n]
        return everyone[:, :k].T.contiguous(), everyone[:, k].long()

    @torch.inference_mode()
    def evaluate(self, step: int) -> dict[str, Any]:
        """EMA model on this rank's share of the validation split; confusion matrices summed over ranks.

        With two networks both are measured and the better one is the one the package publishes."""
        c, k = len(self.manifest.classes), self.algorithm.networks
        confusion = torch.zeros(k, c * c, dtype=torch.int64, device=self.device)
        images, labels = self.data.validation, self.data.validation_labels
        if len(images) == 0:
            return {}
        mine = torch.arange(self.comm.rank, len(images), self.comm.world_size)
        model = self.ema.module.eval()
        for chunk in mine.split(self.cfg.train.eval_batch):
            idx = chunk.to(images.device)
            with autocast(self.device, self.cfg.train.amp):
                predicted = stacked_logits(model(self.augmenter.normalize(images[idx]))).argmax(-1)
            truth = labels[idx].to(self.device)
            for j in range(k):  # index_put_ with accumulate has a deterministic CUDA kernel (bincount does not)
                confusion[j].index_put_((truth * c + predicted[j],), torch.ones_like(truth), accumulate=True)
        matrices = self.comm.sum_(confusion).view(k, c, c).cpu()
        accuracies = [float(m.diag().sum() / m.sum().clamp_min(1)) for m in matrices]
        self.published_network = max(range(k), key=accuracies.__getitem__)
        matrix = matrices[self.published_network]
        rows = matrix.sum(1).clamp_min(1)
        result = {"kind": "eval", "step": step, "accuracy": accuracies[self.published_network],
                  "per_class_accuracy": dict(zip(self.manifest.classes, (matrix.diag() / rows).tolist(),
                                                 strict=True)),
                  "confusion": matrix.tolist(), "validation_images": int(matrix.sum())}
        if k > 1:
            result["network_accuracy"] = accuracies
        if self.writer is not None:
            self.writer.log(result, flush=True)
        return result

    def _suspected_errors(self, step: int) -> bytes | None:
        """Noisy-label algorithms: refit the clean/noisy split on the final networks (collective) and list
        the labeled items more likely mislabeled than not, with the class the networks predict instead."""
        if self.algorithm.noisy_scores() is None:
            return None
        losses, predicted = self.sample_losses()
        self.algorithm.update_sample_losses(losses, step)
        scores = self.algorithm.noisy_scores()
        assert scores is not None
        classes, given = self.manifest.classes, self.data.labels.tolist()
        lines = []
        for i in (scores.cpu() > SUSPECT_THRESHOLD).nonzero().flatten().tolist():
            if self.data.labeled_items[i]:
                lines.append(json.dumps({"item_id": self.data.labeled_items[i], "score": round(float(scores[i]), 4),
                                         "given_class": classes[given[i]],
                                         "suggested_class": classes[int(predicted[i])]}))
        return "".join(f"{line}\n" for line in lines).encode()

    def _finish(self, step: int) -> None:
        """Rank 0 publishes the model package: EMA weights, class names, preprocessing, final metrics."""
        suspects = self._suspected_errors(step)
        if self.writer is None:
            self.comm.barrier()
            return
        import io

        buffer = io.BytesIO()
        network = publishable(self.ema.module, self.published_network)
        torch.save({k: v.cpu() for k, v in network.state_dict().items()}, buffer)
        weights_key = self.writer.put_bytes("model/weights.pt", buffer.getvalue())
        package = {"format": MODEL_FORMAT, "snapshot_id": self.manifest.snapshot_id,
                   "classes": list(self.manifest.classes), "model": self.cfg.model.model_dump(mode="json"),
                   "weights": weights_key, "algorithm": self.cfg.algorithm.name, "steps": step,
                   "preprocessing": {"resolution": self.cfg.data.resolution, "channels": self.cfg.data.channels,
                                     "resize": "bilinear, antialiased, to a square", "scale": 1 / 255,
                                     "mean": list(self.data.mean), "std": list(self.data.std)},
                   "metrics": {k: v for k, v in self.last_eval.items() if k != "kind"}}
        if suspects is not None:
            package["suspected_errors"] = self.writer.put_bytes(SUSPECTED_ERRORS, suspects, "application/x-ndjson")
        self.writer.put_bytes("model/model.json", json.dumps(package, indent=2).encode(), "application/json")
        self._event(step, "completed", model=weights_key)
        self.writer.flush()
        self.comm.barrier()
