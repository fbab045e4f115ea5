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
import concurrent.futures
import contextvars
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Executor
from typing import Any, NoReturn, TypeVar

import grpc

from harvest.common.auth import Principal, RevocationUnknown, bind_principal
from harvest.common.errors import Cancelled, Unavailable
from harvest.common.interceptors import Call, ServerInterceptor

_END = object()
#: How often a handler's thread waiting on the loop checks that the loop still runs (seconds).
LOOP_CHECK_S = 0.5
T = TypeVar("T")


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

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def on_loop(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` on the loop from the handler's thread; UNAVAILABLE once the loop has stopped
        (the server is shutting down), instead of waiting for an answer that never comes."""
        future = asyncio.run_coroutine_threadsafe(_awaited(awaitable), self._loop)
        while True:
            try:
                return future.result(timeout=LOOP_CHECK_S)
            except concurrent.futures.TimeoutError:
                if not self._loop.is_running():
                    future.cancel()
                    raise Unavailable("the server is stopping; retry the call") from None

    def send_initial_metadata(self, metadata: Any) -> None:
        self.on_loop(self._context.send_initial_metadata(metadata))

    def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn:
        raise ThreadAbort(code, details)

    def __getattr__(self, name: str) -> Any:
        # invocation_metadata, peer, code, set_trailing_metadata, time_remaining, auth_context, ...
        return getattr(self._context, name)


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


class _ThreadRequests(Iterator[Any]):
    """A client stream's requests, read on the loop, for a blocking handler in a thread.

    A client that cancels (or whose deadline passes) ends the stream on grpc.aio exactly as a client that
    finished sending does; only the call's task being cancelled tells them apart. So at the end of the
    stream the loop runs once more, and a call that ended meanwhile raises CANCELLED instead of handing
    the handler a cut-off stream (an import of half the rows) as if it were whole.
    """

    def __init__(self, requests: AsyncIterator[Any], thread_context: ThreadContext) -> None:
        self._requests = requests
        self._context = thread_context

    def __next__(self) -> Any:
        if self._context.ended:
            raise Cancelled("the call ended before its requests were all read")
        request = self._context.on_loop(self._next())
        if request is _END:
            if self._context.ended:  # the cancellation landed while the answer came back to this thread
                raise Cancelled("the client cancelled the call before its stream ended; nothing of it was used")
            raise StopIteration
        return request

    async def _next(self) -> Any:
        request = await anext(self._requests, _END)
        if request is _END:
            for _ in range(3):  # the call's task learns of a cancellation within these loop iterations
                await asyncio.sleep(0)
            if self._context.ended or self._context.cancelled() or self._context.done():
                raise Cancelled("the client cancelled the call before its stream ended; nothing of it was used")
        return request


def _threaded(behavior: Callable[..., Any], executor: Executor, request_streaming: bool) -> Callable[..., Any]:
    """A blocking unary-response handler as a coroutine: the behaviour runs in `executor`, in a copy of the
    call's context (the caller bound)."""

    async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
        loop = asyncio.get_running_loop()
        thread_context = ThreadContext(context, loop)
        context.add_done_callback(lambda _context: thread_context.end())
        if request_streaming:
            request = _ThreadRequests(request, thread_context)
        bound = contextvars.copy_context()
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
        thread_context = ThreadContext(context, loop)
        if request_streaming:
            request = _ThreadRequests(request, thread_context)
        bound = contextvars.copy_context()
        state = _StreamState()

        def finish(*_context: object) -> None:
            """However the call ends, once: the call's done callback (prompt even when the call is cut off
            while gRPC sends a response, and this generator is left to the garbage collector), or this
            generator's own end."""
            if not state.finished:
                state.finished = True
                thread_context.end()
                _close_when_done(state.step, state.responses, bound, executor)

        context.add_done_callback(finish)
        try:
            # calling it may already do work (a plain function returning an iterator): not on the loop either
            state.step = executor.submit(bound.run, behavior, request, thread_context)
            state.responses = await asyncio.wrap_future(state.step)
            while True:
                state.step = executor.submit(bound.run, next, state.responses, _END)
                response = await asyncio.wrap_future(state.step)
                if response is _END:
                    return
                yield response
        finally:
            finish()
    return run


class _StreamState:
    """Where a blocking stream is: its generator, the step of it last handed to a thread."""

    __slots__ = ("finished", "responses", "step")

    def __init__(self) -> None:
        self.finished = False
        self.responses: Iterator[Any] | None = None
        self.step: concurrent.futures.Future[Any] | None = None


def _close_when_done(step: concurrent.futures.Future[Any] | None, responses: Iterator[Any] | None,
                     bound: contextvars.Context, executor: Executor) -> None:
    """Close a blocking stream's generator (its `finally` blocks release what it holds) once no step of it
    runs: a generator cannot be closed while it runs, and a step may still be running when the call ends;
    meanwhile the handler sees is_active() False. The close runs in a thread, or right here when the
    server's threads are shut down already."""

    def close(generator: Any) -> None:
        if not hasattr(generator, "close"):
            return
        try:
            executor.submit(bound.run, generator.close)
        except RuntimeError:  # the executor is shut down: the server is stopping
            bound.run(generator.close)

    if step is not None and not step.done():
        # the step that creates the generator may be the one running: close whatever it returns
        step.add_done_callback(lambda done: close(responses if responses is not None else _result(done)))
    elif responses is not None:
        close(responses)


def _result(step: concurrent.futures.Future[Any]) -> Any:
    return None if step.cancelled() or step.exception() is not None else step.result()


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


async def _authenticate(call: Call) -> Principal | None:
    """The caller, checked on the loop when that needs no database query (the revocation is cached),
    else in a thread: a slow database must not hold up every call of the server."""
    try:
        return call.authenticate(lookup=False)
    except RevocationUnknown:
        return await asyncio.to_thread(call.authenticate)


async def _unary(call: Call, behavior: Callable[..., Awaitable[Any]], request: Any,
                 context: grpc.aio.ServicerContext) -> Any:
    """Each RPC runs in a task of its own, so the caller bound here is unbound when the task ends."""
    started = call.start()
    try:
        bind_principal(await _authenticate(call))
        response = await behavior(request, context)
    except asyncio.CancelledError:  # the client cancelled, its deadline passed, or the server stopped
        call.finish(context, started, code_override=_ended_code(context))
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is mapped and recorded here
        await _fail(call, exc, context, started)
    call.finish(context, started)
    return response


async def _streaming(call: Call, behavior: Callable[..., AsyncIterator[Any]], request: Any,
                     context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
    started = call.start()
    try:
        bind_principal(await _authenticate(call))
        async for response in behavior(request, context):
            yield response
    except (GeneratorExit, asyncio.CancelledError):
        call.finish(context, started, code_override=_ended_code(context))
        raise
    except Exception as exc:  # noqa: BLE001
        await _fail(call, exc, context, started)
    else:
        call.finish(context, started)


def _ended_code(context: grpc.aio.ServicerContext) -> str:
    """How a call that was cut off ended, for the metrics: its deadline passed, or it was cancelled."""
    remaining = context.time_remaining()
    return "DEADLINE_EXCEEDED" if remaining is not None and remaining <= 0 else "CANCELLED"


async def _fail(call: Call, exc: Exception, context: grpc.aio.ServicerContext, started: float) -> NoReturn:
    if isinstance(exc, grpc.aio.AbortError):  # a coroutine handler aborted the call itself
        call.finish(context, started)
        raise exc
    if isinstance(exc, ThreadAbort):  # so did a blocking one
        call.finish(context, started, code_override=exc.code.name)
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
        make = grpc.stream_stream_rpc_method_handler if streaming_in else grpc.unary_stream_rpc_method_handler
        if inspect.iscoroutinefunction(behavior):  # writes its responses with context.write(): a coroutine
            return make(functools.partial(_unary, call, behavior), **kwargs)
        if not inspect.isasyncgenfunction(behavior):
            behavior = _threaded_stream(behavior, executor, streaming_in)
        return make(functools.partial(_streaming, call, behavior), **kwargs)
    behavior = handler.stream_unary if streaming_in else handler.unary_unary
    if not inspect.iscoroutinefunction(behavior):
        behavior = _threaded(behavior, executor, streaming_in)
    make = grpc.stream_unary_rpc_method_handler if streaming_in else grpc.unary_unary_rpc_method_handler
    return make(functools.partial(_unary, call, behavior), **kwargs)
