"""The Slurm deployment kit (deploy/slurm) names only real settings and commands, and what it sets parses.

Each check is a function that returns the problems it found, so the tests below can show both that the
kit is clean and that a wrong file would be caught.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import make_url

from harvest.cli import _parser
from harvest.common.settings import ServerSettings
from harvest.scheduler.launchers.slurm import SlurmLauncher
from harvest.scheduler.settings import JobEnvSettings, SchedulerSettings, SlurmSettings
from harvest.scheduler.spec import JobSpec, ResourceSpec
from harvest.training.config import TrainingSettings
from tests.harness.settings_env import known_variables, settings_classes, unknown_variables

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "deploy" / "slurm"
SITE_ENV = KIT / "harvest.env.example"
JOB_ENV = KIT / "job.env.example"
UNITS = {"harvest-scheduler.service": "scheduler", "harvest-worker.service": "worker"}
ASSIGNMENT = re.compile(r"(?P<export>export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)")
COMMENTED = re.compile(r"#\s*(?:export\s+)?(?P<name>[A-Z][A-Z0-9_]*)=")
# An unquoted value both bash and systemd read verbatim: no blanks, quotes, `#`, `$` or shell operators.
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_./:@+,=%-]*")
MENTION = re.compile(r"(?<![A-Za-z0-9_])(HARVEST_[A-Z0-9_]+)")
SHUTDOWN = re.compile(r"--shutdown-timeout=(\d+)")


# ---- what the harvest package reads (tests/harness/settings_env.py) ------------------------------------
def is_secret(name: str) -> bool:
    """Whether some settings class reads `name` into a SecretStr."""
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        field_name = name.removeprefix(prefix).lower() if name.startswith(prefix) else None
        if field_name in cls.model_fields:
            annotation = cls.model_fields[field_name].annotation
            if annotation is SecretStr or SecretStr in typing.get_args(annotation):
                return True
    return False


# ---- the files of the kit ------------------------------------------------------------------------------
@dataclass
class EnvFile:
    values: dict[str, str] = field(default_factory=dict)
    commented: list[str] = field(default_factory=list)  # names of commented-out assignments
    problems: list[str] = field(default_factory=list)


def read_env_file(text: str, *, exported: bool, where: str = "env file") -> EnvFile:
    """NAME=value lines as both systemd (EnvironmentFile=) and bash read them: a value is plain or wholly
    in single quotes; `exported` says whether every line must start with `export` (or none may)."""
    env = EnvFile()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if match := COMMENTED.match(stripped):
                env.commented.append(match["name"])
            continue
        match = ASSIGNMENT.fullmatch(stripped)
        if match is None:
            env.problems.append(f"{where}:{number}: not a NAME=value line: {stripped!r}")
            continue
        if bool(match["export"]) != exported:
            env.problems.append(f"{where}:{number}: {match['name']} " + ("needs `export`" if exported else
                                                                          "must not use `export`"))
        raw = match["value"]
        if raw.startswith("'"):
            if len(raw) < 2 or not raw.endswith("'") or "'" in raw[1:-1]:
                env.problems.append(f"{where}:{number}: {match['name']}: unbalanced single quotes")
            value = raw[1:-1]
        elif PLAIN_VALUE.fullmatch(raw):
            value = raw
        else:
            env.problems.append(f"{where}:{number}: {match['name']}: quote the value in single quotes (and put "
                                f"comments on their own line): {raw!r}")
            value = raw
        env.values[match["name"]] = value
    return env


def unit_sections(text: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as section -> key -> every value assigned (in order)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1], {})
            continue
        key, sep, value = stripped.partition("=")
        if current is None or not sep:
            raise ValueError(f"not a unit file line: {stripped!r}")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+)\s*(s|sec|min)?", text)
    if match is None:
        raise ValueError(f"unexpected time span {text!r}")
    return int(match[1]) * (60 if match[2] == "min" else 1)


def unit_problems(text: str, process: str, stop_within_s: float) -> list[str]:
    """Why a unit would not run `process` as a non-root user with the site settings, stoppable gracefully."""
    service = unit_sections(text).get("Service", {})
    problems = []
    commands = service.get("ExecStart", [])
    if len(commands) != 1:
        return [f"one ExecStart expected, found {commands}"]
    argv = shlex.split(commands[0])
    if not argv[0].startswith("/") or Path(argv[0]).name != "harvest":
        problems.append(f"ExecStart runs {argv[0]!r}, not the absolute path of a `harvest` command")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = _parser().parse_args(argv[1:])
    except SystemExit:
        problems.append(f"ExecStart {commands[0]!r} is not a harvest command line")
    else:
        runs = getattr(args, "name", None) if args.command == "serve" else args.command
        if not getattr(args, "handler", None) or runs != process:
            problems.append(f"ExecStart {commands[0]!r} does not run {process}")
    if service.get("EnvironmentFile") != ["/etc/harvest/harvest.env"]:
        problems.append(f"EnvironmentFile must be /etc/harvest/harvest.env, required (no `-`), not "
                        f"{service.get('EnvironmentFile')}")
    users = service.get("User", [])
    if len(users) != 1 or users[0] in ("", "root", "0"):
        problems.append(f"User must name one non-root account, not {users}")
    if service.get("Restart") != ["on-failure"]:
        problems.append("Restart=on-failure expected")
    if service.get("KillSignal") != ["SIGTERM"]:
        problems.append("KillSignal=SIGTERM expected (the graceful stop of servers and Celery)")
    timeout = service.get("TimeoutStopSec", [])
    if not timeout or seconds(timeout[-1]) <= stop_within_s:
        problems.append(f"TimeoutStopSec {timeout} must exceed {stop_within_s} s")
    return problems


def site_env() -> EnvFile:
    return read_env_file(SITE_ENV.read_text(), exported=False, where=SITE_ENV.name)


def job_env() -> EnvFile:
    return read_env_file(JOB_ENV.read_text(), exported=True, where=JOB_ENV.name)


def shell_environment(script: str, path: Path) -> dict[str, str]:
    """The environment bash exports after running `script` with $1 = path."""
    done = subprocess.run(["bash", "-c", f"{script}\nenv -0", "bash", str(path)], capture_output=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=10)
    assert done.returncode == 0, done.stderr.decode()
    return dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)


def use_site_settings(monkeypatch: pytest.MonkeyPatch, *files: EnvFile) -> None:
    """The process environment holds exactly the non-empty HARVEST_* values of `files`."""
    for name in [n for n in os.environ if n.upper().startswith("HARVEST_")]:
        monkeypatch.delenv(name)
    for env in files:
        for name, value in env.values.items():
            if name.startswith("HARVEST_") and value:
                monkeypatch.setenv(name, value)


def job() -> JobSpec:
    return JobSpec("j1", "harvest-j1", "p1", "s1", "quick", (), ResourceSpec(nodes=2, gpus_per_node=4,
                   processes_per_node=4, cpus_per_node=16, time_limit_s=3600), {"HARVEST_STORE_BACKEND": "s3"})


# ---- the kit is clean ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [SITE_ENV, JOB_ENV], ids=lambda p: p.name)
def test_env_examples_are_read_alike_by_systemd_and_bash(path: Path) -> None:
    env = site_env() if path == SITE_ENV else job_env()
    assert env.problems == []
    # What bash makes of the file is what the parser (systemd's rules for plain and single-quoted values)
    # read; for job.env without `set -a`, as the batch script sources it: so every line is exported.
    script = "set -a; . \"$1\"; set +a" if path == SITE_ENV else "set -uo pipefail; source \"$1\""
    exported = shell_environment(script, path)
    assert {name: exported.get(name) for name in env.values} == env.values


def test_every_harvest_variable_in_the_examples_is_a_setting() -> None:
    site, jobs = site_env(), job_env()
    extra_env = json.loads(site.values["HARVEST_JOB_ENV"])
    names = [*site.values, *site.commented, *jobs.values, *jobs.commented, *extra_env]
    assert unknown_variables(names) == []
    assert all(name.startswith("HARVEST_") for name in [*site.values, *site.commented])


def test_every_harvest_variable_the_guide_mentions_is_a_setting() -> None:
    known = known_variables()
    text = (KIT / "README.md").read_text()
    mentioned = set(MENTION.findall(text))
    assert mentioned, "the guide names no setting at all"
    # A name ending in `_` is a prefix (e.g. HARVEST_SLURM_): some setting must start with it.
    wrong = sorted(n for n in mentioned if not (any(k.startswith(n) for k in known) if n.endswith("_")
                                                  else n in known))
    assert wrong == []


def test_secrets_are_empty_placeholders_and_databases_use_psycopg() -> None:
    for env in (site_env(), job_env()):
        secrets = {name: value for name, value in env.values.items() if is_secret(name)}
        assert secrets and all(value == "" for value in secrets.values()), secrets
    urls = {name: value for name, value in site_env().values.items() if name.endswith("DB_URL")}
    assert set(urls) == {"HARVEST_DB_URL", "HARVEST_STORAGE_DB_URL", "HARVEST_SCHEDULER_DB_URL",
                         "HARVEST_INFERENCE_DB_URL"}
    for url in urls.values():
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+psycopg" and parsed.password == "CHANGE_ME"
        parsed.get_dialect()  # the driver's dialect loads (psycopg is a dependency)
    assert len({make_url(url).database for url in urls.values()}) == 4  # one database per service


def test_site_settings_parse_into_every_settings_class(monkeypatch: pytest.MonkeyPatch) -> None:
    use_site_settings(monkeypatch, site_env(), job_env())
    errors = []
    for cls in settings_classes():
        try:
            cls()
        except ValidationError as exc:
            errors.append(f"{cls.__name__}: {exc}")
    assert errors == []
    assert SchedulerSettings().backends == ["slurm"]
    slurm, jobs = SlurmSettings(), JobEnvSettings()
    assert slurm.apptainer and slurm.setup and slurm.binds and slurm.partition and slurm.account
    assert jobs.env_file == "/shared/harvest/etc/job.env" and jobs.log_dir == Path("/shared/harvest/logs")


def test_node_local_directories_are_bound_into_the_container(monkeypatch: pytest.MonkeyPatch) -> None:
    use_site_settings(monkeypatch, site_env(), job_env())
    training, slurm = TrainingSettings(), SlurmSettings()
    for path in (training.cache_dir, training.work_dir):
        assert any(path.is_relative_to(bind) for bind in slurm.binds), (path, slurm.binds)


def rendered_with_site_settings(monkeypatch: pytest.MonkeyPatch) -> str:
    """The sbatch script the worker would submit with the example site settings."""
    use_site_settings(monkeypatch, site_env())
    slurm, jobs = SlurmSettings(), JobEnvSettings()
    assert jobs.log_dir is not None
    return SlurmLauncher(slurm, jobs.log_dir, jobs.python, jobs.rdzv_port,
                         {**jobs.env, "HARVEST_STORE_BACKEND": "s3"}, jobs.env_file).render(job()).text


def script_problems(text: str, setup: list[str], signal_seconds: int) -> list[str]:
    """Why a rendered script would leak the worker's environment, starve srun of the script's own
    exports, or let torchrun kill the ranks after Slurm's warning has run out."""
    problems = []
    if "#SBATCH --export=PATH,HOME,USER,LANG\n" not in text:
        problems.append("no `#SBATCH --export=PATH,HOME,USER,LANG`: sbatch would copy the worker's environment")
    lines = text.splitlines()
    setup_end = max((lines.index(line) for line in setup if line in lines), default=-1)
    srun = next((i for i, line in enumerate(lines) if line.startswith("srun ")), len(lines))
    if not any(setup_end < i < srun for i, line in enumerate(lines) if line == "export SLURM_EXPORT_ENV=ALL"):
        problems.append("`export SLURM_EXPORT_ENV=ALL` must come after the setup lines and before srun")
    timeouts = [int(value) for value in SHUTDOWN.findall(text)]
    if len(timeouts) != 1 or timeouts[0] >= signal_seconds:
        problems.append(f"torchrun --shutdown-timeout {timeouts} must be one value below {signal_seconds} s")
    leaked = [name for name in ("HARVEST_AUTH_SECRET", "DB_URL", "BROKER_URL", "S3_SECRET_KEY") if name in text]
    if leaked:
        problems.append(f"the script names {leaked}: secrets belong in job.env")
    return problems


def test_script_rendered_with_the_site_settings_keeps_secrets_out_and_gives_time_to_checkpoint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = rendered_with_site_settings(monkeypatch)
    slurm = SlurmSettings()
    assert script_problems(text, slurm.setup, slurm.signal_seconds) == []


def test_script_rendered_with_the_site_settings_sources_the_env_file_and_is_valid_bash(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = rendered_with_site_settings(monkeypatch)
    slurm, jobs = SlurmSettings(), JobEnvSettings()
    positions = [text.index(f"source {jobs.env_file} || "), *(text.index(f"{line}\n") for line in slurm.setup),
                 text.index("srun ")]
    assert positions == sorted(positions)
    assert f"apptainer exec --nv --bind {','.join(slurm.binds)},{jobs.log_dir} {slurm.image} torchrun" in text
    script = tmp_path / "job.sh"
    script.write_text(text)
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("unit", "process"), UNITS.items())
def test_units_run_a_harvest_command_as_the_harvest_user_with_the_site_settings(unit: str, process: str) -> None:
    stop_within = ServerSettings().grace_period_s if process != "worker" else SlurmSettings().command_timeout_s
    assert unit_problems((KIT / unit).read_text(), process, stop_within) == []


# ---- and a wrong kit would be caught -------------------------------------------------------------------
def test_misspelled_or_invented_settings_are_reported() -> None:
    names = ["HARVEST_SLURM_PARTITON", "HARVEST_TRAINING_CACHEDIR", "NCCL_DEBUG", "HARVEST_JOB_ENV_FILE"]
    assert unknown_variables(names) == ["HARVEST_SLURM_PARTITON", "HARVEST_TRAINING_CACHEDIR"]
    assert is_secret("HARVEST_AUTH_SECRET") and not is_secret("HARVEST_SLURM_PARTITION")


def test_scripts_that_leak_secrets_or_cut_the_checkpoint_short_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    good = rendered_with_site_settings(monkeypatch)
    setup = SlurmSettings().setup
    cases = {
        "no --export": good.replace("#SBATCH --export=PATH,HOME,USER,LANG\n", ""),
        "srun without SLURM_EXPORT_ENV": good.replace("export SLURM_EXPORT_ENV=ALL\n", ""),
        "SLURM_EXPORT_ENV before setup": good.replace("export SLURM_EXPORT_ENV=ALL\n", "").replace(
            f"{setup[0]}\n", f"export SLURM_EXPORT_ENV=ALL\n{setup[0]}\n"),
        "shutdown too long": SHUTDOWN.sub("--shutdown-timeout=120", good),
        "secret in script": good.replace("set -uo pipefail\n", "set -uo pipefail\nexport HARVEST_AUTH_SECRET=x\n"),
    }
    for case, text in cases.items():
        assert text != good, case
        assert script_problems(text, setup, 120), case


def test_env_lines_systemd_and_bash_would_read_differently_are_reported() -> None:
    text = ("HARVEST_SLURM_PARTITION=gpu # the GPU nodes\nexport HARVEST_SLURM_QOS=normal\n"
            "HARVEST_SLURM_SETUP=[\"module load apptainer\"]\nHARVEST_SLURM_BINDS='[\"/local\"]\n")
    problems = read_env_file(text, exported=False).problems
    assert len(problems) == 4, problems
    assert read_env_file("HARVEST_STORE_S3_ACCESS_KEY=\n", exported=True).problems  # job.env needs export


def test_units_running_a_wrong_command_or_as_root_are_reported() -> None:
    good = (KIT / "harvest-scheduler.service").read_text()
    cases = {
        "serve schedular": good.replace("serve scheduler", "serve schedular"),
        "extra argument": good.replace("harvest serve scheduler", "harvest serve scheduler --verbose"),
        "root": good.replace("User=harvest", "User=root"),
        "optional settings": good.replace("EnvironmentFile=/etc", "EnvironmentFile=-/etc"),
        "short stop": good.replace("TimeoutStopSec=30", "TimeoutStopSec=5"),
    }
    for case, text in cases.items():
        assert text != good, case
        assert unit_problems(text, "scheduler", ServerSettings().grace_period_s), case
    assert unit_problems(good, "worker", 0)  # a unit running another process than the one expected
