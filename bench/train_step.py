"""Engine overhead: images/s of `Trainer.train_step` vs a bare hand-written FixMatch loop, same run.

Both use the same model, global batch, data tensors and augmentation code (`Augmenter`); the bare loop has
no algorithm object, no EMA, no schedule, no per-step seeding. Blocks of steps alternate between the two
(A B A B …) so load from other processes hits both alike; the table reports the median block.

    .venv/bin/python bench/train_step.py --steps 30 --blocks 5
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from harvest.common.objectstore import LocalObjectStore
from harvest.training.config import load_config
from harvest.training.datasets import synthetic_ssl_snapshot
from harvest.training.distributed import Comm, DistEnv
from harvest.training.engine import Trainer
from harvest.training.models import build_model


class BareLoop:
    """What a person would write by hand: sample, augment, one forward, FixMatch loss, SGD step."""

    def __init__(self, trainer: Trainer) -> None:
        cfg = trainer.cfg
        self.trainer, self.cfg = trainer, cfg
        memory_format = torch.channels_last if trainer.channels_last else torch.preserve_format  # as the engine
        self.model = build_model(cfg.model, cfg.data.channels, len(trainer.data.classes)).to(
            trainer.device, memory_format=memory_format)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=cfg.learning_rate(), momentum=0.9,
                                         nesterov=True, weight_decay=cfg.optim.weight_decay)
        self.generator = torch.Generator().manual_seed(0)

    def step(self, step: int) -> None:
        data, aug, cfg = self.trainer.data, self.trainer.augmenter, self.cfg
        b, ub = cfg.train.batch_size, cfg.train.batch_size * cfg.algorithm.uratio
        lb = torch.randint(0, len(data.labeled), (b,), generator=self.generator)
        ulb = torch.randint(0, len(data.pool), (ub,), generator=self.generator)
        x = torch.cat([aug.weak(data.labeled[lb], step, 0), aug.weak(data.pool[ulb], step, 1),
                       aug.strong(data.pool[ulb], step, 2)])
        logits = self.model(x)
        logits_x, logits_w, logits_s = logits.split([b, ub, ub])
        probs = logits_w.detach().softmax(-1)
        max_probs, pseudo = probs.max(-1)
        mask = (max_probs >= cfg.algorithm.threshold).float()
        loss = F.cross_entropy(logits_x, data.labels[lb]) + (F.cross_entropy(logits_s, pseudo, reduction="none")
                                                             * mask).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


def timed(run: object, start: int, steps: int, sync: bool) -> float:
    began = time.perf_counter()
    for step in range(start, start + steps):
        run(step)  # type: ignore[operator]
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per block")
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--set", dest="overrides", action="append",
                        default=["model.width=32", "train.batch_size=32", "algorithm.uratio=3"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="harvest-step-bench-") as tmp:
        store = LocalObjectStore(Path(tmp) / "store")
        manifest, _ = synthetic_ssl_snapshot(store)
        cfg = load_config("quick", ["train.steps=100000", "algorithm.name=fixmatch", *args.overrides])
        trainer = Trainer(cfg, manifest, store, "runs/bench", Comm(DistEnv()),
                          cache_dir=Path(tmp) / "cache", work_dir=Path(tmp) / "work")
        bare = BareLoop(trainer)
        images = trainer.images_per_step()
        sync = trainer.cuda
        timed(trainer.train_step, 0, 3, sync)  # warm-up both
        timed(bare.step, 0, 3, sync)
        engine_rates, bare_rates = [], []
        for block in range(args.blocks):
            start = 10 + block * args.steps
            engine_rates.append(images * args.steps / timed(trainer.train_step, start, args.steps, sync))
            bare_rates.append(images * args.steps / timed(bare.step, start, args.steps, sync))
    e, b = statistics.median(engine_rates), statistics.median(bare_rates)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"\nFixMatch train step, {cfg.model.arch} width {cfg.model.width}, {cfg.data.resolution}px, global batch "
          f"{cfg.train.batch_size} labeled + {cfg.train.batch_size * cfg.algorithm.uratio} x 2 unlabeled, {device}; "
          f"median of {args.blocks} alternating blocks of {args.steps} steps\n")
    print("| loop                     | images/s | per block                      |")
    print("|--------------------------|----------|--------------------------------|")
    print(f"| HARVEST engine           | {e:8.0f} | {', '.join(f'{r:.0f}' for r in engine_rates):30s} |")
    print(f"| bare PyTorch loop        | {b:8.0f} | {', '.join(f'{r:.0f}' for r in bare_rates):30s} |")
    print(f"\nengine / bare = {e / b:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
