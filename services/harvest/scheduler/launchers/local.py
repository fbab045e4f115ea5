"""The embedded default: `torchrun` as a subprocess of this host, in its own session.

Each job has a directory `<log_dir>/<job_name>/` holding `log` (stdout+stderr), `pid` and, once it ended,
`exit_code`. A small bash wrapper writes the pid itself before starting torchrun, so a scheduler that dies
right after spawning still finds (adopts) the job; it writes the exit code, so a scheduler restarted while
the job ran still learns how it ended. The wrapper leads a new session, so cancelling kills the whole
process group (torchrun and every rank) and nothing is left behind.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from harvest.scheduler.launchers.base import Launcher, LauncherError, LaunchStatus, Phase, Rendered
from harvest.scheduler.spec import JobSpec

#: Writes its pid, runs the command, records the exit code atomically. $0 is the job name, so the
#: process is recognisable in `ps` and by `_alive`.
WRAPPER = ('echo $$ > pid.tmp && mv pid.tmp pid; "$@"; rc=$?; echo $rc > exit_code.tmp && '
           'mv exit_code.tmp exit_code; exit $rc')
CANCEL_GRACE_S = 10.0


class LocalLauncher(Launcher):
    name = "local"

    def __init__(self, root: Path, python: str, env: Mapping[str, str] | None = None,
                 rdzv_port: int = 29400) -> None:
        self.root = root
        self.python = python
        self.env = dict(env or {})
        self.rdzv_port = rdzv_port
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def directory(self, job: JobSpec) -> Path:
        return self.root / job.job_name

    def render(self, job: JobSpec) -> Rendered:
        if job.resources.nodes != 1:
            raise LauncherError(f"the local backend runs one node; the job asks for {job.resources.nodes}")
        argv = [self.python, "-m", "torch.distributed.run", "--standalone", "--nnodes=1",
                f"--nproc-per-node={job.resources.processes_per_node}", "-m", "harvest.training",
                *job.training_argv()]
        return Rendered("command", shlex.join(argv), argv)

    def submit(self, job: JobSpec, rendered: Rendered) -> str:
        folder = self.directory(job)
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, **job.env}
        with open(folder / "log", "ab") as log:
            child = subprocess.Popen(["bash", "-c", WRAPPER, job.job_name, *rendered.payload], cwd=folder, env=env,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self._children[child.pid] = child
        return str(child.pid)

    def find(self, job: JobSpec) -> str | None:
        pid_file = self.directory(job) / "pid"
        deadline = time.monotonic() + 2.0
        while not pid_file.exists() and (self.directory(job) / "log").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # spawned a moment ago: the wrapper is about to write its pid
        return pid_file.read_text().strip() if pid_file.exists() else None

    def _alive(self, job: JobSpec, pid: int) -> bool:
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            return False
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        return stat.rsplit(")", 1)[-1].split()[0] != "Z" and job.job_name.encode() in cmdline

    def status(self, job: JobSpec, external_id: str) -> LaunchStatus:
        exit_file = self.directory(job) / "exit_code"
        if exit_file.exists():
            code = int(exit_file.read_text().strip() or 1)
            phase = Phase.SUCCEEDED if code == 0 else Phase.FAILED
            return LaunchStatus(phase, exit_code=code, message=f"exit code {code}")
        if self._alive(job, int(external_id)):
            return LaunchStatus(Phase.RUNNING, nodes=("localhost",))
        return LaunchStatus(Phase.GONE, message="the process ended without recording an exit code (killed)")

    def cancel(self, job: JobSpec, external_id: str) -> None:
        """SIGTERM to the process group (ranks checkpoint and stop), SIGKILL after a grace period."""
        pid = int(external_id)
        if not self._alive(job, pid):
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not self._wait_gone(pid, CANCEL_GRACE_S):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            # SIGKILL is asynchronous: return only once the group is gone, so "cancelled" means no process.
            self._wait_gone(pid, CANCEL_GRACE_S)

    def _wait_gone(self, pid: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while _group_exists(pid):
            self._reap(pid)
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def _reap(self, pid: int) -> None:
        child = self._children.get(pid)
        if child is not None:
            child.poll()

    def logs(self, job: JobSpec, external_id: str, offset: int = 0, node: str = "") -> bytes:
        path = self.directory(job) / "log"
        if not path.exists():
            return b""
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read()


def _group_exists(pgid: int) -> bool:
    """True while any live (non-zombie) process is in the process group."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False
