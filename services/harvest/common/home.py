"""The embedded state directory (`$HARVEST_HOME`, default `~/.harvest`) and the secret kept there.

Without a configured secret every process on this host uses one random secret stored in the home
(mode 0600), so `harvest up` and `harvest serve` work out of the box and never fall back to a value
published in the documentation.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from harvest.common.settings import AuthSettings

SECRET_FILE = "secret"
ADMIN_TOKEN_FILE = "admin-token"


def ensure_home(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    return home


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically (no moment where it is world-readable)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def home_secret(home: Path) -> str:
    path = ensure_home(home) / SECRET_FILE
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_auth_settings(home: Path) -> AuthSettings:
    """Auth settings from the environment, with the home's secret when none is configured."""
    settings = AuthSettings()
    if settings.secret is None:
        settings = settings.model_copy(update={"secret": SecretStr(home_secret(home))})
    return settings
