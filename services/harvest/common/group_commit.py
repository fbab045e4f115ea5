"""Group commit: concurrent callers of one small write share a single database round trip and commit.

Why: a label write is a few microseconds of work for PostgreSQL but a whole statement, round trip and
commit each time, and on the serving side a driver call with its own Python overhead. When dozens of
annotators write at once, the writes that arrive while one is in flight are gathered and sent together
as one statement, so the fixed costs are paid once per batch instead of once per write. Under light load
a batch is one write and nothing waits.

There is no flusher thread: the first caller that finds no batch in flight becomes the *leader*, sends
the batch (its own write first), hands the results back and, if more writes queued meanwhile, wakes the
oldest of them to lead the next batch. A caller's write is acknowledged only after its batch committed.
Writes with the same key (the same item) never share a batch: the later one waits for the next, so each
batch can be one set-based statement whose rows are independent, and writes to one item keep their order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")


class _Slot(Generic[P, R]):
    """One caller's write, its outcome, and the gate it sleeps on (a lock: cheaper than an Event)."""

    __slots__ = ("done", "error", "gate", "item", "result")

    def __init__(self, item: P) -> None:
        self.item = item
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None
        self.gate = threading.Lock()
        self.gate.acquire()

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit(Generic[P, R]):
    """Runs `flush(items) -> results` (one result per item, same order) for batches of concurrent calls.

    `flush` raising fails every write of that batch with the same exception (e.g. a lost connection, which
    callers retry); it must not leave part of a batch committed.
    """

    def __init__(self, flush: Callable[[Sequence[P]], Sequence[R]], key: Callable[[P], Hashable], *,
                 max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._flush = flush
        self._key = key
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Slot[P, R]] = []
        self._busy = False
        self.batches = 0
        self.writes = 0

    def submit(self, item: P) -> R:
        """Write `item` with whatever else is queued; returns its result once its batch is committed."""
        slot: _Slot[P, R] = _Slot(item)
        with self._lock:
            self._pending.append(slot)
            lead = not self._busy
            self._busy = True
        if not lead:
            slot.gate.acquire()  # woken with an outcome, or to lead the next batch
            if slot.done:
                return slot.outcome()
        self._lead()
        return slot.outcome()

    def _lead(self) -> None:
        """Take a batch (the oldest write first: this caller's), flush it, then wake the next leader and
        the batch's callers."""
        with self._lock:
            batch = self._take()
        results: Sequence[R] = ()
        error: BaseException | None = None
        try:
            results = self._flush([slot.item for slot in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"group commit: flush returned {len(results)} results for {len(batch)} writes")
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets the failure
            error = exc
        with self._lock:
            self.batches += 1
            self.writes += len(batch)
            following = self._pending[0] if self._pending else None
            if following is None:
                self._busy = False
        if following is not None:
            following.gate.release()  # the next batch starts while this one's callers wake up
        for index, slot in enumerate(batch):
            slot.done = True
            if error is None:
                slot.result = results[index]
            else:
                slot.error = error
            if index:  # batch[0] is the leader itself, awake already
                slot.gate.release()

    def _take(self) -> list[_Slot[P, R]]:
        """Up to `max_batch` queued writes in arrival order, at most one per key (called under the lock)."""
        batch: list[_Slot[P, R]] = []
        keys: set[Hashable] = set()
        kept: list[_Slot[P, R]] = []
        for slot in self._pending:
            key = self._key(slot.item)
            if len(batch) < self._max_batch and key not in keys:
                keys.add(key)
                batch.append(slot)
            else:
                kept.append(slot)
        self._pending = kept
        return batch
