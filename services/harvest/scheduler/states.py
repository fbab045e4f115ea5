"""The job state machine: states (numbered as `harvest.v1.JobState`) and the transitions allowed.

Kept free of gRPC so the core and the tests speak plain Python; the numbers match the proto enum so the
servicer converts by value.
"""

from __future__ import annotations

import enum

from harvest.common.errors import FailedPrecondition


class State(enum.IntEnum):
    QUEUED = 1
    SUBMITTED = 2
    RUNNING = 3
    SUCCEEDED = 4
    FAILED = 5
    CANCELLED = 6
    PREEMPTED = 7

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def label(self) -> str:
        return self.name.lower()


TERMINAL = frozenset({State.SUCCEEDED, State.FAILED, State.CANCELLED})
#: Jobs that hold a slot of their project's concurrency limit (they are on a backend).
ACTIVE = frozenset({State.SUBMITTED, State.RUNNING, State.PREEMPTED})

ALLOWED: dict[State, frozenset[State]] = {
    State.QUEUED: frozenset({State.SUBMITTED, State.CANCELLED, State.FAILED}),
    State.SUBMITTED: frozenset({State.RUNNING, State.SUCCEEDED, State.FAILED, State.CANCELLED, State.PREEMPTED}),
    State.RUNNING: frozenset({State.SUCCEEDED, State.FAILED, State.CANCELLED, State.PREEMPTED}),
    State.PREEMPTED: frozenset({State.SUBMITTED, State.RUNNING, State.FAILED, State.CANCELLED}),
    State.SUCCEEDED: frozenset(),
    State.FAILED: frozenset(),
    State.CANCELLED: frozenset(),
}


def check_transition(old: State, new: State) -> None:
    """Raise FailedPrecondition for a transition the state machine does not have."""
    if new not in ALLOWED[old]:
        raise FailedPrecondition(f"a {old.label} job cannot become {new.label}")
