"""docker-compose.yml as Debian's docker-compose resolves it (`config`, offline): a copy of the compose
project in a temporary folder (the file and what it mounts) with a `.env` made from `.env.example`, so
tests read exactly what `docker compose up` would run, and no `.env` is ever written into the checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")
MOUNTED = (Path("charts/harvest/files/create-databases.sql"),)


def read_env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {key: value for key, value in pairs}


def copy_project(folder: Path) -> Path:
    shutil.copy(ROOT / "docker-compose.yml", folder / "docker-compose.yml")
    for relative in MOUNTED:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, folder / relative)
    return folder


def write_env(project: Path, env: dict[str, str]) -> Path:
    (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return project


def with_env(project: Path, **overrides: str) -> Path:
    return write_env(project, {**read_env_example(), **overrides})


def compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert COMPOSE, "docker-compose is installed by `make test` (scripts/install-system-deps.sh)"
    return subprocess.run([COMPOSE, "--project-directory", str(project), "-f", str(project / "docker-compose.yml"),
                           *args], capture_output=True, text=True, timeout=120, cwd=project)


def resolved(project: Path) -> dict[str, Any]:
    done = compose(project, "config")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)
