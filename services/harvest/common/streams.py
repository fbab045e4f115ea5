"""Waiting inside a long-lived server-streaming call (WatchAnnotations and the like): a handler that polls
for news sleeps between polls, and must wake the moment the call ends instead of sleeping its interval out.

gRPC runs a context's callbacks when the call terminates for any reason: the client cancelled or went away,
its deadline passed, or the server stopped (at once with no grace period, else when the grace period ends).
"""

from __future__ import annotations

import threading
from typing import Protocol

import grpc


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
