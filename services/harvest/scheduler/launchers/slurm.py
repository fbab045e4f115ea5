"""Slurm: an sbatch script with one `srun` task per node running torchrun (optionally inside Apptainer).

The script asks Slurm for `--requeue` and `--signal=B:USR2@<s>` (the batch shell gets USR2 that long before
the time limit); its trap forwards the signal to the job step as SIGTERM, so torchrun's ranks checkpoint
and exit 143, and the script then requeues itself. On a requeue or node failure Slurm restarts the script
and the training program resumes from its latest checkpoint. Rendezvous: c10d on the first node's
NodeAddr (node names need not resolve). Commands run here or over SSH on a login node; the script goes to
`sbatch --parsable` on stdin, so nothing is written to the cluster's disks but the log.
"""

from __future__ import annotations

import math
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from harvest.scheduler.launchers.base import Launcher, LauncherError, LaunchStatus, Phase, Rendered
from harvest.scheduler.settings import SlurmSettings
from harvest.scheduler.spec import JobSpec

_KEY = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z0-9_/:.]*)=")
#: Variables sbatch hands the batch script from the submitting environment (--export); nothing secret.
EXPORTED = "PATH,HOME,USER,LANG"
PENDING_STATES = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "RESIZING",
                  "STOPPED"}
RUNNING_STATES = {"RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT"}
FAILED_STATES = {"FAILED": "the job failed", "TIMEOUT": "the time limit was reached",
                 "NODE_FAIL": "a node failed", "OUT_OF_MEMORY": "a process ran out of memory",
                 "BOOT_FAIL": "a node failed to boot", "DEADLINE": "the deadline passed",
                 "PREEMPTED": "preempted without requeue", "SPECIAL_EXIT": "special exit"}


def parse_scontrol(line: str) -> dict[str, str]:
    """One `scontrol show ... -o` line as a dict (values may contain spaces)."""
    matches = list(_KEY.finditer(line))
    fields: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        fields[match.group(1)] = line[match.end():end].strip()
    return fields


def slurm_time(seconds: int) -> str:
    """Seconds as Slurm's D-HH:MM:SS, rounded up to whole minutes."""
    minutes = max(1, math.ceil(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    return f"{days}-{rest // 60:02d}:{rest % 60:02d}:00"


class SlurmLauncher(Launcher):
    name = "slurm"

    def __init__(self, settings: SlurmSettings, log_dir: Path, python: str, rdzv_port: int = 29400,
                 env: Mapping[str, str] | None = None, env_file: str = "",
                 command_env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.python = python
        self.rdzv_port = rdzv_port
        self.env = dict(env or {})
        self.env_file = env_file
        self.command_env = dict(command_env) if command_env is not None else None

    def log_path(self, job: JobSpec) -> Path:
        return self.log_dir / f"{job.job_name}.log"

    # -- render (pure) ------------------------------------------------------------------------------------
    def render(self, job: JobSpec) -> Rendered:
        s, r = self.settings, job.resources
        directives = [f"--job-name={job.job_name}", f"--nodes={r.nodes}", "--ntasks-per-node=1",
                      f"--cpus-per-task={r.cpus_per_node}"]
        if r.gpus_per_node:
            directives.append(f"--gpus-per-node={r.gpus_per_node}")
        if r.memory_mib:
            directives.append(f"--mem={r.memory_mib}M")
        directives.append(f"--time={slurm_time(r.time_limit_s)}")
        for option, value in (("partition", r.partition or s.partition), ("account", r.account or s.account),
                              ("qos", r.qos or s.qos)):
            if value:
                directives.append(f"--{option}={value}")
        # --export: the worker's own environment (token secret, database passwords) stays out of the job; the
        # script exports what training needs, and SLURM_EXPORT_ENV=ALL lets srun pass exactly that on.
        directives += ["--requeue", f"--signal=B:USR2@{s.signal_seconds}", "--open-mode=append",
                       f"--output={self.log_path(job)}", f"--chdir={self.log_dir}", f"--export={EXPORTED}"]
        lines = ["#!/bin/bash", *(f"#SBATCH {d}" for d in directives),
                 f"# HARVEST training job {job.job_id} of project {job.project_id}, rendered by the scheduler.",
                 "set -uo pipefail"]
        if self.env_file:
            quoted = shlex.quote(self.env_file)
            lines.append(f'source {quoted} || {{ echo "harvest: cannot read the job env file {quoted}"; exit 78; }}')
        # Site set-up (module loads) is the operator's own shell, written as given.
        lines += s.setup
        lines.append("export SLURM_EXPORT_ENV=ALL")
        for key, value in sorted({**self.env, **job.env}.items()):
            lines.append(f"export {key}={shlex.quote(value)}")
        lines += [
            'nodes=($(scontrol show hostnames "$SLURM_JOB_NODELIST"))',
            "# Node names may not resolve: rendezvous on the first node's NodeAddr.",
            'MASTER_ADDR=$(scontrol show node "${nodes[0]}" -o | sed -n \'s/.*NodeAddr=\\([^ ]*\\).*/\\1/p\')',
            "# One port per job (stable across requeues): two jobs whose first node is the same do not collide.",
            'export MASTER_ADDR="${MASTER_ADDR:-${nodes[0]}}"',
            f"export MASTER_PORT=$(({self.rdzv_port} + SLURM_JOB_ID % 1000))",
            'echo "harvest: attempt $((${SLURM_RESTART_COUNT:-0} + 1)) on $SLURM_JOB_NODELIST,'
            ' rendezvous $MASTER_ADDR:$MASTER_PORT"',
            "requeue=0",
            "# Forward the signal to the job step as SIGTERM: torchrun passes it to every rank, which checkpoint",
            "# and exit 143. USR2 is Slurm's warning before the time limit: requeue ourselves afterwards.",
            'forward() { echo "harvest: got SIG$1, asking the training to checkpoint"; '
            'kill -TERM "$child" 2>/dev/null; }',
            "trap 'requeue=1; forward USR2' USR2",
            "trap 'forward TERM' TERM",
            f"{self._step_command(job)} &",
            "child=$!",
            'wait "$child"; rc=$?',
            'while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done',
            'if [ "$requeue" = 1 ] && [ "$rc" -ne 0 ]; then',
            '  echo "harvest: requeueing to resume from the checkpoint"; scontrol requeue "$SLURM_JOB_ID"',
            "fi",
            'exit "$rc"',
        ]
        return Rendered("sbatch", "\n".join(lines) + "\n")

    def _step_command(self, job: JobSpec) -> str:
        r = job.resources
        srun = ["srun", "--label", "--kill-on-bad-exit=1", "--ntasks-per-node=1", f"--nodes={r.nodes}"]
        if self.settings.apptainer:
            binds = ",".join([*self.settings.binds, str(self.log_dir)])
            runner = ["apptainer", "exec", "--nv", "--bind", binds, self.settings.image, "torchrun"]
        else:
            runner = [self.python, "-m", "torch.distributed.run"]
        # torchrun SIGKILLs ranks --shutdown-timeout after forwarding SIGTERM (30 s by default): give them the
        # warning time Slurm grants, less a margin for the requeue.
        shutdown = max(10, self.settings.signal_seconds - 20)
        torchrun = [f"--nnodes={r.nodes}", f"--nproc-per-node={r.processes_per_node}", "--rdzv-backend=c10d",
                    "--rdzv-endpoint=$MASTER_ADDR:$MASTER_PORT", "--rdzv-id=$SLURM_JOB_ID", "--max-restarts=0",
                    f"--shutdown-timeout={shutdown}"]
        argv = ["-m", "harvest.training", *job.training_argv()]
        parts = [shlex.join(srun), shlex.join(runner), " ".join(f'"{a}"' if "$" in a else shlex.quote(a)
                                                               for a in torchrun), shlex.join(argv)]
        return " \\\n  ".join(parts)

    # -- cluster commands ---------------------------------------------------------------------------------
    def _run(self, argv: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
        command = list(argv)
        if self.settings.ssh_host:
            command = ["ssh", "-o", "BatchMode=yes", self.settings.ssh_host, shlex.join(command)]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, text=True,
                                  timeout=self.settings.command_timeout_s, env=self.command_env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LauncherError(f"{argv[0]} could not run: {exc}") from exc
        if check and done.returncode != 0:
            raise LauncherError(f"{shlex.join(argv)} failed (exit {done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def submit(self, job: JobSpec, rendered: Rendered) -> str:
        # Slurm does not create --output's directory: without it the job fails with no log to say why.
        if self.settings.ssh_host:
            self._run(["mkdir", "-p", str(self.log_dir)])
        else:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        out = self._run(["sbatch", "--parsable", *self.settings.extra_sbatch_args], stdin=rendered.text)
        external = out.strip().split(";")[0]
        if not external.isdigit():
            raise LauncherError(f"sbatch answered {out.strip()!r}, not a job id")
        return external

    def find(self, job: JobSpec) -> str | None:
        out = self._run(["squeue", "--states=all", "-h", "-n", job.job_name, "-o", "%i"])
        ids = sorted((line.strip() for line in out.splitlines() if line.strip()), key=int)
        return ids[0] if ids else None

    def status(self, job: JobSpec, external_id: str) -> LaunchStatus:
        if self.settings.use_sacct:
            status = self._sacct(external_id)
            if status is not None:
                return status
        out = self._run(["scontrol", "show", "job", "-o", external_id], check=False)
        line = out.strip().splitlines()[0] if out.strip() else ""
        if not line.startswith("JobId="):
            return LaunchStatus(Phase.GONE, message=f"Slurm no longer knows job {external_id}")
        fields = parse_scontrol(line)
        return _status(fields.get("JobState", ""), fields.get("ExitCode", "0:0"), int(fields.get("Restarts", 0)),
                       fields.get("Reason", ""), fields.get("NodeList", ""))

    def _sacct(self, external_id: str) -> LaunchStatus | None:
        out = self._run(["sacct", "-j", external_id, "-X", "-n", "-P", "-o", "State,ExitCode,NodeList"], check=False)
        rows = [line.split("|") for line in out.splitlines() if line.count("|") == 2]
        if not rows or rows[-1][0] in ("", "Unknown"):
            return None  # accounting not there yet (placeholder row right after the end): ask scontrol
        state, exit_code, nodes = rows[-1]
        return _status(state.split()[0], exit_code, 0, "", nodes)

    def cancel(self, job: JobSpec, external_id: str) -> None:
        self._run(["scancel", external_id])

    def logs(self, job: JobSpec, external_id: str, offset: int = 0, node: str = "") -> bytes:
        path = self.log_path(job)
        if self.settings.ssh_host:
            data = self._run(["tail", "-c", f"+{offset + 1}", str(path)], check=False).encode()
        else:
            try:
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
            except FileNotFoundError:
                return b""
        if node:  # srun --label prefixes every line of task N (one task per node) with "N: "
            prefix = f"{node}: ".encode()
            keep = [line for line in data.splitlines(keepends=True) if line.lstrip().startswith(prefix)]
            data = b"".join(keep)
        return data


def _status(state: str, exit_code: str, restarts: int, reason: str, nodes: str) -> LaunchStatus:
    base = state.split("+")[0].split()[0] if state else ""
    code_text, _, signal_text = exit_code.partition(":")
    code = int(code_text) if code_text.isdigit() else None
    node_list = tuple(n for n in re.split(r"[,\s]", nodes) if n and n != "(null)")
    if base in PENDING_STATES:
        waiting = f"waiting in Slurm's queue ({reason})" if reason and reason != "None" else "waiting in Slurm's queue"
        return LaunchStatus(Phase.PENDING, restarts, message=waiting)
    if base in RUNNING_STATES:
        return LaunchStatus(Phase.RUNNING, restarts, nodes=node_list)
    if base == "COMPLETED":
        return LaunchStatus(Phase.SUCCEEDED, restarts, code, nodes=node_list)
    if base == "CANCELLED":
        return LaunchStatus(Phase.CANCELLED, restarts, code, message="cancelled in Slurm")
    words = FAILED_STATES.get(base, f"Slurm state {base or 'unknown'}")
    detail = f"{words} (exit code {code}" + (f", signal {signal_text})" if signal_text not in ("", "0") else ")")
    return LaunchStatus(Phase.FAILED, restarts, code, message=detail, nodes=node_list)
