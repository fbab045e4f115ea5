"""`harvest probe NAME`: is the process in this container alive and ready?

Container health checks (Docker's HEALTHCHECK, docker-compose) run a command, so each process needs one
that answers with an exit status: the gRPC health protocol for the four services (the same check
Kubernetes' native `grpc` probes make), Streamlit's own health endpoint for the UI, and a Celery control
ping addressed to this host's worker, which proves the worker is consuming from the broker rather than
merely running. The probe dials loopback: it asks about this container, never a neighbour.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

import grpc

from harvest.common.channel import check_health, open_channel
from harvest.common.settings import PROCESS_NAMES, SERVICE_NAMES, ClientSettings, EndpointSettings, TLSSettings


@dataclass(frozen=True)
class ProbeResult:
    healthy: bool
    detail: str


def probe(name: str, timeout_s: float = 3.0, host: str = "127.0.0.1") -> ProbeResult:
    """Check one local process; never raises for an unhealthy peer (that is a result, not an error)."""
    if name in SERVICE_NAMES:
        return _probe_grpc(name, timeout_s, host)
    if name == "ui":
        return _probe_ui(timeout_s, host)
    if name == "worker":
        return _probe_worker(timeout_s)
    raise ValueError(f"unknown process {name!r}; expected one of {', '.join(PROCESS_NAMES)}")


def _probe_grpc(name: str, timeout_s: float, host: str) -> ProbeResult:
    address = f"{host}:{EndpointSettings().port(name)}"
    # With TLS on, the certificate must name 127.0.0.1 (the chart's does) or set HARVEST_TLS_SERVER_NAME_OVERRIDE.
    channel = open_channel(address, tls=TLSSettings(), client=ClientSettings(max_attempts=1, timeout_s=timeout_s))
    try:
        status = check_health(channel, timeout_s=timeout_s)
    except grpc.RpcError as exc:
        return ProbeResult(False, f"{name} at {address}: {exc.code().name} {exc.details() or ''}".strip())
    finally:
        channel.close()
    return ProbeResult(status == "SERVING", f"{name} at {address}: {status}")


def _probe_ui(timeout_s: float, host: str) -> ProbeResult:
    url = f"http://{host}:{EndpointSettings().ui_port}/_stcore/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - fixed loopback URL
            body = response.read(64).decode(errors="replace").strip()
            return ProbeResult(response.status == 200 and body == "ok", f"ui at {url}: {response.status} {body}")
    except (urllib.error.URLError, OSError) as exc:
        return ProbeResult(False, f"ui at {url}: {exc}")


def _probe_worker(timeout_s: float) -> ProbeResult:
    from harvest.scheduler.celery_app import app

    destination = f"celery@{socket.gethostname()}"
    try:
        replies = app.control.ping(destination=[destination], timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - a broken broker is an unhealthy worker, whatever the error type
        return ProbeResult(False, f"worker {destination}: broker unreachable ({exc})")
    answered = any(destination in reply for reply in replies)
    return ProbeResult(answered, f"worker {destination}: {'pong' if answered else 'no answer'}")
