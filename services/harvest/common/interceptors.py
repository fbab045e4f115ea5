"""The one server interceptor every service installs: authentication, role policy, error mapping,
metrics and request logs, so no servicer method repeats any of it.

The least role a method needs is declared in the contract itself (`option (harvest.v1.min_role)` on
each rpc) and read here from the descriptor pool: the policy lives next to the API it protects, and a
test can iterate over every method. Health checks are the only unauthenticated calls.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import grpc
from google.protobuf import descriptor_pool

from harvest.common.auth import Principal, Role, TokenSigner, bind_principal, parse_bearer, unbind_principal
from harvest.common.errors import INTERNAL_MESSAGE, HarvestError, status_for
from harvest.common.metrics import RpcMetrics
from harvest.v1 import common_pb2

log = logging.getLogger("harvest.rpc")

#: Methods anyone may call without a token: load balancers and orchestrators probe these. A contract
#: method can also opt out with `option (harvest.v1.allow_unauthenticated) = true` (Login).
EXEMPT_PREFIXES: tuple[str, ...] = ("/grpc.health.v1.Health/",)


class MethodPolicy:
    """Resolves the least role a full method name (`/pkg.Service/Method`) requires."""

    def __init__(self, exempt_prefixes: tuple[str, ...] = EXEMPT_PREFIXES) -> None:
        self._exempt = exempt_prefixes
        self._cache: dict[str, Role | None] = {}

    def required_role(self, full_method: str) -> Role | None:
        """None for exempt methods; otherwise the role from the contract (fail closed: admin)."""
        if full_method not in self._cache:
            self._cache[full_method] = self._resolve(full_method)
        return self._cache[full_method]

    def _resolve(self, full_method: str) -> Role | None:
        if full_method.startswith(self._exempt):
            return None
        service_name, _, method_name = full_method.lstrip("/").partition("/")
        if not service_name.startswith("harvest."):
            # Not one of our contracts (e.g. server reflection): any authenticated user may call it.
            return Role.ANNOTATOR
        try:
            service = descriptor_pool.Default().FindServiceByName(service_name)
        except KeyError:
            return Role.ADMIN
        method = service.methods_by_name.get(method_name)
        if method is None:
            return Role.ADMIN
        options = method.GetOptions()
        if options.Extensions[common_pb2.allow_unauthenticated]:
            return None  # e.g. Login: exchanging a password for a token cannot need a token
        declared = options.Extensions[common_pb2.min_role]
        return Role(declared) if declared else Role.ADMIN


def _method_parts(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return service.rsplit(".", 1)[-1], method


class ServerInterceptor(grpc.ServerInterceptor):
    """Wraps each handler's behaviour; see the module docstring for what it adds."""

    def __init__(self, signer: TokenSigner, metrics: RpcMetrics, policy: MethodPolicy | None = None) -> None:
        self._signer = signer
        self._metrics = metrics
        self._policy = policy or MethodPolicy()

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return _wrap_handler(handler, self.call(handler_call_details))

    def call(self, handler_call_details: grpc.HandlerCallDetails) -> Call:
        """The per-RPC state of one call (also for the asyncio server's interceptor)."""
        method = handler_call_details.method
        return Call(
            method=method,
            required=self._policy.required_role(method),
            metadata={k: v for k, v in (handler_call_details.invocation_metadata or ()) if isinstance(v, str)},
            signer=self._signer,
            metrics=self._metrics,
        )


class Call:
    """Per-RPC state: runs the behaviour with the caller bound and everything accounted for."""

    def __init__(self, *, method: str, required: Role | None, metadata: dict[str, str],
                 signer: TokenSigner, metrics: RpcMetrics) -> None:
        self.method = method
        self.required = required
        self.metadata = metadata
        self.signer = signer
        self.metrics = metrics
        self.service, self.method_name = _method_parts(method)

    @functools.cached_property
    def request_id(self) -> str:
        """The client's x-request-id, or a new one; made only when a log line or an error needs it."""
        return self.metadata.get("x-request-id") or uuid.uuid4().hex[:16]

    def authenticate(self, lookup: bool = True) -> Principal | None:
        """The caller (None for a method anyone may call); `lookup` as in `TokenSigner.verify`."""
        if self.required is None:
            return None
        principal = self.signer.verify(parse_bearer(self.metadata.get("authorization")), lookup=lookup)
        principal.require(self.required, f"{self.service}.{self.method_name}")
        return principal

    def unary(self, behavior: Callable[..., Any], request: Any, context: grpc.ServicerContext) -> Any:
        started = self.start()
        token = None
        try:
            token = bind_principal(self.authenticate())
            response = behavior(request, context)
        except Exception as exc:  # noqa: BLE001 - every failure is mapped and recorded here
            self._fail(exc, context, started)
        finally:
            if token is not None:
                unbind_principal(token)
        self.finish(context, started)
        return response

    def streaming(self, behavior: Callable[..., Iterator[Any]], request: Any,
                  context: grpc.ServicerContext) -> Iterator[Any]:
        started = self.start()
        token = None
        try:
            token = bind_principal(self.authenticate())
            yield from behavior(request, context)
        except GeneratorExit:
            self.finish(context, started, code_override="CANCELLED")
            raise
        except Exception as exc:  # noqa: BLE001
            self._fail(exc, context, started)
        else:
            self.finish(context, started)
        finally:
            if token is not None:
                unbind_principal(token)

    def start(self) -> float:
        self.metrics.in_flight.labels(self.service).inc()
        return time.perf_counter()

    def finish(self, context: Any, started: float, code_override: str | None = None) -> None:
        elapsed = time.perf_counter() - started
        code = context.code()
        name = code_override or (code.name if code is not None else "OK")
        self.metrics.in_flight.labels(self.service).dec()
        self.metrics.observe(self.service, self.method_name, name, elapsed)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("rpc", extra={"method": self.method, "code": name, "ms": round(elapsed * 1000, 2),
                                    "request_id": self.request_id})

    def _fail(self, exc: Exception, context: grpc.ServicerContext, started: float) -> NoReturn:
        """Record the failure and end the call with its status (context.abort raises)."""
        already = context.code()
        if already is not None and already != grpc.StatusCode.OK and type(exc) is Exception:
            # The handler called context.abort() itself: keep its status as is.
            self.finish(context, started)
            raise exc
        context.abort(*self.failure(exc, context, started))
        raise AssertionError("context.abort returned")  # grpc's abort always raises

    def failure(self, exc: Exception, context: Any, started: float) -> tuple[grpc.StatusCode, str]:
        """Record a failure (metrics, a log line, the trailing details) and return the status to end with."""
        code, message, details = status_for(exc)
        if code == grpc.StatusCode.UNIMPLEMENTED and message == "Method not implemented!":
            message = f"{self.service}.{self.method_name} is not implemented yet in this version"
        elapsed = time.perf_counter() - started
        self.metrics.in_flight.labels(self.service).dec()
        self.metrics.observe(self.service, self.method_name, code.name, elapsed)
        extra = {"method": self.method, "code": code.name, "ms": round(elapsed * 1000, 2),
                 "request_id": self.request_id}
        if code == grpc.StatusCode.INTERNAL:
            message = INTERNAL_MESSAGE.format(request_id=self.request_id)
            log.error("rpc failed", exc_info=exc, extra=extra)
        elif code == grpc.StatusCode.UNAVAILABLE and not isinstance(exc, HarvestError):  # operators need the cause
            log.warning("rpc failed transiently: %s", message, exc_info=exc, extra=extra)
        else:
            log.info("rpc refused: %s", message, extra=extra)
        trailing = [("harvest-request-id", self.request_id)]
        trailing += [(f"harvest-{key.lower()}", str(value)) for key, value in details.items()]
        context.set_trailing_metadata(tuple(trailing))
        return code, message


def _wrap_handler(handler: grpc.RpcMethodHandler, call: Call) -> grpc.RpcMethodHandler:
    kwargs = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(functools.partial(call.unary, handler.unary_unary), **kwargs)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(functools.partial(call.unary, handler.stream_unary), **kwargs)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            functools.partial(call.streaming, handler.unary_stream), **kwargs)
    return grpc.stream_stream_rpc_method_handler(functools.partial(call.streaming, handler.stream_stream), **kwargs)
