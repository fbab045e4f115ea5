"""`harvest up`: every process on this host with embedded defaults, under one supervisor.

Prepares the home (secret, database schema, the first admin and its token), starts the services, the
Celery worker and the UI as child processes, waits until each answers its health check, prints where
each listens, and stops them all on SIGTERM/Ctrl-C.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from harvest.common.auth import Role
from harvest.common.channel import open_channel, wait_until_serving
from harvest.common.home import ADMIN_TOKEN_FILE, ensure_home, load_auth_settings, write_private
from harvest.common.settings import (
    SERVICE_NAMES,
    DatabaseSettings,
    EndpointSettings,
    HomeSettings,
    ServerSettings,
)
from harvest.supervisor import ChildSpec, Supervisor

ADMIN_USERNAME = "admin"
ADMIN_TOKEN_TTL_S = 365 * 24 * 3600


@dataclass
class Platform:
    """The embedded stack of `harvest up` (one host, no external server)."""

    home: Path
    endpoints: EndpointSettings
    database_url: str
    without: set[str] = field(default_factory=set)
    demo: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_settings(cls, without: set[str] | None = None, demo: bool = False) -> Platform:
        home = ensure_home(HomeSettings().home)
        return cls(home=home, endpoints=EndpointSettings(), database_url=DatabaseSettings().resolved_url(home),
                   without=without or set(), demo=demo)

    def request_stop(self) -> None:
        self._stop.set()

    def bootstrap(self) -> str | None:
        """Migrate the schema and create the first admin; returns its token the first time only."""
        from harvest.common.auth import TokenSigner
        from harvest.labels.db import make_engine, migrate, session_factory
        from harvest.labels.users import UserDirectory

        migrate(self.database_url)
        engine = make_engine(self.database_url)
        try:
            users = UserDirectory(session_factory(engine), TokenSigner(load_auth_settings(self.home)))
            if users.count_users(Role.ADMIN):
                return None
            users.create_user(ADMIN_USERNAME, Role.ADMIN)
            token, _ = users.issue_token(ADMIN_USERNAME, ttl_s=ADMIN_TOKEN_TTL_S, description="first admin")
        finally:
            engine.dispose()
        write_private(self.home / ADMIN_TOKEN_FILE, token + "\n")
        return token

    def children(self) -> list[ChildSpec]:
        logs = self.home / "logs"
        specs = []
        host = self.endpoints.connect_host
        for name in (*SERVICE_NAMES, "worker", "ui"):
            if name in self.without:
                continue
            if name in SERVICE_NAMES:
                describe = f"grpc://{self.endpoints.address(name)}"
            elif name == "ui":
                describe = f"http://{host}:{self.endpoints.ui_port}"
            else:
                describe = "Celery worker (embedded broker)"
            specs.append(ChildSpec(name, [sys.executable, "-m", "harvest.cli", "serve", name],
                                   logs / f"{name}.log", describe=describe))
        return specs

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for name in SERVICE_NAMES:
            if name in self.without:
                continue
            with open_channel(self.endpoints.address(name)) as channel:
                wait_until_serving(channel, timeout_s=max(0.1, deadline - time.monotonic()))
        if "ui" not in self.without:
            _wait_http(f"http://{self.endpoints.connect_host}:{self.endpoints.ui_port}/_stcore/health",
                       deadline)

    def run(self, ready_timeout_s: float = 120.0) -> int:
        started = time.monotonic()
        token = self.bootstrap()
        specs = self.children()
        supervisor = Supervisor(specs, on_event=lambda msg: print(f"harvest: {msg}", flush=True))
        supervisor.start()
        watcher = threading.Thread(target=supervisor.watch, name="supervisor", daemon=True)
        watcher.start()
        try:
            self._wait_ready_or_stop(ready_timeout_s)
        except TimeoutError as exc:
            print(f"harvest: not ready: {exc}. Logs: {self.home / 'logs'}", file=sys.stderr, flush=True)
            supervisor.stop()
            return 1
        seeding = None
        if not self._stop.is_set():
            self._announce(specs, time.monotonic() - started, token)
            seeding = self._seed_demo()
            self._stop.wait()
        print("harvest: stopping…", flush=True)
        if seeding is not None and seeding.poll() is None:
            seeding.terminate()
        supervisor.stop()
        watcher.join(timeout=2)
        print("harvest: stopped", flush=True)
        return 0

    def _wait_ready_or_stop(self, timeout_s: float) -> None:
        done = threading.Event()
        failure: list[BaseException] = []

        def _wait() -> None:
            try:
                self.wait_ready(timeout_s)
            except BaseException as exc:  # noqa: BLE001 - reported to the caller
                failure.append(exc)
            done.set()

        threading.Thread(target=_wait, daemon=True).start()
        while not done.wait(0.2):
            if self._stop.is_set():
                return
        if failure:
            raise TimeoutError(str(failure[0]))

    def _seed_demo(self) -> subprocess.Popen[bytes] | None:
        """`harvest demo` in the background, once per home: a newcomer's first `make up` shows the loop."""
        from harvest.demo import DEMO_MARKER

        if not self.demo or (self.home / DEMO_MARKER).exists():
            return None
        log = self.home / "logs" / "demo.log"
        print(f"harvest: seeding the demo project in the background (progress in {log})", flush=True)
        with log.open("ab") as out:
            return subprocess.Popen([sys.executable, "-m", "harvest.cli", "demo", "--if-new"], stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def _announce(self, specs: list[ChildSpec], seconds: float, token: str | None) -> None:
        fixed_metrics_port = ServerSettings().metrics_port
        host = self.endpoints.connect_host
        lines = [f"HARVEST is up in {seconds:.1f}s (home {self.home})"]
        for spec in specs:
            extra = ""
            if spec.name in SERVICE_NAMES and fixed_metrics_port is None:
                extra = f"  metrics http://{host}:{self.endpoints.port(spec.name) + 1000}/metrics"
            lines.append(f"  {spec.name:10s} {spec.describe}{extra}")
        lines.append(f"  logs       {self.home / 'logs'}")
        if token:
            lines.append("")
            lines.append(f"First start: created user '{ADMIN_USERNAME}'. Its token (shown once, also in "
                         f"{self.home / ADMIN_TOKEN_FILE}):")
            lines.append(f"  {token}")
        lines.append("Press Ctrl-C to stop.")
        print("\n".join(lines), flush=True)


def _wait_http(url: str, deadline: float) -> None:
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready: {last}")
