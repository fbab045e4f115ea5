"""The labels service's pure rules: agreement statistics against textbook values, label derivation, the
snapshot split, page tokens, k-center selection, and the core's enums matching the contract."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest

from harvest.common.errors import InvalidArgument
from harvest.labels import states
from harvest.labels.agreement import cohen_kappa, fleiss_kappa, summarize
from harvest.labels.derivation import from_single, from_votes
from harvest.labels.paging import page_request
from harvest.labels.queue import k_center_greedy
from harvest.labels.snapshots_freeze import RANDOM, FreezeOptions, FrozenItem, split_entries
from harvest.v1 import common_pb2, labels_pb2

pytestmark = pytest.mark.unit


def test_fleiss_kappa_matches_the_textbook_example() -> None:
    """Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories, kappa = 0.210."""
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    items = [{str(c): n for c, n in enumerate(row) if n} for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.20993, abs=1e-4)


def test_cohen_kappa_of_known_tables() -> None:
    # 50 items: both yes 20, a-yes/b-no 5, a-no/b-yes 10, both no 15 → kappa 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([("a", "a"), ("a", "a")]) == 1.0
    assert math.isnan(cohen_kappa([]))


def test_summary_names_no_majority_on_a_tie() -> None:
    assert summarize(["a", "b"]).majority is None
    summary = summarize(["a", "a", "b"])
    assert summary.majority == "a" and summary.share == pytest.approx(2 / 3) and summary.count == 3


@pytest.mark.parametrize(("votes", "threshold", "status", "label"), [
    ([], 0.0, states.ItemStatus.UNLABELED, None),
    (["a", "a"], 0.0, states.ItemStatus.IN_PROGRESS, None),
    (["a", "a", "a"], 0.0, states.ItemStatus.LABELED, "a"),
    (["a", "a", "b"], 0.0, states.ItemStatus.DISAGREEMENT, None),
    (["a", "a", "b"], 0.66, states.ItemStatus.LABELED, "a"),
    (["a", "b", "c"], 0.66, states.ItemStatus.DISAGREEMENT, None),
])
def test_votes_derive_the_label(votes: list[str], threshold: float, status: states.ItemStatus,
                                label: str | None) -> None:
    derived = from_votes(votes, 3, threshold)
    assert (derived.status, derived.class_id) == (status, label)


def test_single_annotation_projects_take_the_latest_value() -> None:
    assert from_single("a").status == states.ItemStatus.LABELED
    assert from_single(None).status == states.ItemStatus.UNLABELED


def _items(counts: dict[str, int], unlabeled: int) -> list[FrozenItem]:
    rows, n = [], 0
    for label, count in counts.items():
        for _ in range(count):
            rows.append(FrozenItem(f"{n:04d}", f"k/{n}.png", f"{n:064x}", 8, 8, label, False))
            n += 1
    rows += [FrozenItem(f"{n + i:04d}", f"k/{n + i}.png", f"{n + i:064x}", 8, 8, None, False)
             for i in range(unlabeled)]
    random.Random(0).shuffle(rows)
    return rows


def test_stratified_split_is_per_class_and_keeps_one_for_training() -> None:
    entries = split_entries(_items({"a": 50, "b": 10, "c": 2, "d": 1}, 7), FreezeOptions(0.2, seed=3))
    counts = Counter((e.split, e.label) for e in entries)
    assert (counts[("validation", "a")], counts[("labeled", "a")]) == (10, 40)
    assert (counts[("validation", "b")], counts[("labeled", "b")]) == (2, 8)
    assert (counts[("validation", "c")], counts[("labeled", "c")]) == (1, 1)
    assert (counts[("validation", "d")], counts[("labeled", "d")]) == (0, 1)
    assert counts[("unlabeled", None)] == 7


def test_split_does_not_depend_on_input_order() -> None:
    items = _items({"a": 20, "b": 20}, 5)
    options = FreezeOptions(0.25, RANDOM, seed=9)
    assert split_entries(items, options) == split_entries(list(reversed(items)), options)


def test_page_tokens_are_bound_to_their_filters() -> None:
    page = page_request(10, "", "items", "p1", {"labeled": True})
    token = page.next_token(list(range(11)), lambda row: (row,))
    assert page_request(10, token, "items", "p1", {"labeled": True}).after == (9,)
    with pytest.raises(InvalidArgument, match="other filters"):
        page_request(10, token, "items", "p1", {"labeled": False})
    with pytest.raises(InvalidArgument, match="malformed"):
        page_request(10, "%%%", "items")
    assert page_request(0, "", "x").size == 100 and page_request(5000, "", "x").size == 1000
    with pytest.raises(InvalidArgument):
        page_request(-1, "", "x")


def test_k_center_greedy_spreads_its_picks() -> None:
    points = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    picks = k_center_greedy(points, np.array([[0.0]]), 2, random.Random(0))
    assert [index for index, _ in picks] == [4, 2]
    assert picks[0][1] == pytest.approx(11.0)


@pytest.mark.parametrize(("ours", "theirs", "prefix"), [
    (states.ItemStatus, labels_pb2.ItemStatus, "ITEM_STATUS_"),
    (states.AnnotationKind, labels_pb2.AnnotationKind, "ANNOTATION_KIND_"),
    (states.LabelSource, common_pb2.LabelSource, "LABEL_SOURCE_"),
    (states.SuggestedLabelPolicy, common_pb2.SuggestedLabelPolicy, "SUGGESTED_LABEL_POLICY_"),
    (states.QueueStrategy, labels_pb2.QueueStrategy, "QUEUE_STRATEGY_"),
    (states.ImageFormat, common_pb2.ImageFormat, "IMAGE_FORMAT_"),
])
def test_core_enums_match_the_contract(ours: type, theirs: object, prefix: str) -> None:
    for member in ours:  # type: ignore[attr-defined]
        assert theirs.Value(prefix + member.name) == member.value  # type: ignore[attr-defined]
