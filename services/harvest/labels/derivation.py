"""How an item's current label follows from its annotators' votes (the one rule, in one place).

With one required annotation the latest event wins. With K > 1 the item stays IN_PROGRESS until K
annotators voted; then it is LABELED with the majority class when the majority's share reaches the
project's threshold (0 means unanimity), and otherwise waits in DISAGREEMENT for a reviewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harvest.labels.agreement import summarize
from harvest.labels.states import ItemStatus


@dataclass(frozen=True, slots=True)
class DerivedLabel:
    status: ItemStatus
    class_id: str | None
    votes: int


def from_single(class_id: str | None) -> DerivedLabel:
    """K = 1: the latest value is the label."""
    if class_id is None:
        return DerivedLabel(ItemStatus.UNLABELED, None, 0)
    return DerivedLabel(ItemStatus.LABELED, class_id, 1)


def from_votes(votes: Iterable[str], required: int, threshold: float) -> DerivedLabel:
    """K > 1: votes are the annotators' current (non-cleared) classes."""
    summary = summarize(votes)
    if summary.count == 0:
        return DerivedLabel(ItemStatus.UNLABELED, None, 0)
    if summary.count < required:
        return DerivedLabel(ItemStatus.IN_PROGRESS, None, summary.count)
    needed = threshold or 1.0
    if summary.majority is not None and summary.share + 1e-9 >= needed:
        return DerivedLabel(ItemStatus.LABELED, summary.majority, summary.count)
    return DerivedLabel(ItemStatus.DISAGREEMENT, None, summary.count)
