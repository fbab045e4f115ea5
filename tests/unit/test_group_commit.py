"""Group commit: concurrent writes share flushes, one write per key per flush, failures reach every caller."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from harvest.common.group_commit import GroupCommit

pytestmark = pytest.mark.unit


class SlowStore:
    """A flush that takes a while (so writes queue behind it) and records every batch it was given."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.release = threading.Event()
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def flush(self, items: Sequence[tuple[str, int]]) -> list[str]:
        with self._lock:
            self.batches.append(list(items))
            first = len(self.batches) == 1
        if first:
            self.release.wait(5)  # hold the first batch until the others have queued
        if self.fail_on is not None and any(key == self.fail_on for key, _ in items):
            raise ConnectionError("database went away")
        return [f"{key}:{value}" for key, value in items]


def _run(group: GroupCommit[tuple[str, int], str], items: list[tuple[str, int]],
         outcomes: dict[tuple[str, int], object]) -> list[threading.Thread]:
    def call(item: tuple[str, int]) -> None:
        try:
            outcomes[item] = group.submit(item)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcomes[item] = exc

    threads = [threading.Thread(target=call, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads


def _wait_for_queue(group: GroupCommit[tuple[str, int], str], size: int) -> None:
    deadline = threading.Event()
    for _ in range(500):
        with group._lock:  # noqa: SLF001 - observing the queue, not changing it
            if len(group._pending) >= size:  # noqa: SLF001
                return
        deadline.wait(0.01)
    raise AssertionError("writes did not queue")


def test_writes_arriving_during_a_flush_share_the_next_one_and_each_gets_its_own_result() -> None:
    store = SlowStore()
    group = GroupCommit(store.flush, key=lambda item: item[0])
    outcomes: dict[tuple[str, int], object] = {}
    first = _run(group, [("a", 0)], outcomes)
    while not store.batches:
        threading.Event().wait(0.01)
    others = [(f"k{i}", i) for i in range(10)]
    threads = _run(group, others, outcomes)
    _wait_for_queue(group, len(others))
    store.release.set()
    for thread in first + threads:
        thread.join(5)
    assert [len(batch) for batch in store.batches] == [1, 10]
    assert outcomes == {item: f"{item[0]}:{item[1]}" for item in [("a", 0), *others]}
    assert (group.batches, group.writes) == (2, 11)


def test_writes_with_the_same_key_never_share_a_batch_and_keep_their_order() -> None:
    store = SlowStore()
    group = GroupCommit(store.flush, key=lambda item: item[0])
    outcomes: dict[tuple[str, int], object] = {}
    first = _run(group, [("x", 0)], outcomes)
    while not store.batches:
        threading.Event().wait(0.01)
    threads = []
    for index in range(1, 4):  # queued one after another: same key, arrival order 1, 2, 3
        threads += _run(group, [("x", index)], outcomes)
        _wait_for_queue(group, index)
    threads += _run(group, [("y", 9)], outcomes)
    _wait_for_queue(group, 4)
    store.release.set()
    for thread in first + threads:
        thread.join(5)
    assert store.batches == [[("x", 0)], [("x", 1), ("y", 9)], [("x", 2)], [("x", 3)]]
    assert len(outcomes) == 5


def test_a_failed_flush_fails_every_write_of_its_batch_and_the_next_batch_still_runs() -> None:
    store = SlowStore(fail_on="bad")
    group = GroupCommit(store.flush, key=lambda item: item[0], max_batch=2)
    outcomes: dict[tuple[str, int], object] = {}
    first = _run(group, [("a", 0)], outcomes)
    while not store.batches:
        threading.Event().wait(0.01)
    threads = _run(group, [("bad", 1)], outcomes)
    _wait_for_queue(group, 1)
    threads += _run(group, [("c", 2)], outcomes)
    _wait_for_queue(group, 2)
    threads += _run(group, [("d", 3)], outcomes)
    _wait_for_queue(group, 3)
    store.release.set()
    for thread in first + threads:
        thread.join(5)
    assert outcomes[("a", 0)] == "a:0"
    assert isinstance(outcomes[("bad", 1)], ConnectionError)
    assert isinstance(outcomes[("c", 2)], ConnectionError)  # same batch as the failing write
    assert outcomes[("d", 3)] == "d:3"
    assert [len(batch) for batch in store.batches] == [1, 2, 1]


def test_a_lone_write_is_flushed_at_once_by_its_own_caller() -> None:
    seen: list[str] = []

    def flush(items: Sequence[str]) -> list[str]:
        seen.append(threading.current_thread().name)
        return [item.upper() for item in items]

    group = GroupCommit(flush, key=lambda item: item)
    assert group.submit("one") == "ONE"
    assert seen == [threading.current_thread().name]


def test_flush_returning_the_wrong_number_of_results_is_an_error_not_a_silent_mismatch() -> None:
    group = GroupCommit(lambda items: [], key=lambda item: item)
    with pytest.raises(RuntimeError, match="0 results for 1 writes"):
        group.submit("x")
    with pytest.raises(RuntimeError):
        group.submit("y")


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(lambda items: list(items), key=lambda item: item, max_batch=0)
