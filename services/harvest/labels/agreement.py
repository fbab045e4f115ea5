"""Agreement statistics over annotators' votes: per item, Cohen's kappa per pair, Fleiss' kappa per project.

Pure functions over plain data, so they are tested against textbook examples without a database.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VoteSummary:
    """Votes of one item: per class, the majority (None on a tie) and its share."""

    votes: dict[str, int]
    majority: str | None
    share: float
    count: int


def summarize(votes: Iterable[str]) -> VoteSummary:
    counts = Counter(votes)
    total = sum(counts.values())
    if not total:
        return VoteSummary({}, None, 0.0, 0)
    ranked = counts.most_common()
    top_class, top = ranked[0]
    tie = len(ranked) > 1 and ranked[1][1] == top
    return VoteSummary(dict(counts), None if tie else top_class, top / total, total)


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float:
    """Cohen's kappa of two raters over items both rated; NaN when undefined (no items), 1 when both
    raters always use the same single class (perfect agreement with no chance variation)."""
    n = len(pairs)
    if n == 0:
        return math.nan
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in first.keys() | second.keys()) / (n * n)
    if expected == 1:
        return 1.0 if observed == 1 else math.nan
    return (observed - expected) / (1 - expected)


def fleiss_kappa(items: Sequence[Mapping[str, int]]) -> float:
    """Fleiss' kappa over items with at least two ratings each (the number of raters may vary per item:
    P_i uses each item's own n_i). NaN when fewer than one such item or when expected agreement is 1."""
    rated = [votes for votes in items if sum(votes.values()) >= 2]
    if not rated:
        return math.nan
    totals: Counter[str] = Counter()
    agreement = 0.0
    for votes in rated:
        n = sum(votes.values())
        agreement += (sum(v * v for v in votes.values()) - n) / (n * (n - 1))
        totals.update(votes)
    observed = agreement / len(rated)
    all_ratings = sum(totals.values())
    expected = sum((count / all_ratings) ** 2 for count in totals.values())
    if expected == 1:
        return 1.0 if observed == 1 else math.nan
    return (observed - expected) / (1 - expected)
