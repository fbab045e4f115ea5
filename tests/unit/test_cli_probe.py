"""`harvest probe` (the containers' health check) and `harvest serve`'s refusal of unsafe secrets."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from harvest.cli import main
from harvest.common.probe import probe
from harvest.common.settings import EXAMPLE_SECRET

pytestmark = pytest.mark.unit


@pytest.fixture
def health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port, servicer
    server.stop(0)


def test_grpc_probe_follows_the_health_protocol(health_server: tuple[int, health.HealthServicer],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    port, servicer = health_server
    monkeypatch.setenv("HARVEST_LABELS_PORT", str(port))
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert probe("labels").healthy
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    result = probe("labels")
    assert not result.healthy and "NOT_SERVING" in result.detail


def test_grpc_probe_of_a_silent_port_is_unhealthy_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_STORAGE_PORT", "1")  # nothing listens on port 1
    result = probe("storage", timeout_s=1.0)
    assert not result.healthy and result.detail.startswith("storage at 127.0.0.1:1: ")


class _Health(http.server.BaseHTTPRequestHandler):
    body = b"ok"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status = 200 if self.path == "/_stcore/health" else 404
        self.send_response(status)
        self.end_headers()
        self.wfile.write(self.body if status == 200 else b"")

    def log_message(self, *_args: object) -> None:
        pass


def test_ui_probe_reads_streamlits_health_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HARVEST_UI_PORT", str(server.server_address[1]))
        assert probe("ui").healthy
        _Health.body = b"starting"  # Streamlit answers something else while it starts
        assert not probe("ui").healthy
    finally:
        _Health.body = b"ok"
        server.shutdown()
    assert not probe("ui", timeout_s=1.0).healthy  # nothing listens any more


def test_probe_exit_status_is_what_health_checks_read(health_server: tuple[int, health.HealthServicer],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    port, servicer = health_server
    monkeypatch.setenv("HARVEST_INFERENCE_PORT", str(port))
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert main(["probe", "inference"]) == 0
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert main(["probe", "inference"]) == 1


def test_unknown_process_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="expected one of storage, labels"):
        probe("database")


@pytest.mark.parametrize("process", ["storage", "labels", "scheduler", "inference", "worker"])
def test_serve_refuses_the_published_example_secret(process: str, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HARVEST_AUTH_SECRET", EXAMPLE_SECRET)
    assert main(["serve", process]) == 2
    err = capsys.readouterr().err
    assert "refusing to start" in err and "example value" in err and "secrets.token_urlsafe" in err


def test_serve_refuses_a_missing_secret_when_the_deployment_requires_one(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HARVEST_AUTH_SECRET", raising=False)
    monkeypatch.setenv("HARVEST_AUTH_REQUIRE_SECRET", "true")
    assert main(["serve", "labels"]) == 2
    assert "HARVEST_AUTH_SECRET is not set" in capsys.readouterr().err


def test_process_name_comes_from_harvest_process_so_one_image_serves_all(
        health_server: tuple[int, health.HealthServicer], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    port, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    monkeypatch.setenv("HARVEST_SCHEDULER_PORT", str(port))
    monkeypatch.delenv("HARVEST_PROCESS", raising=False)
    assert main(["probe"]) == 2 and "set HARVEST_PROCESS" in capsys.readouterr().err
    monkeypatch.setenv("HARVEST_PROCESS", "scheduler")
    assert main(["probe"]) == 0
    monkeypatch.setenv("HARVEST_AUTH_SECRET", EXAMPLE_SECRET)
    assert main(["serve"]) == 2 and "harvest serve scheduler: refusing" in capsys.readouterr().err
