"""Settings are read from HARVEST_* variables, validated, and documented defaults hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from harvest.common.home import load_auth_settings
from harvest.common.settings import (
    DEFAULT_PORTS,
    AuthSettings,
    BrokerSettings,
    ClientSettings,
    DatabaseSettings,
    EndpointSettings,
    HomeSettings,
    ObjectStoreSettings,
    TLSSettings,
)

pytestmark = pytest.mark.unit


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARVEST_HOME", raising=False)
    endpoints = EndpointSettings()
    assert {name: endpoints.port(name) for name in DEFAULT_PORTS} == {
        "storage": 50051, "labels": 50052, "scheduler": 50053, "inference": 50054, "ui": 8501,
    }
    assert HomeSettings().home == Path("~/.harvest").expanduser()
    assert ObjectStoreSettings().backend == "local"
    assert BrokerSettings().url is None
    assert TLSSettings().enabled is False


def test_ports_and_addresses_are_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_LABELS_PORT", "6000")
    monkeypatch.setenv("HARVEST_CONNECT_HOST", "10.1.2.3")
    monkeypatch.setenv("HARVEST_STORAGE_ADDRESS", "storage.svc:443")
    endpoints = EndpointSettings()
    assert endpoints.address("labels") == "10.1.2.3:6000"
    assert endpoints.address("storage") == "storage.svc:443"


def test_invalid_port_is_refused_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_STORAGE_PORT", "70000")
    with pytest.raises(ValidationError, match="storage_port"):
        EndpointSettings()


def test_unknown_service_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown service 'storag'"):
        EndpointSettings().address("storag")


def test_short_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_AUTH_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        AuthSettings()


def test_home_secret_is_created_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARVEST_AUTH_SECRET", raising=False)
    first = load_auth_settings(tmp_path)
    second = load_auth_settings(tmp_path)
    assert first.secret is not None and second.secret is not None
    assert first.secret.get_secret_value() == second.secret.get_secret_value()
    assert len(first.secret.get_secret_value()) >= 32
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600


def test_configured_secret_wins_over_home_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_AUTH_SECRET", "x" * 40)
    settings = load_auth_settings(tmp_path)
    assert settings.secret is not None and settings.secret.get_secret_value() == "x" * 40
    assert not (tmp_path / "secret").exists()


def test_database_url_defaults_to_sqlite_in_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARVEST_DB_URL", raising=False)
    assert DatabaseSettings().resolved_url(tmp_path) == f"sqlite:///{tmp_path}/labels.db"
    monkeypatch.setenv("HARVEST_DB_URL", "postgresql+psycopg://u@db/harvest")
    assert DatabaseSettings().resolved_url(tmp_path) == "postgresql+psycopg://u@db/harvest"


def test_client_retry_attempts_are_capped_at_grpc_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_CLIENT_MAX_ATTEMPTS", "9")
    with pytest.raises(ValidationError, match="max_attempts"):
        ClientSettings()


def test_booleans_and_literals_parse_from_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_TLS_ENABLED", "true")
    monkeypatch.setenv("HARVEST_STORE_BACKEND", "s3")
    assert TLSSettings().enabled is True
    assert ObjectStoreSettings().backend == "s3"
    monkeypatch.setenv("HARVEST_STORE_BACKEND", "ftp")
    with pytest.raises(ValidationError, match="backend"):
        ObjectStoreSettings()
