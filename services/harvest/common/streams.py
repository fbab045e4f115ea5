"""Long-lived calls (WatchAnnotations, AnnotateStream and the like).

A handler that polls for news sleeps between polls, and must wake the moment the call ends instead of
sleeping its interval out (`LiveCall`). A blocking stream holds a serving thread for as long as it is open,
so a server caps them, in all and per user, below its threads (`StreamSlots`): unary calls and health
checks always find one; streams that are coroutines hold none, and are capped so no user takes them all.

gRPC runs a context's callbacks when the call terminates for any reason: the client cancelled or went away,
its deadline passed, or the server stopped (at once with no grace period, else when the grace period ends).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import grpc

from harvest.common.errors import ResourceExhausted


class Pause(Protocol):
    """What a core polling loop needs from its call: a wait that says whether to go on."""

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False (returning early) once the call has ended."""
        ...


class LiveCall:
    """A `Pause` over a gRPC servicer context."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context
        self._ended = threading.Event()
        if not context.add_callback(self._ended.set):  # False: the call has already terminated
            self._ended.set()

    def active(self) -> bool:
        return not self._ended.is_set() and self._context.is_active()

    def wait(self, seconds: float) -> bool:
        self._ended.wait(seconds)
        return self.active()


class StreamSlots:
    """Places for the open streams of one kind in this process: at most `max_total`, `max_per_user` each.

    `what` names them in the refusal ("annotation streams"), the two settings say what raises the caps.
    """

    def __init__(self, what: str, max_total: int, max_per_user: int, total_setting: str,
                 per_user_setting: str) -> None:
        self._what = what
        self._max_total = max_total
        self._max_per_user = max_per_user
        self._settings = (total_setting, per_user_setting)
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, user_id: str) -> Iterator[None]:
        """One place, while the block runs; RESOURCE_EXHAUSTED (with the reason) past either cap."""
        with self._lock:
            if sum(self._open.values()) >= self._max_total:
                raise ResourceExhausted(f"this server already serves {self._max_total} {self._what} "
                                        f"({self._settings[0]}); retry later")
            if self._open[user_id] >= self._max_per_user:
                raise ResourceExhausted(f"you already have {self._max_per_user} {self._what} open "
                                        f"({self._settings[1]}); close one first")
            self._open[user_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[user_id] -= 1
                if not self._open[user_id]:
                    del self._open[user_id]

    @property
    def open(self) -> int:
        """Streams that still hold their place."""
        with self._lock:
            return sum(self._open.values())
