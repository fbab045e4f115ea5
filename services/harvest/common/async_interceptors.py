"""The interceptor of the asyncio (grpc.aio) server: the same authentication, role policy, error mapping,
metrics and logs as `interceptors.ServerInterceptor`, for handlers that are coroutines and for the plain
(blocking) handlers every servicer has.

Why an asyncio server at all: on the thread-per-call server each message of a hot stream costs several
thread wake-ups (the request handed to a serving thread, the group commit's gate, the send), and on a
2-core host that, not Python, is most of the server's CPU per label write. A coroutine handler costs none
of them. Blocking handlers still run in threads (`executor`), each call's behaviour with the caller bound,
and see a context that offers what the thread-per-call server's does (`ThreadContext`): a servicer runs
on either server unchanged, and only its hot methods need to be coroutines.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Executor
from typing import Any, NoReturn

import grpc

from harvest.common.auth import bind_principal
from harvest.common.interceptors import Call, ServerInterceptor

_END = object()


class ThreadAbort(Exception):
    """`ThreadContext.abort`: the blocking handler ends its call with this status."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class ThreadContext:
    """A grpc.aio call's context as a blocking handler in a thread uses it (the thread-per-call server's
    `grpc.ServicerContext` methods our servicers call)."""

    def __init__(self, context: grpc.aio.ServicerContext, loop: asyncio.AbstractEventLoop) -> None:
        self._context = context
        self._loop = loop
        self._ended = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def is_active(self) -> bool:
        return not self._ended.is_set() and not self._context.done()

    def add_callback(self, callback: Callable[[], None]) -> bool:
        """Run `callback` when the call ends (`end`); False when it already has."""
        with self._lock:
            if self._ended.is_set():
                return False
            self._callbacks.append(callback)
        return True

    def end(self) -> None:
        """The call is over (answered, failed, cancelled by the client, or the server stopped): the
        handler's callbacks run, `is_active` turns False. The wrapper calls it however the call ended, so a
        handler waiting for news never outlives its call."""
        with self._lock:
            self._ended.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def send_initial_metadata(self, metadata: Any) -> None:
        asyncio.run_coroutine_threadsafe(_awaited(self._context.send_initial_metadata(metadata)),
                                         self._loop).result()

    def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn:
        raise ThreadAbort(code, details)

    def __getattr__(self, name: str) -> Any:
        # invocation_metadata, peer, code, set_trailing_metadata, time_remaining, auth_context, ...
        return getattr(self._context, name)


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class _ThreadRequests(Iterator[Any]):
    """A client stream's requests, read on the loop, for a blocking handler in a thread."""

    def __init__(self, requests: AsyncIterator[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._requests = requests
        self._loop = loop

    def __next__(self) -> Any:
        request = asyncio.run_coroutine_threadsafe(anext(self._requests, _END), self._loop).result()
        if request is _END:
            raise StopIteration
        return request


def _threaded(behavior: Callable[..., Any], executor: Executor, request_streaming: bool) -> Callable[..., Any]:
    """A blocking unary-response handler as a coroutine: the behaviour runs in `executor`, in a copy of the
    call's context (the caller bound)."""

    async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
        loop = asyncio.get_running_loop()
        if request_streaming:
            request = _ThreadRequests(request, loop)
        bound = contextvars.copy_context()
        thread_context = ThreadContext(context, loop)
        try:
            return await loop.run_in_executor(executor, bound.run, behavior, request, thread_context)
        finally:
            thread_context.end()
    return run


def _threaded_stream(behavior: Callable[..., Iterator[Any]], executor: Executor,
                     request_streaming: bool) -> Callable[..., AsyncIterator[Any]]:
    """A blocking streaming handler (a generator) as an async generator: each step runs in `executor`."""

    async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        if request_streaming:
            request = _ThreadRequests(request, loop)
        bound = contextvars.copy_context()
        thread_context = ThreadContext(context, loop)
        # calling it may already do work (a plain function returning an iterator): not on the loop either
        responses = await loop.run_in_executor(executor, bound.run, behavior, request, thread_context)
        step = None
        try:
            while True:
                step = executor.submit(bound.run, next, responses, _END)
                response = await asyncio.wrap_future(step)
                if response is _END:
                    step = None
                    return
                yield response
        finally:
            thread_context.end()
            if step is not None and not step.done():
                # The call ended while a step runs: close the generator once that step is back (a
                # generator cannot be closed while it runs); the handler sees is_active() False meanwhile.
                step.add_done_callback(lambda _step: executor.submit(bound.run, responses.close))
            else:
                executor.submit(bound.run, responses.close)
    return run


class AsyncServerInterceptor(grpc.aio.ServerInterceptor):
    """Wraps each handler of the asyncio server; blocking ones also move to `executor`."""

    def __init__(self, calls: ServerInterceptor, executor: Executor) -> None:
        self._calls = calls
        self._executor = executor

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return _wrap(handler, self._calls.call(handler_call_details), self._executor)


async def _unary(call: Call, behavior: Callable[..., Awaitable[Any]], request: Any,
                 context: grpc.aio.ServicerContext) -> Any:
    """Each RPC runs in a task of its own, so the caller bound here is unbound when the task ends."""
    started = call.start()
    try:
        bind_principal(call.authenticate())
        response = await behavior(request, context)
    except Exception as exc:  # noqa: BLE001 - every failure is mapped and recorded here
        await _fail(call, exc, context, started)
    call.finish(context, started)
    return response


async def _streaming(call: Call, behavior: Callable[..., AsyncIterator[Any]], request: Any,
                     context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
    started = call.start()
    try:
        bind_principal(call.authenticate())
        async for response in behavior(request, context):
            yield response
    except (GeneratorExit, asyncio.CancelledError):
        call.finish(context, started, code_override="CANCELLED")
        raise
    except Exception as exc:  # noqa: BLE001
        await _fail(call, exc, context, started)
    else:
        call.finish(context, started)


async def _fail(call: Call, exc: Exception, context: grpc.aio.ServicerContext, started: float) -> NoReturn:
    if isinstance(exc, grpc.aio.AbortError):  # a coroutine handler aborted the call itself
        call.finish(context, started)
        raise exc
    if isinstance(exc, ThreadAbort):  # so did a blocking one
        call.finish(context, started)
        await context.abort(exc.code, exc.details)
    await context.abort(*call.failure(exc, context, started))
    raise AssertionError("context.abort returned")  # grpc's abort always raises


def _wrap(handler: grpc.RpcMethodHandler, call: Call, executor: Executor) -> grpc.RpcMethodHandler:
    """The handler with `call`'s bookkeeping around its behaviour (grpc.aio tells coroutine, async-generator
    and blocking behaviours apart by inspection, which sees through `functools.partial`)."""
    kwargs = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    streaming_in = handler.request_streaming
    if handler.response_streaming:
        behavior = handler.stream_stream if streaming_in else handler.unary_stream
        if not inspect.isasyncgenfunction(behavior):
            behavior = _threaded_stream(behavior, executor, streaming_in)
        make = grpc.stream_stream_rpc_method_handler if streaming_in else grpc.unary_stream_rpc_method_handler
        return make(functools.partial(_streaming, call, behavior), **kwargs)
    behavior = handler.stream_unary if streaming_in else handler.unary_unary
    if not inspect.iscoroutinefunction(behavior):
        behavior = _threaded(behavior, executor, streaming_in)
    make = grpc.stream_unary_rpc_method_handler if streaming_in else grpc.unary_unary_rpc_method_handler
    return make(functools.partial(_unary, call, behavior), **kwargs)
