"""A real single-host Slurm cluster (munged, slurmctld, two emulated nodes n1/n2) for integration tests.

The cluster is provided by ``scripts/slurm-cluster.sh`` in a private directory (default
``/tmp/harvest-slurm``, or ``$HARVEST_SLURM_DIR``); nothing system-wide is configured or started.

Usage in a test module::

    from tests.harness.slurm import slurm_cluster  # noqa: F401

    def test_job(slurm_cluster):
        job_id = slurm_cluster.sbatch(script_path)
        job = slurm_cluster.wait_job(job_id, {"COMPLETED"}, timeout=60)
        assert job["ExitCode"] == "0:0"

``slurm_cluster.env`` is the environment for any Slurm client command (``SLURM_CONF`` set, inherited
``SLURM_*``/``SBATCH_*`` variables removed); ``slurm_cluster.run([...])`` runs one with it.
There is no accounting (no ``sacct``): job state comes from ``scontrol show job -o``, which keeps
a finished job for MinJobAge (300 s).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.harness.servers import SERVERS_USED

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = ROOT / "scripts" / "slurm-cluster.sh"
INSTALL_SCRIPT = ROOT / "scripts" / "install-system-deps.sh"
DEFAULT_DIR = Path(os.environ.get("HARVEST_SLURM_DIR", "/tmp/harvest-slurm"))
SLURM_PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client")
NODES = ("n1", "n2")

# Job states after which a job never runs again (without a requeue).
TERMINAL_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
    }
)

_KEY = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z0-9_/:.]*)=")
_SCRUB_PREFIXES = ("SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_", "SINFO_", "SCONTROL_")


class SlurmError(RuntimeError):
    """The cluster could not be started, or a Slurm command or job did not behave as expected."""


def parse_scontrol_line(line: str) -> dict[str, str]:
    """Parse one ``scontrol show ... -o`` line (``Key=value`` pairs; values may contain spaces)."""
    matches = list(_KEY.finditer(line))
    fields: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        fields[match.group(1)] = line[match.end() : end].strip()
    return fields


class SlurmCluster:
    """Handle on the private cluster in ``directory``; start()/stop() call scripts/slurm-cluster.sh."""

    def __init__(self, directory: Path | str = DEFAULT_DIR) -> None:
        self.directory = Path(directory).resolve()
        self.conf = self.directory / "etc" / "slurm.conf"
        self.log_dir = self.directory / "log"
        self.start_seconds: float | None = None  # wall time of the last start() that started daemons

    # --- lifecycle ---------------------------------------------------------------------------

    def _script(self, action: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["bash", str(CLUSTER_SCRIPT), action, str(self.directory)],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self._base_env(),
            )
        except subprocess.TimeoutExpired as exc:
            raise SlurmError(
                f"slurm-cluster.sh {action} timed out after {timeout:.0f}s\n{self.log_tails()}"
            ) from exc

    def status(self) -> int:
        """0 running, 1 partly running / not answering, 3 stopped (the script's exit status)."""
        return self._script("status", timeout=30).returncode

    def is_running(self) -> bool:
        return self.status() == 0

    def install(self) -> None:
        """Install the missing Slurm/munge Debian packages (no-op when all are installed)."""
        try:
            result = subprocess.run(
                ["bash", str(INSTALL_SCRIPT), *SLURM_PACKAGES], capture_output=True, text=True, timeout=900
            )
        except subprocess.TimeoutExpired as exc:
            raise SlurmError(f"installing {' '.join(SLURM_PACKAGES)} timed out") from exc
        if result.returncode != 0:
            raise SlurmError(
                f"installing {' '.join(SLURM_PACKAGES)} failed (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )

    def start(self) -> None:
        """Start the cluster (no-op if running); returns once n1 and n2 are idle."""
        t0 = time.monotonic()
        result = self._script("start")
        if result.returncode != 0:
            raise SlurmError(
                f"slurm-cluster.sh start {self.directory} failed (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{self.log_tails()}"
            )
        if "already running" not in result.stderr:
            self.start_seconds = time.monotonic() - t0
        if self.status() != 0:
            raise SlurmError(f"cluster in {self.directory} started but is not healthy\n{self.log_tails()}")

    def stop(self) -> None:
        result = self._script("stop")
        if result.returncode != 0:
            raise SlurmError(f"slurm-cluster.sh stop failed:\n{result.stdout}\n{result.stderr}")

    # --- commands ----------------------------------------------------------------------------

    @staticmethod
    def _base_env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
        path = env.get("PATH", "/usr/bin:/bin")
        for extra in ("/usr/sbin", "/sbin"):
            if extra not in path.split(os.pathsep):
                path += os.pathsep + extra
        env["PATH"] = path
        return env

    @property
    def env(self) -> dict[str, str]:
        """Environment for Slurm client commands: SLURM_CONF set, inherited SLURM_*/SBATCH_* removed."""
        env = self._base_env()
        env["SLURM_CONF"] = str(self.conf)
        return env

    def run(
        self,
        cmd: str | Iterable[str],
        *,
        check: bool = True,
        timeout: float = 30,
        cwd: Path | str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a Slurm client command (a list, or a string run by bash) with ``self.env``."""
        env = self.env
        if extra_env:
            env.update(extra_env)
        argv = ["bash", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
        except subprocess.TimeoutExpired as exc:
            raise SlurmError(f"{argv} timed out after {timeout:.0f}s") from exc
        if check and result.returncode != 0:
            raise SlurmError(f"{argv} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def sbatch(self, script: Path | str, *args: str, cwd: Path | str | None = None) -> int:
        """Submit a batch script file; returns the job id."""
        result = self.run(["sbatch", "--parsable", *args, str(script)], cwd=cwd)
        return int(result.stdout.strip().split(";")[0])

    def sbatch_wrap(self, command: str, *args: str, cwd: Path | str | None = None) -> int:
        """Submit ``sbatch --wrap COMMAND``; returns the job id."""
        result = self.run(["sbatch", "--parsable", *args, "--wrap", command], cwd=cwd)
        return int(result.stdout.strip().split(";")[0])

    def job(self, job_id: int | str) -> dict[str, str] | None:
        """``scontrol show job -o`` as a dict, or None if slurmctld no longer knows the job."""
        result = self.run(["scontrol", "show", "job", "-o", str(job_id)], check=False)
        line = result.stdout.strip()
        if result.returncode != 0 or not line.startswith("JobId="):
            return None
        return parse_scontrol_line(line.splitlines()[0])

    def wait_job(self, job_id: int | str, states: str | Iterable[str], timeout: float = 60) -> dict[str, str]:
        """Poll until the job's JobState is one of ``states``; returns the job's fields.

        Raises SlurmError on timeout, or at once if the job reaches another terminal state.
        """
        wanted = {states} if isinstance(states, str) else set(states)
        deadline = time.monotonic() + timeout
        last: dict[str, str] | None = None
        delay = 0.1
        while True:
            last = self.job(job_id) or last
            state = (last or {}).get("JobState", "")
            if state in wanted:
                return last or {}
            if state in TERMINAL_STATES:
                raise SlurmError(f"job {job_id} ended {state}, expected {sorted(wanted)}: {last}")
            if time.monotonic() >= deadline:
                raise SlurmError(
                    f"job {job_id} not in {sorted(wanted)} after {timeout:.0f}s "
                    f"(last: {state or 'unknown'}): {last}\n{self.log_tails(10)}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def node_addr(self, node: str) -> str:
        """A node's NodeAddr (n1/n2 do not resolve: use this for MASTER_ADDR)."""
        fields = parse_scontrol_line(self.run(["scontrol", "show", "node", "-o", node]).stdout.strip())
        return fields["NodeAddr"]

    def log_tails(self, lines: int = 30) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")) + sorted(self.log_dir.glob("*.stderr")):
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError as exc:
                text = [f"(unreadable: {exc})"]
            if text:
                parts.append(f"---- {path} (last {lines} lines) ----\n" + "\n".join(text))
        return "\n".join(parts) if parts else f"(no daemon logs under {self.log_dir})"


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """The private 2-node cluster: reused if running, else installed (if needed), started, and stopped
    at session end. Fails (never skips) with the daemons' log tails if it cannot be started."""
    cluster = SlurmCluster()
    started = False
    try:
        if not cluster.is_running():
            if os.geteuid() != 0:
                raise SlurmError(
                    "the private Slurm cluster runs as root (SlurmUser=root); run the tests as root"
                )
            cluster.install()
            started = True
            cluster.start()
    except SlurmError as exc:
        if started:  # do not leave half a cluster behind
            try:
                cluster.stop()
            except SlurmError:
                pass
        pytest.fail(f"Slurm cluster unavailable, so this test cannot run: {exc}", pytrace=False)
    version = cluster.run(["sinfo", "--version"], check=False).stdout.strip()
    nodes = cluster.run(["sinfo", "-h", "-N", "-o", "%N"], check=False).stdout.split()
    SERVERS_USED["Slurm"] = f"{version}, nodes {','.join(sorted(set(nodes)))} (SLURM_CONF={cluster.env['SLURM_CONF']})"
    try:
        yield cluster
    finally:
        if started:
            cluster.stop()
