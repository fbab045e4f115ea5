"""HARVEST_LABELS_PROCESSES: several labels processes on one port. Calls from many connections are served
by every replica, a crashed replica is restarted, SIGTERM stops them all, and a port another server holds
is refused instead of shared."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import grpc
import pytest
from pydantic import SecretStr

from harvest.common.auth import Role, TokenSigner
from harvest.common.settings import AuthSettings
from harvest.labels.db import make_engine, migrate
from harvest.labels.service import LabelsCore
from harvest.v1 import labels_pb2, labels_pb2_grpc
from tests.harness.servers import free_port

pytestmark = pytest.mark.integration

SECRET = "labels-replicas-test-secret-0123456789abcdef"


def _children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def _wait_for(predicate, timeout_s: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _token(url: str) -> str:
    migrate(url)
    engine = make_engine(url)
    core = LabelsCore.build(engine, TokenSigner(AuthSettings(secret=SecretStr(SECRET))), handoff=None)  # type: ignore[arg-type]
    core.users.create_user("ann", Role.ANNOTATOR)
    token = core.users.issue_token("ann")[0]
    engine.dispose()
    return token


@contextmanager
def _labels(tmp_path: Path, port: int, metrics_port: int, processes: int = 2,
            pin: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "HARVEST_HOME": str(tmp_path), "HARVEST_DB_URL": f"sqlite:///{tmp_path / 'labels.db'}",
           "HARVEST_AUTH_SECRET": SECRET, "HARVEST_LABELS_PORT": str(port),
           "HARVEST_SERVER_METRICS_PORT": str(metrics_port), "HARVEST_LABELS_PROCESSES": str(processes),
           "HARVEST_STORAGE_PORT": str(free_port()), "HARVEST_LABELS_PIN_PROCESSES": "true" if pin else "false"}
    process = subprocess.Popen([sys.executable, "-m", "harvest.labels"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:  # SIGTERM stops the replicas too; SIGKILL would leave them orphaned
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _who_am_i(port: int, token: str, connections: int) -> None:
    for _ in range(connections):  # each channel its own connection, as separate machines would have
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
            grpc.channel_ready_future(ch).result(timeout=30)
            reply = labels_pb2_grpc.LabelsServiceStub(ch).WhoAmI(
                labels_pb2.WhoAmIRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10)
            assert reply.user.username == "ann"


def _served_calls(metrics_port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("harvest_grpc_requests_total") and 'method="WhoAmI"' in line)


def test_replicas_share_the_port_restart_when_crashed_and_stop_together(tmp_path: Path) -> None:
    token = _token(f"sqlite:///{tmp_path / 'labels.db'}")
    port, metrics_port = free_port(), free_port()
    with _labels(tmp_path, port, metrics_port) as parent:
        assert _wait_for(lambda: len(_children(parent.pid)) == 2)
        _who_am_i(port, token, connections=24)
        assert all(_served_calls(metrics_port + i) > 0 for i in range(2))  # 2^-23 odds of a false failure

        crashed = _children(parent.pid)[0]
        os.kill(crashed, signal.SIGKILL)
        assert _wait_for(lambda: len(_children(parent.pid)) == 2 and crashed not in _children(parent.pid))
        _who_am_i(port, token, connections=4)

        replicas = _children(parent.pid)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()
                       for pid in replicas)


def _threads_affinity(pid: int) -> set[int]:
    """The CPUs any thread of a process may run on."""
    return {cpu for task in Path(f"/proc/{pid}/task").iterdir() for cpu in os.sched_getaffinity(int(task.name))}


def test_pinned_replicas_each_run_every_thread_on_a_cpu_of_their_own(tmp_path: Path) -> None:
    token = _token(f"sqlite:///{tmp_path / 'labels.db'}")
    port, metrics_port = free_port(), free_port()
    cpus = sorted(os.sched_getaffinity(0))
    with _labels(tmp_path, port, metrics_port, pin=True) as parent:
        assert _wait_for(lambda: len(_children(parent.pid)) == 2)
        _who_am_i(port, token, connections=4)  # both replicas serve, so their threads exist
        pinned = sorted(tuple(_threads_affinity(pid)) for pid in _children(parent.pid))
        assert pinned == sorted((cpus[i % len(cpus)],) for i in range(2))
        assert os.sched_getaffinity(parent.pid) == set(cpus)  # the supervising parent is not pinned
    with _labels(tmp_path, free_port(), free_port()) as parent:  # off by default
        assert _wait_for(lambda: len(_children(parent.pid)) == 2)
        assert all(_threads_affinity(pid) == set(cpus) for pid in _children(parent.pid))


def test_a_port_another_server_holds_is_refused_not_shared(tmp_path: Path) -> None:
    with closing(socket.socket()) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # even a socket that would share
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with _labels(tmp_path, port, free_port()) as parent:
            output, _ = parent.communicate(timeout=60)
    assert parent.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in output.decode() and "is the port in use?" in output.decode()
