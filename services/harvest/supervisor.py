"""A small process supervisor for `harvest up`: starts every process, restarts one that crashes, and
shuts all down together on Ctrl-C/SIGTERM.

Children are plain subprocesses in their own process group, so a stop reaches their own children too
(Streamlit, Celery's pool, a local torchrun).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class ChildSpec:
    """How to run one process, and where it logs."""

    name: str
    argv: list[str]
    log_file: Path | None  # None: the child writes to this process's stdout and stderr
    env: dict[str, str] = field(default_factory=dict)
    describe: str = ""  # shown to the user, e.g. "grpc://127.0.0.1:50051"


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    gave_up: bool = False


class Supervisor:
    """Runs children until stopped; a child that crashes is restarted with back-off.

    A child that crashes more than `max_restarts` times within `window_s` is given up on (its log says
    why), so a broken configuration does not spin forever.
    """

    def __init__(self, specs: list[ChildSpec], *, base_env: dict[str, str] | None = None,
                 max_restarts: int = 5, window_s: float = 60.0, stop_timeout_s: float = 9.0,
                 on_event: Callable[[str], None] = print) -> None:
        self._children = {spec.name: _Child(spec) for spec in specs}
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._max_restarts = max_restarts
        self._window_s = window_s
        self._stop_timeout_s = stop_timeout_s
        self._on_event = on_event
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        for child in self._children.values():
            self._spawn(child)

    def pids(self) -> dict[str, int]:
        with self._lock:
            return {n: c.process.pid for n, c in self._children.items() if c.process and c.process.poll() is None}

    def request_stop(self) -> None:
        """Make `watch()` return (safe in a signal handler: takes no lock); then call `stop()`."""
        self._stopping.set()

    def _spawn(self, child: _Child) -> None:
        spec = child.spec
        if spec.log_file is None:
            child.process = subprocess.Popen(spec.argv, stdin=subprocess.DEVNULL, env={**self._base_env, **spec.env},
                                             start_new_session=True)
            return
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(spec.log_file, "ab") as out:
            child.process = subprocess.Popen(
                spec.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**self._base_env, **spec.env}, start_new_session=True,
            )

    def watch(self, poll_s: float = 0.5) -> None:
        """Block, restarting crashed children, until `stop()` is called."""
        while not self._stopping.wait(poll_s):
            with self._lock:
                for child in self._children.values():
                    if self._stopping.is_set():
                        break
                    if child.gave_up or child.process is None or child.process.poll() is None:
                        continue
                    self._restart(child)

    def _restart(self, child: _Child) -> None:
        code = child.process.returncode if child.process else None
        now = time.monotonic()
        child.restarts = [t for t in child.restarts if now - t < self._window_s] + [now]
        if len(child.restarts) > self._max_restarts:
            child.gave_up = True
            where = f"See {child.spec.log_file}" if child.spec.log_file else "See its output above"
            self._on_event(f"{child.spec.name} keeps failing (exit {code}); not restarting it. {where}")
            return
        delay = min(0.5 * 2 ** (len(child.restarts) - 1), 8.0)
        self._on_event(f"{child.spec.name} exited with {code}; restarting in {delay:.1f}s")
        if not self._stopping.wait(delay):
            self._spawn(child)

    def stop(self) -> int:
        """SIGTERM every child's process group, wait, SIGKILL what remains; returns how many were killed."""
        self._stopping.set()
        with self._lock:
            running = [c for c in self._children.values() if c.process and c.process.poll() is None]
            for child in running:
                _signal_group(child.process, signal.SIGTERM)
            deadline = time.monotonic() + self._stop_timeout_s
            killed = 0
            for child in running:
                assert child.process is not None
                try:
                    child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _signal_group(child.process, signal.SIGKILL)
                    child.process.wait()
                    killed += 1
                    self._on_event(f"{child.spec.name} did not stop in time; killed")
        return killed


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
