"""The `harvest up` supervisor restarts a crashed child, gives up on a crash loop, and stops all."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from harvest.supervisor import ChildSpec, Supervisor

pytestmark = pytest.mark.unit


def _wait_for(predicate, timeout_s: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_crashed_child_is_restarted(tmp_path: Path) -> None:
    counter = tmp_path / "starts"
    script = f"open({str(counter)!r}, 'a').write('x'); import sys; sys.exit(3)"
    events: list[str] = []
    supervisor = Supervisor([ChildSpec("flaky", [sys.executable, "-c", script], tmp_path / "flaky.log")],
                            max_restarts=2, window_s=60, on_event=events.append)
    supervisor.start()
    watcher = threading.Thread(target=supervisor.watch, kwargs={"poll_s": 0.05}, daemon=True)
    watcher.start()
    assert _wait_for(lambda: any("not restarting" in e for e in events))
    supervisor.stop()
    assert counter.read_text() == "xxx"  # first start + 2 restarts, then it gave up
    assert any("exited with 3; restarting" in e for e in events)


def test_stop_terminates_children_and_their_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time;"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(marker)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    supervisor = Supervisor([ChildSpec("parent", [sys.executable, "-c", script], tmp_path / "p.log")],
                            stop_timeout_s=5, on_event=lambda _m: None)
    supervisor.start()
    assert _wait_for(marker.exists)
    grandchild = int(marker.read_text())
    started = time.monotonic()
    killed = supervisor.stop()
    assert killed == 0 and time.monotonic() - started < 5
    assert _wait_for(lambda: not Path(f"/proc/{grandchild}").exists() or
                     Path(f"/proc/{grandchild}/stat").read_text().split()[2] == "Z", 5)
    assert supervisor.pids() == {}


def test_child_ignoring_sigterm_is_killed_after_timeout(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = (f"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              f"open({str(ready)!r}, 'w').write('1'); time.sleep(60)")
    supervisor = Supervisor([ChildSpec("stubborn", [sys.executable, "-c", script], tmp_path / "s.log")],
                            stop_timeout_s=0.5, on_event=lambda _m: None)
    supervisor.start()
    assert _wait_for(ready.exists)
    assert supervisor.stop() == 1
