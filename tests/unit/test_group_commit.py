"""Group commit on an event loop: writes queued during a flush share the next one, one write per key per
flush, failures reach every caller of the batch, cancelled callers cost nothing, flushes run off the loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from harvest.common.errors import Unavailable
from harvest.common.group_commit import GroupCommit

pytestmark = pytest.mark.unit
T = TypeVar("T")


class HeldStore:
    """A flush that holds its first batch until released (so writes queue behind it), records every batch
    and the thread each ran in."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.threads: list[str] = []
        self.release = threading.Event()
        self.fail_on = fail_on

    def flush(self, items: Sequence[tuple[str, int]]) -> list[str]:
        self.batches.append(list(items))
        self.threads.append(threading.current_thread().name)
        if len(self.batches) == 1:
            self.release.wait(5)
        if self.fail_on is not None and any(key == self.fail_on for key, _ in items):
            raise ConnectionError("database went away")
        return [f"{key}:{value}" for key, value in items]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own: the suite's main thread may hold another library's running loop
    (Playwright's, from the browser tests), where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, coroutine).result()


def _group(store: HeldStore, max_batch: int = 64) -> GroupCommit[tuple[str, int], str]:
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
    return GroupCommit(store.flush, key=lambda item: item[0], executor=executor, max_batch=max_batch)


async def _in_flight(group: GroupCommit[tuple[str, int], str], store: HeldStore,
                     first: tuple[str, int]) -> asyncio.Future[str]:
    """Submit `first` and return once its flush runs (held by the store): what comes next queues behind it."""
    submitted = asyncio.ensure_future(group.submit(first))
    while not store.batches:
        await asyncio.sleep(0.005)
    return submitted


async def _queued_behind_first(group: GroupCommit[tuple[str, int], str], store: HeldStore,
                               first: tuple[str, int], later: list[tuple[str, int]]) -> list[object]:
    """Submit `first`, wait until its flush runs, queue `later`, then release the flush; every outcome."""
    tasks = [await _in_flight(group, store, first)]
    tasks += [asyncio.ensure_future(group.submit(item)) for item in later]
    await asyncio.sleep(0.02)
    store.release.set()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def test_writes_queued_during_a_flush_share_the_next_one_in_order_each_with_its_own_result() -> None:
    store = HeldStore()
    group = _group(store)
    later = [("b", 1), ("c", 1), ("d", 1)]
    outcomes = _run(_queued_behind_first(group, store, ("a", 1), later))
    assert outcomes == ["a:1", "b:1", "c:1", "d:1"]
    assert store.batches == [[("a", 1)], later]
    assert (group.batches, group.writes) == (2, 4)
    assert all(name.startswith("commit") for name in store.threads)  # never on the loop


def test_two_writes_to_one_key_never_share_a_batch_and_keep_their_order() -> None:
    store = HeldStore()
    group = _group(store)
    outcomes = _run(_queued_behind_first(group, store, ("a", 1), [("b", 1), ("b", 2), ("c", 1)]))
    assert outcomes == ["a:1", "b:1", "b:2", "c:1"]
    assert store.batches == [[("a", 1)], [("b", 1), ("c", 1)], [("b", 2)]]


def test_max_batch_caps_a_batch() -> None:
    store = HeldStore()
    group = _group(store, max_batch=2)
    _run(_queued_behind_first(group, store, ("a", 1), [("b", 1), ("c", 1), ("d", 1)]))
    assert [len(batch) for batch in store.batches] == [1, 2, 1]


def test_a_failed_flush_fails_every_write_of_its_batch_and_only_those() -> None:
    store = HeldStore(fail_on="c")
    group = _group(store)
    outcomes = _run(_queued_behind_first(group, store, ("a", 1), [("b", 1), ("c", 1)]))
    assert outcomes[0] == "a:1"
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes[1:])
    # the group goes on after a failure
    store.fail_on = None
    assert _run(group.submit(("e", 1))) == "e:1"


def test_a_cancelled_caller_does_not_stop_its_batch_or_the_others() -> None:
    store = HeldStore()
    group = _group(store)

    async def scenario() -> list[object]:
        first = await _in_flight(group, store, ("a", 1))
        gone = asyncio.ensure_future(group.submit(("b", 1)))
        stays = asyncio.ensure_future(group.submit(("c", 1)))
        await asyncio.sleep(0.01)
        gone.cancel()
        store.release.set()
        return list(await asyncio.gather(first, gone, stays, return_exceptions=True))

    outcomes = _run(scenario())
    assert outcomes[0] == "a:1" and isinstance(outcomes[1], asyncio.CancelledError) and outcomes[2] == "c:1"
    assert store.batches[1] == [("b", 1), ("c", 1)]  # already queued: written, its caller simply not told


def test_flush_returning_the_wrong_number_of_results_is_an_error_not_a_silent_mismatch() -> None:
    group = GroupCommit(lambda items: [], key=lambda item: item, executor=ThreadPoolExecutor(1))
    with pytest.raises(RuntimeError, match="0 results for 1 writes"):
        _run(group.submit("x"))


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(lambda items: list(items), key=lambda item: item, executor=ThreadPoolExecutor(1),
                    max_batch=0)


def test_a_drain_cancelled_mid_flush_fails_its_batch_and_the_queued_writes_as_unavailable() -> None:
    """The loop stopping (the server's shutdown cancels its tasks) never leaves a caller waiting forever."""
    store = HeldStore()
    group = _group(store)

    async def scenario() -> list[object]:
        first = await _in_flight(group, store, ("a", 1))
        queued = asyncio.ensure_future(group.submit(("b", 1)))
        await asyncio.sleep(0)
        group._drainer.cancel()  # noqa: SLF001 - what the server's shutdown does to every task
        outcomes = await asyncio.gather(first, queued, return_exceptions=True)
        store.release.set()
        return list(outcomes)

    outcomes = _run(scenario())
    assert all(isinstance(outcome, Unavailable) and "stopping" in str(outcome) for outcome in outcomes)
    assert _run(group.submit(("c", 1))) == "c:1"  # and the group serves again
