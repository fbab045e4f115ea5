"""docker-compose.yml, validated by Debian's docker-compose (`config -q`, offline: no engine here) with
the committed `.env.example`, and the resolved configuration checked for what the deployment promises:
only the UI and the MinIO console published (on loopback by default), health checks everywhere,
start-up ordered by health, no secret in the file, and every HARVEST setting spelled as the code reads it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harvest.common.settings import EXAMPLE_SECRET, PROCESS_NAMES
from tests.harness.settings_env import unknown_variables

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")


def read_env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {key: value for key, value in pairs}


def compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert COMPOSE, "docker-compose is installed by `make test` (scripts/install-system-deps.sh)"
    return subprocess.run([COMPOSE, "--project-directory", str(project), "-f", str(project / "docker-compose.yml"),
                           *args], capture_output=True, text=True, timeout=120, cwd=project)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the compose project (the file and what it mounts), so `.env` files stay out of the repo."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / "charts" / "harvest" / "files").mkdir(parents=True)
    shutil.copy(ROOT / "charts" / "harvest" / "files" / "create-databases.sql",
                tmp_path / "charts" / "harvest" / "files" / "create-databases.sql")
    return tmp_path


def with_env(project: Path, **overrides: str) -> Path:
    env = {**read_env_example(), **overrides}
    (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return project


def resolved(project: Path) -> dict[str, Any]:
    done = compose(project, "config")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_file_validates_with_the_example_env(project: Path) -> None:
    done = compose(with_env(project), "config", "-q")
    assert done.returncode == 0, done.stderr


def test_a_missing_secret_stops_compose_with_the_fix(project: Path) -> None:
    env = read_env_example()
    del env["HARVEST_AUTH_SECRET"]
    (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    done = compose(project, "config", "-q")
    assert done.returncode != 0 and "set HARVEST_AUTH_SECRET in .env" in done.stderr


def test_a_broken_compose_file_fails_validation(project: Path) -> None:
    text = (project / "docker-compose.yml").read_text().replace("condition: service_healthy",
                                                                "condition: when_ready", 1)
    (project / "docker-compose.yml").write_text(text)
    assert compose(with_env(project), "config", "-q").returncode != 0


def test_only_the_ui_and_the_minio_console_are_published_on_loopback_by_default(project: Path) -> None:
    services = resolved(with_env(project))["services"]
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert published == {"ui": ["127.0.0.1:8501:8501/tcp"], "minio": ["127.0.0.1:9001:9001/tcp"]}
    exposed = resolved(with_env(project, HARVEST_PUBLISH_ADDRESS="0.0.0.0"))["services"]["ui"]["ports"]
    assert exposed == ["0.0.0.0:8501:8501/tcp"]


def test_every_process_has_a_health_check_and_waits_for_what_it_needs(project: Path) -> None:
    services = resolved(with_env(project))["services"]
    for name in PROCESS_NAMES:
        service = services[name]
        assert service["environment"]["HARVEST_PROCESS"] == name
        assert service["healthcheck"]["test"][:3] == ["CMD", "harvest", "probe"]
        assert service["read_only"] is True and "ALL" in service["cap_drop"]
        depends = service["depends_on"]
        assert all(condition["condition"] in ("service_healthy", "service_completed_successfully")
                   for condition in depends.values()), name
    for server in ("postgres", "redis", "minio"):
        assert services[server]["healthcheck"]["test"], server
    assert services["storage"]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    assert {"postgres", "redis", "minio-init"} <= set(services["worker"]["depends_on"])
    assert set(services["ui"]["depends_on"]) == {"storage", "labels", "scheduler", "inference"}
    assert "mc mb --ignore-existing" in " ".join(services["minio-init"]["command"])


def test_settings_are_real_and_wired_from_the_env_file(project: Path) -> None:
    services = resolved(with_env(project, POSTGRES_PASSWORD="pg-pass", REDIS_PASSWORD="redis-pass"))["services"]
    for name in PROCESS_NAMES:
        env = services[name]["environment"]
        assert unknown_variables(env) == [], name
        assert env["HARVEST_AUTH_SECRET"] == EXAMPLE_SECRET and env["HARVEST_AUTH_REQUIRE_SECRET"] == "true"
    env = services["labels"]["environment"]
    assert env["HARVEST_DB_URL"] == "postgresql+psycopg://harvest:pg-pass@postgres:5432/harvest_labels"
    assert env["HARVEST_BROKER_URL"] == "redis://:redis-pass@redis:6379/0"
    assert services["redis"]["environment"]["REDISCLI_AUTH"] == "redis-pass"


def test_no_secret_is_committed() -> None:
    """The committed file holds variables only; the example env holds placeholders the services refuse."""
    text = (ROOT / "docker-compose.yml").read_text()
    assert "PASSWORD: ${" in text and "change-me" not in text
    env = read_env_example()
    assert env["HARVEST_AUTH_SECRET"] == EXAMPLE_SECRET  # `harvest serve` refuses this value
    assert all(env[key].startswith("replace-me") for key in ("POSTGRES_PASSWORD", "REDIS_PASSWORD",
                                                            "MINIO_ROOT_PASSWORD"))
    assert ".env" in (ROOT / ".gitignore").read_text().split()
