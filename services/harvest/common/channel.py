"""Client channels: TLS when configured, the caller's token on every call, a default deadline, and
transparent retries on UNAVAILABLE (a service restarting under `harvest up` or a rolling update, a
database that blipped).

A call retried on UNAVAILABLE may already have been applied (the server can fail after its commit), so a
request with an idempotency key (`request_id` of SubmitJob, `client_request_id` of Annotate and
BatchAnnotate) left empty by the caller gets one before it is sent: every retry of that call then
carries the same key, and the server answers it with the first result instead of acting twice.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from harvest.common.settings import ClientSettings, TLSSettings


def service_config(client: ClientSettings) -> str:
    """gRPC service config: retry policy for UNAVAILABLE and the default deadline for every method."""
    method: dict[str, object] = {"name": [{}], "timeout": f"{client.timeout_s:.3f}s"}
    if client.max_attempts > 1:  # gRPC rejects a retry policy of fewer than 2 attempts
        method["retryPolicy"] = {
            "maxAttempts": client.max_attempts,
            "initialBackoff": f"{client.initial_backoff_s:.3f}s",
            "maxBackoff": f"{client.max_backoff_s:.3f}s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    return json.dumps({"methodConfig": [method]})


class _MetadataInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds fixed metadata (the bearer token) to every call; works on plain-text channels too."""

    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self._metadata = metadata

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        merged = list(details.metadata or []) + self._metadata
        return details._replace(metadata=merged)  # type: ignore[attr-defined]

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)


#: Request fields that make a write idempotent: the server answers a repeated key with the first result.
IDEMPOTENCY_FIELDS = ("request_id", "client_request_id")


def with_idempotency_key(request: Any) -> Any:
    """`request`, or a copy with a fresh idempotency key where it has an empty key field (never mutated)."""
    fields = getattr(getattr(request, "DESCRIPTOR", None), "fields_by_name", {})
    for name in IDEMPOTENCY_FIELDS:
        if name in fields and not getattr(request, name):
            keyed = type(request)()
            keyed.CopyFrom(request)
            setattr(keyed, name, uuid.uuid4().hex)
            return keyed
    return request


class _IdempotencyInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Gives unary writes with an empty idempotency key one (see the module docstring)."""

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return continuation(details, with_idempotency_key(request))


def open_channel(address: str, *, token: str | None = None, tls: TLSSettings | None = None,
                 client: ClientSettings | None = None, max_message_bytes: int = 8 * 1024 * 1024) -> grpc.Channel:
    """A channel to one service; `token` (when given) is sent as `authorization: Bearer …`."""
    tls = tls or TLSSettings()
    client = client or ClientSettings()
    options: list[tuple[str, Any]] = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", service_config(client)),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]
    if tls.enabled:
        root = tls.ca_file.read_bytes() if tls.ca_file else None
        if tls.server_name_override:
            options.append(("grpc.ssl_target_name_override", tls.server_name_override))
        channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=root), options)
    else:
        channel = grpc.insecure_channel(address, options)
    channel = grpc.intercept_channel(channel, _IdempotencyInterceptor())
    if token:
        channel = grpc.intercept_channel(channel, _MetadataInterceptor([("authorization", f"Bearer {token}")]))
    return channel


def check_health(channel: grpc.Channel, service: str = "", timeout_s: float = 2.0) -> str:
    """The health status name (SERVING, NOT_SERVING, …) a server reports for `service`."""
    stub = health_pb2_grpc.HealthStub(channel)
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def wait_until_serving(channel: grpc.Channel, service: str = "", timeout_s: float = 30.0) -> None:
    """Block until the server answers SERVING; raise TimeoutError with the last status otherwise."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            last = check_health(channel, service, timeout_s=min(2.0, timeout_s))
            if last == "SERVING":
                return
        except grpc.RpcError as exc:
            last = f"{exc.code().name}: {exc.details()}"
        time.sleep(0.1)
    raise TimeoutError(f"service {service or '(server)'} not serving after {timeout_s:.0f}s: {last}")
