"""Group commit: concurrent callers of one small write share a single database round trip and commit.

Why: a label write is a few microseconds of work for PostgreSQL but a whole statement, round trip and
commit each time, and on the serving side a driver call with its own Python overhead. When dozens of
annotators write at once, the writes that arrive while one is in flight are gathered and sent together
as one statement, so the fixed costs are paid once per batch instead of once per write. Under light load
a batch is one write and nothing waits.

The callers are coroutines on one event loop (the labels server's): a waiting write costs a future, no
sleeping thread to wake, so the only thread hop left is the flush itself, once per batch, in a thread of its
own (one batch in flight at a time). A caller's write is acknowledged only after its batch committed.
Writes with the same key (the same item) never share a batch: the later one waits for the next, so each
batch can be one set-based statement whose rows are independent, and writes to one item keep their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

from harvest.common.errors import Unavailable

P = TypeVar("P")
R = TypeVar("R")


class GroupCommit(Generic[P, R]):
    """Runs `flush(items) -> results` (one result per item, same order) in `executor` for batches of
    concurrent `await submit(item)` calls: the writes queued while a batch is in flight go in the next one.

    `flush` raising fails every write of that batch with the same exception (e.g. a lost connection, which
    callers retry); it must not leave part of a batch committed. `executor` should have one thread.
    """

    def __init__(self, flush: Callable[[Sequence[P]], Sequence[R]], key: Callable[[P], Hashable],
                 executor: Executor, *, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._flush = flush
        self._key = key
        self._executor = executor
        self._max_batch = max_batch
        self._pending: list[tuple[P, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None  # one at a time; referenced, so it is never collected
        self.batches = 0
        self.writes = 0

    async def submit(self, item: P) -> R:
        """Write `item` with whatever else is queued; returns its result once its batch is committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._drainer is None or self._drainer.done():  # done: even one cancelled before it ever ran
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Flush batches until nothing is queued (one such task at a time: `_drainer`)."""
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = self._take()
            try:
                results = await loop.run_in_executor(self._executor, self._flush, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"group commit: flush returned {len(results)} results for "
                                       f"{len(batch)} writes")
            except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets the failure
                stopping = Unavailable("the server is stopping; retry the write")
                _fail(batch, exc if isinstance(exc, Exception) else stopping)
                if not isinstance(exc, Exception):  # cancelled (the loop is stopping): fail the rest too
                    _fail(self._pending, stopping)
                    self._pending = []
                    raise
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # a caller that went away (cancelled) needs no answer
                        future.set_result(result)
            self.batches += 1
            self.writes += len(batch)

    def _take(self) -> list[tuple[P, asyncio.Future[R]]]:
        """Up to `max_batch` queued writes in arrival order, at most one per key; the rest stay queued."""
        batch: list[tuple[P, asyncio.Future[R]]] = []
        keys: set[Hashable] = set()
        kept: list[tuple[P, asyncio.Future[R]]] = []
        for queued in self._pending:
            key = self._key(queued[0])
            if len(batch) < self._max_batch and key not in keys:
                keys.add(key)
                batch.append(queued)
            else:
                kept.append(queued)
        self._pending = kept
        return batch


def _fail(queued: list[tuple[P, asyncio.Future[R]]], error: BaseException) -> None:
    for _, future in queued:
        if not future.done():
            future.set_exception(error)
