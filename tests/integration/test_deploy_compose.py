"""docker-compose.yml, validated by Debian's docker-compose (`config -q`, offline: no engine here) with
the committed `.env.example`, and the resolved configuration checked for what the deployment promises:
only the UI and the MinIO console published (on loopback by default), health checks everywhere,
start-up ordered by health, no secret in the file, and every HARVEST setting spelled as the code reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvest.common.settings import EXAMPLE_SECRET, PROCESS_NAMES
from tests.harness.compose import ROOT, compose, copy_project, read_env_example, resolved, with_env, write_env
from tests.harness.settings_env import unknown_variables

pytestmark = pytest.mark.integration


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def test_compose_file_validates_with_the_example_env(project: Path) -> None:
    done = compose(with_env(project), "config", "-q")
    assert done.returncode == 0, done.stderr


def test_a_missing_secret_stops_compose_with_the_fix(project: Path) -> None:
    env = read_env_example()
    del env["HARVEST_AUTH_SECRET"]
    done = compose(write_env(project, env), "config", "-q")
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
        assert service["image"] == "harvest:0.1.0" and service["build"]["dockerfile"] == "deploy/Dockerfile"
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
