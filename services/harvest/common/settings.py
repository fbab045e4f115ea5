"""Settings, one pydantic-settings class per concern, read from `HARVEST_*` environment variables.

Each class is read once at process start and passed down; code never reads `os.environ` itself. The
defaults are the embedded ones `harvest up` uses, so a laptop needs no configuration at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The shared secret used when none is configured. `harvest up` replaces it with a per-home random
#: secret; deployments must set their own (the deployment issue refuses to start with this value).
EXAMPLE_SECRET = "change-me-harvest-example-secret-0000"

SERVICE_NAMES: tuple[str, ...] = ("storage", "labels", "scheduler", "inference")

#: Every long-running process: the gRPC services, the Celery worker and the UI.
PROCESS_NAMES: tuple[str, ...] = (*SERVICE_NAMES, "worker", "ui")

DEFAULT_PORTS: dict[str, int] = {
    "storage": 50051,
    "labels": 50052,
    "scheduler": 50053,
    "inference": 50054,
    "ui": 8501,
}


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", case_sensitive=False)


class HomeSettings(BaseSettings):
    """Where embedded state lives: the SQLite file, the local object store, logs, the admin token."""

    model_config = _config("HARVEST_")

    home: Path = Field(default=Path("~/.harvest"), description="State directory of `harvest up`.")

    @field_validator("home")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


class ProcessSettings(BaseSettings):
    """Which process a container runs: one image serves every process, picked by HARVEST_PROCESS, so
    `harvest serve` and the image's health check (`harvest probe`) agree without repeating the name."""

    model_config = _config("HARVEST_")

    process: str | None = Field(default=None, description="One of PROCESS_NAMES.")

    @field_validator("process")
    @classmethod
    def _known_process(cls, value: str | None) -> str | None:
        if value is not None and value not in PROCESS_NAMES:
            raise ValueError(f"HARVEST_PROCESS must be one of {', '.join(PROCESS_NAMES)}, not {value!r}")
        return value


class EndpointSettings(BaseSettings):
    """Host and port of every process, so clients and servers agree without extra wiring."""

    model_config = _config("HARVEST_")

    bind_host: str = Field(default="127.0.0.1", description="Address servers listen on.")
    connect_host: str = Field(default="127.0.0.1", description="Address clients dial for every service.")
    storage_port: int = Field(default=DEFAULT_PORTS["storage"], ge=0, le=65535)
    labels_port: int = Field(default=DEFAULT_PORTS["labels"], ge=0, le=65535)
    scheduler_port: int = Field(default=DEFAULT_PORTS["scheduler"], ge=0, le=65535)
    inference_port: int = Field(default=DEFAULT_PORTS["inference"], ge=0, le=65535)
    ui_port: int = Field(default=DEFAULT_PORTS["ui"], ge=0, le=65535)
    storage_address: str | None = Field(default=None, description="host:port overriding connect_host.")
    labels_address: str | None = None
    scheduler_address: str | None = None
    inference_address: str | None = None

    def port(self, service: str) -> int:
        return int(getattr(self, f"{_known(service)}_port"))

    def address(self, service: str) -> str:
        """The host:port a client dials for `service`."""
        explicit = getattr(self, f"{_known(service)}_address", None)
        return explicit or f"{self.connect_host}:{self.port(service)}"


def _known(service: str) -> str:
    if service not in DEFAULT_PORTS:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(DEFAULT_PORTS)}")
    return service


class AuthSettings(BaseSettings):
    """Token signing: `labels` signs, every service verifies locally with the same secret."""

    model_config = _config("HARVEST_AUTH_")

    secret: SecretStr | None = Field(
        default=None, description="HMAC secret for tokens; default: a random one kept in $HARVEST_HOME/secret."
    )
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    issuer: str = "harvest"
    token_ttl_s: int = Field(default=30 * 24 * 3600, gt=0, description="Default token lifetime.")
    leeway_s: int = Field(default=5, ge=0, description="Clock skew tolerated when checking expiry.")
    require_secret: bool = Field(
        default=False, description="Refuse to start without HARVEST_AUTH_SECRET: set in deployments, where "
        "processes do not share a home and a per-home secret would make every token invalid elsewhere.")

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("HARVEST_AUTH_SECRET must be at least 32 characters (HMAC-SHA256 key length)")
        return value

    @property
    def is_example_secret(self) -> bool:
        return self.secret is not None and self.secret.get_secret_value() == EXAMPLE_SECRET

    def startup_problem(self) -> str | None:
        """Why a process must not start with these settings (None: it may)."""
        if self.is_example_secret:
            return ("HARVEST_AUTH_SECRET is the published example value, so anyone could sign tokens; generate one "
                    "with: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        if self.require_secret and self.secret is None:
            return ("HARVEST_AUTH_SECRET is not set but HARVEST_AUTH_REQUIRE_SECRET is: every process of a "
                    "deployment needs the same secret (from a Kubernetes Secret or the .env file)")
        return None


class TLSSettings(BaseSettings):
    """Optional TLS for every gRPC server and client; off by default on loopback."""

    model_config = _config("HARVEST_TLS_")

    enabled: bool = False
    cert_file: Path | None = Field(default=None, description="Server certificate chain (PEM).")
    key_file: Path | None = Field(default=None, description="Server private key (PEM).")
    ca_file: Path | None = Field(default=None, description="CA bundle clients trust (PEM).")
    server_name_override: str | None = Field(default=None, description="For certificates without IP SANs.")


class ServerSettings(BaseSettings):
    """Limits and behaviour shared by every gRPC server."""

    model_config = _config("HARVEST_SERVER_")

    max_message_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    max_workers: int = Field(default=16, gt=0, description="Threads serving concurrent RPCs.")
    grace_period_s: float = Field(default=8.0, ge=0, description="In-flight RPCs finish within this on SIGTERM.")
    metrics_port: int | None = Field(
        default=None, description="Prometheus /metrics port; default: the service's gRPC port + 1000."
    )
    reflection: bool = True
    reuse_port: bool = Field(default=False, description="Share the port with other processes (SO_REUSEPORT); "
                             "set by a service for its own replicas, not by hand.")


class ClientSettings(BaseSettings):
    """How clients call services: deadlines and retries on UNAVAILABLE."""

    model_config = _config("HARVEST_CLIENT_")

    token: SecretStr | None = Field(default=None, description="Bearer token used by the SDK and CLI.")
    timeout_s: float = Field(default=30.0, gt=0, description="Default per-call deadline.")
    max_attempts: int = Field(default=5, ge=1, le=5, description="Attempts for UNAVAILABLE (gRPC caps at 5).")
    initial_backoff_s: float = Field(default=0.2, gt=0)
    max_backoff_s: float = Field(default=5.0, gt=0)


class LogSettings(BaseSettings):
    """Structured logging."""

    model_config = _config("HARVEST_LOG_")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = Field(default="json", description="json: one object a line, for collectors.")


class DatabaseSettings(BaseSettings):
    """The labels database: SQLite under the home by default, PostgreSQL in deployments."""

    model_config = _config("HARVEST_DB_")

    url: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite:///$HARVEST_HOME/labels.db")
    echo: bool = False

    def resolved_url(self, home: Path) -> str:
        return self.url or f"sqlite:///{home / 'labels.db'}"


class ObjectStoreSettings(BaseSettings):
    """Where objects live: a local directory by default, MinIO/S3 in deployments."""

    model_config = _config("HARVEST_STORE_")

    backend: Literal["local", "s3"] = "local"
    local_root: Path | None = Field(default=None, description="Default: $HARVEST_HOME/objects.")
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: SecretStr = SecretStr("minioadmin")
    s3_secret_key: SecretStr = SecretStr("minioadmin")
    s3_bucket: str = "harvest"
    s3_region: str | None = None
    s3_secure: bool = False
    s3_max_connections: int = Field(default=32, ge=1, le=1024, description="HTTP connections kept to the S3 "
                                    "endpoint (the SDK's default of 10 makes more concurrent requests, e.g. "
                                    "parallel ingest threads, open and drop a connection each time).")


class BrokerSettings(BaseSettings):
    """Celery broker: a filesystem broker needing no server by default, Redis in deployments."""

    model_config = _config("HARVEST_BROKER_")

    url: str | None = Field(default=None, description="e.g. redis://127.0.0.1:6379/0; default: filesystem.")
    result_backend: str | None = Field(
        default=None, description="Celery result backend; job state lives in our database, so none by default."
    )
    visibility_timeout_s: int = Field(default=3600, gt=0, description="Longer than any task may run.")
    poll_interval_s: float = Field(default=5.0, gt=0, description="How often active jobs are polled.")


class UISettings(BaseSettings):
    """The Streamlit front end."""

    model_config = _config("HARVEST_UI_")

    title: str = "HARVEST"


class StorageSettings(BaseSettings):
    """Limits and index of the storage service; every limit refuses a file with a per-file reason."""

    model_config = _config("HARVEST_STORAGE_")

    db_url: str | None = Field(default=None, description="Image index; default sqlite:///$HARVEST_HOME/storage.db")
    max_image_bytes: int = Field(default=64 * 1024 * 1024, gt=0, description="Largest single image file.")
    max_image_pixels: int = Field(default=100_000_000, gt=0, description="Decompression-bomb guard (w x h).")
    thumbnail_px: int = Field(default=256, ge=32, le=1024, description="Longest side of grid thumbnails.")
    thumbnail_format: Literal["jpeg", "webp"] = Field(
        default="jpeg", description="jpeg encodes ~10x faster (ingest throughput); webp is ~30% smaller.")
    max_archive_members: int = Field(default=200_000, gt=0)
    max_archive_bytes: int = Field(default=32 * 1024**3, gt=0, description="Uncompressed total of one archive.")
    max_compression_ratio: float = Field(default=100.0, gt=1, description="Uncompressed/compressed, per member.")
    max_upload_bytes: int = Field(default=64 * 1024**3, gt=0, description="One file of a streamed upload.")
    quota_bytes: int = Field(default=0, ge=0, description="Per-project stored bytes; 0 = unlimited.")
    quota_images: int = Field(default=0, ge=0, description="Per-project image count; 0 = unlimited.")
    ingest_workers: int = Field(default=4, gt=0, description="Threads validating and storing files.")

    def resolved_db_url(self, home: Path) -> str:
        return self.db_url or f"sqlite:///{home / 'storage.db'}"
