"""End-to-end fixtures: the whole platform (`harvest up`) in a temporary home, and a real Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harvest.common.settings import SERVICE_NAMES
from tests.harness.servers import install_packages, port_open, require

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@dataclass
class RunningPlatform:
    """A `harvest up` process and what it printed."""

    process: subprocess.Popen[str]
    home: Path
    env: dict[str, str]
    ports: dict[str, int]
    ready_s: float
    output: list[str] = field(default_factory=list)

    def address(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ui']}"

    @property
    def admin_token(self) -> str:
        return (self.home / "admin-token").read_text().strip()

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harvest.cli", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)


def pick_ports() -> dict[str, int]:
    """Ports for every process whose metrics port (+1000) is free too."""
    import random

    names = [*SERVICE_NAMES, "ui"]
    for _ in range(200):
        base = random.randint(20000, 38000)
        ports = {name: base + i for i, name in enumerate(names)}
        wanted = list(ports.values()) + [p + 1000 for p in ports.values()]
        if not any(port_open(p) for p in wanted):
            return ports
    raise RuntimeError("no free port range found")


def start_platform(home: Path) -> RunningPlatform:
    ports = pick_ports()
    env = {**os.environ, "HARVEST_HOME": str(home), "HARVEST_LOG_FORMAT": "json"}
    env.pop("HARVEST_AUTH_SECRET", None)
    for name, port in ports.items():
        env[f"HARVEST_{name.upper()}_PORT"] = str(port)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "harvest.cli", "up"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    platform = RunningPlatform(process, home, env, ports, 0.0)
    ready = threading.Event()

    def _read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            platform.output.append(line.rstrip("\n"))
            if line.startswith("HARVEST is up"):
                ready.set()

    threading.Thread(target=_read, daemon=True).start()
    while not ready.wait(0.2):
        if process.poll() is not None or time.monotonic() - started > 180:
            logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                             for p in sorted((home / "logs").glob("*.log")))
            process.kill()
            raise RuntimeError("harvest up did not become ready:\n" + "\n".join(platform.output) + "\n" + logs)
    platform.ready_s = time.monotonic() - started
    return platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("harvest-home"))
    yield running
    if running.process.poll() is None:
        os.killpg(running.process.pid, signal.SIGTERM)
        try:
            running.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(running.process.pid, signal.SIGKILL)


def _ensure_chromium() -> str:
    if not shutil.which(CHROMIUM):
        install_packages("chromium", "chromium-driver")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    """pytest-playwright launches Debian's Chromium (never a downloaded browser)."""
    executable = require("Chromium", _ensure_chromium)
    return {"executable_path": executable, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
