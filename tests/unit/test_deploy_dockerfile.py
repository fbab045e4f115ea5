"""deploy/Dockerfile: hadolint finds nothing, and the properties a reviewer checks by eye hold: the final
stages run as a non-root user, carry no build tools, and health-check the process they run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harvest.cli import _parser

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def hadolint(path: Path) -> list[dict[str, object]]:
    done = subprocess.run([str(HADOLINT), "--format", "json", str(path)], capture_output=True, text=True,
                          timeout=60)
    return json.loads(done.stdout or "[]")


def stages() -> dict[str, list[str]]:
    """Instructions of each stage, by stage name (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            name = line.split()[-1] if " AS " in line.upper() else f"stage{len(found)}"
            current = found.setdefault(name, [])
        current.append(line)
    return found


def test_hadolint_finds_nothing() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nRUN cd /src\n")
    codes = {finding["code"] for finding in hadolint(bad)}
    assert {"DL3007", "DL3008", "DL3003"} <= codes


def test_final_stages_run_as_non_root_without_build_tools() -> None:
    all_stages = stages()
    assert list(all_stages)[-1] == "cpu"  # the default target
    for name in ("cpu", "gpu"):
        instructions = all_stages[name]
        assert instructions[0].startswith("FROM runtime-base AS")
        user = [i for i in instructions if i.startswith("USER ")]
        assert user and user[-1].split()[1].split(":")[0] not in ("0", "root")
        copied = [i for i in instructions if i.startswith("COPY ")]
        assert copied == [f"COPY --from=build-{name} /opt/harvest /opt/harvest"]  # the venv only, no sources
    runs = " ".join(i for i in all_stages["runtime-base"] if i.startswith("RUN "))
    for tool in ("gcc", "build-essential", "apt-get", "pip ", "git "):
        assert tool not in runs


def test_health_check_probes_the_process_the_container_runs() -> None:
    runtime = stages()["runtime-base"]
    healthcheck = next(i for i in runtime if i.startswith("HEALTHCHECK "))
    command = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert command[:2] == ["harvest", "probe"]
    _parser().parse_args(command[1:])  # a real subcommand: argparse exits on anything else
    assert 'ENTRYPOINT ["harvest"]' in runtime and 'CMD ["serve"]' in runtime
    env = " ".join(i for i in runtime if i.startswith("ENV "))
    assert "HARVEST_BIND_HOST=0.0.0.0" in env and "HARVEST_AUTH_REQUIRE_SECRET=true" in env


def test_only_the_package_goes_into_the_build_context() -> None:
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert "*" in ignore  # exclude everything, then allow the package back in
    assert {"!pyproject.toml", "!README.md", "!services/"} <= set(ignore)
    copied = [i for instructions in stages().values() for i in instructions
              if i.startswith("COPY ") and "--from" not in i]
    assert copied == ["COPY pyproject.toml README.md ./", "COPY services ./services"]
