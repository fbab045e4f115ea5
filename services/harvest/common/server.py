"""The server bootstrap every service uses: one function builds, starts and stops a gRPC server with
health, reflection, the interceptor (auth, errors, metrics, logs), TLS, message limits and a graceful
SIGTERM shutdown. A service only supplies a function that registers its servicer.
"""

from __future__ import annotations

import asyncio as _asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from concurrent import futures
from dataclasses import dataclass, field
from types import FrameType, ModuleType
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from harvest.common.async_interceptors import AsyncServerInterceptor
from harvest.common.auth import TokenSigner
from harvest.common.home import load_auth_settings
from harvest.common.interceptors import ServerInterceptor
from harvest.common.logs import configure_logging
from harvest.common.metrics import default_metrics, serve_metrics
from harvest.common.settings import (
    AuthSettings,
    EndpointSettings,
    HomeSettings,
    LogSettings,
    ServerSettings,
    TLSSettings,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Registers a service's servicers on the server; returns the full names of the gRPC services added.
Register = Callable[[grpc.Server | grpc.aio.Server], list[str]]


@dataclass
class ServerConfig:
    """Everything a server needs, read from settings once (tests build it directly)."""

    endpoints: EndpointSettings = field(default_factory=EndpointSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    tls: TLSSettings = field(default_factory=TLSSettings)
    auth: AuthSettings = field(default_factory=lambda: load_auth_settings(HomeSettings().home))
    logs: LogSettings = field(default_factory=LogSettings)


class HarvestServer:
    """A started gRPC server for one HARVEST service.

    `asyncio=True` serves on a grpc.aio server instead, its event loop in a thread of its own: servicer
    methods that are coroutines run on the loop, the others (blocking) in the server's threads, with the
    same interceptor behaviour either way (`async_interceptors`). The labels service uses it so its label
    writes never wait for a thread.
    """

    def __init__(self, name: str, register: Register, config: ServerConfig | None = None, *,
                 port: int | None = None, signer: TokenSigner | None = None, asyncio: bool = False) -> None:
        self.name = name
        self.config = config or ServerConfig()
        self._requested_port = self.config.endpoints.port(name) if port is None else port
        self.signer = signer or TokenSigner(self.config.auth)
        settings = self.config.server
        options = [
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
            # a second server on the same port must fail, not share it, unless it is one of our replicas
            ("grpc.so_reuseport", 1 if settings.reuse_port else 0),
        ]
        self._executor = futures.ThreadPoolExecutor(max_workers=settings.max_workers,
                                                    thread_name_prefix=f"{name}-rpc")
        interceptor = ServerInterceptor(self.signer, default_metrics())
        self._loop: _asyncio.AbstractEventLoop | None = None
        if asyncio:
            self._loop = _start_loop(name)
            self._server = self._on_loop(self._build_async(interceptor, options))
            self.health: health.HealthServicer | health.aio.HealthServicer = health.aio.HealthServicer()
        else:
            self._server = grpc.server(self._executor, interceptors=[interceptor], options=options)
            self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        self.service_names = register(self._server)
        if settings.reflection:
            reflection.enable_server_reflection(
                [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self._server
            )
        self.port = 0
        self.metrics_port: int | None = None
        self._stopped = threading.Event()
        self._stopping = threading.Lock()

    async def _build_async(self, interceptor: ServerInterceptor, options: list[tuple[str, int]]) -> grpc.aio.Server:
        """Built on the loop, as a grpc.aio server binds to the loop it is created in. What coroutines hand
        to a thread (`asyncio.to_thread`) runs in the server's threads, which the database pool is sized to."""
        _asyncio.get_running_loop().set_default_executor(self._executor)
        return grpc.aio.server(migration_thread_pool=self._executor, options=options,
                               interceptors=[AsyncServerInterceptor(interceptor, self._executor)])

    def _on_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's event loop and wait for its result."""
        assert self._loop is not None
        return _asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    @property
    def address(self) -> str:
        return f"{self.config.endpoints.bind_host}:{self.port}"

    def start(self) -> HarvestServer:
        host = self.config.endpoints.bind_host
        target = f"{host}:{self._requested_port}"
        try:
            if self.config.tls.enabled:
                self.port = self._server.add_secure_port(target, _server_credentials(self.config.tls))
            else:
                self.port = self._server.add_insecure_port(target)
        except RuntimeError as exc:
            raise RuntimeError(f"{self.name}: cannot listen on {target} ({exc}); is the port in use?") from exc
        if self._loop is None:
            self._server.start()
        else:
            self._on_loop(self._server.start())
        self.metrics_port = serve_metrics(metrics_port(self.config.server, self._requested_port), host)
        for service in ["", *self.service_names]:
            self._set_health(service, health_pb2.HealthCheckResponse.SERVING)
        log.info("serving", extra={"service": self.name, "address": self.address, "tls": self.config.tls.enabled,
                                   "metrics_port": self.metrics_port, "asyncio": self._loop is not None})
        return self

    def _set_health(self, service: str, status: int) -> None:
        if self._loop is None:
            self.health.set(service, status)
        else:
            self._on_loop(self.health.set(service, status))

    def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls, let in-flight ones finish within the grace period, then close. A second
        call (a second signal) waits for the first to finish."""
        with self._stopping:
            if self._stopped.is_set():
                return
            self._stop(self.config.server.grace_period_s if grace is None else grace)

    def _stop(self, grace: float) -> None:
        if self._loop is None:
            self.health.enter_graceful_shutdown()
            self._server.stop(grace).wait()
        else:
            self._on_loop(self._stop_async(grace))
            self._loop.call_soon_threadsafe(self._loop.stop)  # the loop's thread then closes it
        self._executor.shutdown(wait=False)  # queued work (closing the generators of ended streams) still runs
        self._stopped.set()
        log.info("stopped", extra={"service": self.name})

    async def _stop_async(self, grace: float) -> None:
        """Stop serving, then end what the server left running (a call's task that outlived its grace period):
        each call's clean-up runs, so no handler thread waits on for a call that is gone."""
        await self.health.enter_graceful_shutdown()
        await self._server.stop(grace)
        tasks = [task for task in _asyncio.all_tasks() if task is not _asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await _asyncio.wait(tasks, timeout=1.0)

    def wait(self) -> None:
        self._stopped.wait()


def _start_loop(name: str) -> _asyncio.AbstractEventLoop:
    """A new event loop running in a daemon thread of its own, closed when it is stopped."""
    loop = _asyncio.new_event_loop()

    def run() -> None:
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    threading.Thread(target=run, name=f"{name}-loop", daemon=True).start()
    return loop


def metrics_port(settings: ServerSettings, grpc_port: int) -> int:
    """The /metrics port: the configured one, else the gRPC port + 1000 (0, any free port, for port 0)."""
    if settings.metrics_port is not None:
        return settings.metrics_port
    return grpc_port + 1000 if grpc_port else 0


def _server_credentials(tls: TLSSettings) -> grpc.ServerCredentials:
    if not (tls.cert_file and tls.key_file):
        raise ValueError("HARVEST_TLS_ENABLED needs HARVEST_TLS_CERT_FILE and HARVEST_TLS_KEY_FILE")
    return grpc.ssl_server_credentials([(tls.key_file.read_bytes(), tls.cert_file.read_bytes())])


def run_service(name: str, register: Register, config: ServerConfig | None = None,
                signer: TokenSigner | None = None, asyncio: bool = False) -> int:
    """Run a service in the foreground until SIGTERM/SIGINT; returns the process exit code."""
    config = config or ServerConfig()
    configure_logging(name, config.logs)
    server = HarvestServer(name, register, config, signer=signer, asyncio=asyncio).start()
    # Everything built so far (modules, the ORM's mappings, the core) lives as long as the process: moved
    # out of the cyclic collector's sight, a full collection no longer walks it while calls wait. Measured
    # on the labels write load (2 replicas, 32 clients): p99 ~43 -> ~35 ms, writes/s +5%.
    gc.freeze()

    def _terminate(signum: int, _frame: FrameType | None) -> None:
        log.info("shutting down", extra={"service": name, "signal": signal.Signals(signum).name})
        threading.Thread(target=server.stop, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    server.wait()
    return 0


def registrar(grpc_module: ModuleType, service: str, servicer: object) -> Register:
    """A `Register` adding `servicer` for the contract service named `service` (e.g. "StorageService")."""

    def _register(server: grpc.Server) -> list[str]:
        getattr(grpc_module, f"add_{service}Servicer_to_server")(servicer, server)
        return [f"harvest.v1.{service}"]

    return _register
