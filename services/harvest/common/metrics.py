"""Prometheus metrics per process: gRPC request count, latency and errors by method.

Each process exposes `/metrics` on its own port (the gRPC port + 1000 unless set), the usual scrape
layout for one-container-one-process deployments.
"""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)


class RpcMetrics:
    """The request metrics the server interceptor records; one instance per server."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.requests = Counter(
            "harvest_grpc_requests", "gRPC requests handled, by method and status code",
            ["service", "method", "code"], registry=registry,
        )
        self.latency = Histogram(
            "harvest_grpc_request_seconds", "gRPC handling time, by method",
            ["service", "method"], registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
        )
        self.in_flight = Gauge(
            "harvest_grpc_in_flight", "gRPC requests being handled", ["service"], registry=registry,
        )

    def observe(self, service: str, method: str, code: str, seconds: float) -> None:
        self.requests.labels(service, method, code).inc()
        self.latency.labels(service, method).observe(seconds)


def serve_metrics(port: int, host: str, registry: CollectorRegistry = REGISTRY) -> int:
    """Start the /metrics HTTP endpoint in a daemon thread; returns the bound port."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    bound = int(server.server_address[1])
    log.info("metrics endpoint listening", extra={"address": f"http://{host}:{bound}/metrics"})
    return bound


_default: RpcMetrics | None = None


def default_metrics() -> RpcMetrics:
    """The process-wide metrics (Prometheus refuses to register the same names twice)."""
    global _default
    if _default is None:
        _default = RpcMetrics()
    return _default
