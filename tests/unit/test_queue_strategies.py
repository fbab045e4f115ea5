"""Queue strategies on hand-made pools: what each one picks, and why the hybrid skips outliers."""

from __future__ import annotations

import random

import numpy as np
import pytest

from harvest.labels.queue import Candidate, DiversityStrategy, HybridStrategy, Pool, k_means_representatives

pytestmark = pytest.mark.unit


def pool_of(points: dict[str, np.ndarray], entropy: dict[str, float]) -> Pool:
    candidates = [Candidate(key, False, 1 - entropy[key], 0.0, entropy[key]) for key in points]
    return Pool(candidates, lambda ids: {k: points[k] for k in ids if k in points}, lambda: np.zeros((0, 2)))


def test_k_means_representatives_takes_one_central_point_per_cluster() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal((0, 0), 0.1, (20, 2)), rng.normal((5, 5), 0.1, (20, 2))
    points = np.concatenate([a, b])
    chosen = k_means_representatives(points, np.ones(len(points)), 2, random.Random(0))
    assert sorted(i // 20 for i in chosen) == [0, 1]  # one from each cluster (of the 4 formed, the 2 heaviest)
    for index in chosen:
        centre = points[(index // 20) * 20:(index // 20 + 1) * 20].mean(0)
        assert np.linalg.norm(points[index] - centre) < 0.15


def test_hybrid_prefers_representative_uncertain_items_to_outliers() -> None:
    rng = np.random.default_rng(1)
    points = {f"c{i}": rng.normal((0, 0), 0.3, 2) for i in range(30)}
    points |= {f"d{i}": rng.normal((4, 0), 0.3, 2) for i in range(30)}
    points |= {"far1": np.array([40.0, 40.0]), "far2": np.array([-40.0, 40.0])}
    entropy = {k: 1.0 for k in points}  # all equally uncertain, all within the hybrid's candidate window
    for seed in range(5):
        hybrid = [p.item_id for p in HybridStrategy().pick(pool_of(points, entropy), 7, random.Random(seed))]
        diversity = [p.item_id for p in DiversityStrategy().pick(pool_of(points, entropy), 7, random.Random(seed))]
        assert len(set(hybrid)) == 7 and not {"far1", "far2"} & set(hybrid)
        assert {i[0] for i in hybrid} == {"c", "d"}  # both dense groups represented
        assert {"far1", "far2"} <= set(diversity)  # k-center goes to the outliers


def test_hybrid_only_considers_the_most_uncertain() -> None:
    points = {f"i{i}": np.array([float(i), 0.0]) for i in range(100)}
    entropy = {f"i{i}": (1.0 if i < 10 else 0.01) for i in range(100)}
    picked = HybridStrategy().pick(pool_of(points, entropy), 1, random.Random(0))
    assert len(picked) == 1 and int(picked[0].item_id[1:]) < 10
