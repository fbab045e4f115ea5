"""The asyncio server (`HarvestServer(asyncio=True)`): coroutine and async-generator handlers get the same
authentication, caller binding and error mapping as blocking ones; blocking streaming handlers run in its
threads and learn when their call ends, as on the thread-per-call server."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from pydantic import SecretStr

from harvest.common import errors
from harvest.common.auth import Role, TokenSigner, current_principal
from harvest.common.channel import open_channel
from harvest.common.metrics import default_metrics
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import AuthSettings, ServerSettings
from harvest.common.streams import LiveCall
from harvest.v1 import labels_pb2

pytestmark = pytest.mark.unit

SECRET = "async-server-test-secret-0123456789abcdef"
SERVICE = labels_pb2.DESCRIPTOR.services_by_name["LabelsService"].full_name
# Methods the contract lets an annotator call: a unary one, a server-streaming one, a bidi one.
UNARY, SERVER_STREAM, BIDI = "WhoAmI", "WatchAnnotations", "AnnotateStream"
IMPORT, SLOW, BLOCKING_SLOW = "ImportLabels", "GetProject", "ListProjects"  # client-streaming, then two unary


class AsyncHarness:
    """A real asyncio server whose labels methods are the handlers below."""

    def __init__(self) -> None:
        self.watch_waiting = threading.Event()
        self.watch_ended = threading.Event()
        self.watch_closed = threading.Event()
        self.upload_outcome: queue.Queue[object] = queue.Queue()
        self.revocation_threads: list[str] = []
        auth = AuthSettings(secret=SecretStr(SECRET))
        self.signer = TokenSigner(auth, is_revoked=self._is_revoked, revocation_known=lambda token_id: None)
        config = ServerConfig(server=ServerSettings(metrics_port=0), auth=auth)
        self.server = HarvestServer("labels", self._register, config, port=0, signer=self.signer,
                                    asyncio=True).start()
        self.address = f"127.0.0.1:{self.server.port}"

    def _register(self, server: grpc.aio.Server) -> list[str]:
        async def who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            await asyncio.sleep(0)
            if request == b"missing":
                raise errors.NotFound("no project with id 'p9'")
            return current_principal().username.encode()

        async def echo(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
            async for request in requests:
                if request == b"boom":
                    raise errors.InvalidArgument("boom is not a label")
                yield current_principal().username.encode() + b":" + request

        def watch(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
            live = LiveCall(context)
            try:
                yield b"first"
                self.watch_waiting.set()
                while live.wait(5):  # wakes the moment the call ends, not after 5 s
                    pass
                self.watch_ended.set()
            finally:
                self.watch_closed.set()

        def upload(requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
            try:
                self.upload_outcome.put([request for request in requests])
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                self.upload_outcome.put(exc)
                raise
            return b"applied"

        async def slow(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            await asyncio.sleep(5)
            return b"late"

        def blocking_slow(request: bytes, context: grpc.ServicerContext) -> bytes:
            if request == b"abort":
                context.abort(grpc.StatusCode.OUT_OF_RANGE, "too far")
            time.sleep(1)
            return b"late"

        handlers = {
            UNARY: grpc.unary_unary_rpc_method_handler(who),
            IMPORT: grpc.stream_unary_rpc_method_handler(upload),
            SLOW: grpc.unary_unary_rpc_method_handler(slow),
            BLOCKING_SLOW: grpc.unary_unary_rpc_method_handler(blocking_slow),
            BIDI: grpc.stream_stream_rpc_method_handler(echo),
            SERVER_STREAM: grpc.unary_stream_rpc_method_handler(watch),
        }
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
        return [SERVICE]

    def _is_revoked(self, token_id: str) -> bool:
        self.revocation_threads.append(threading.current_thread().name)
        return False

    def token(self, username: str = "ann", role: Role = Role.ANNOTATOR) -> str:
        return self.signer.issue(user_id="u-" + username, username=username, role=role)[0]


@pytest.fixture
def harness() -> Iterator[AsyncHarness]:
    running = AsyncHarness()
    yield running
    running.server.stop(0)


def test_coroutine_handler_sees_the_caller_and_its_errors_are_mapped(harness: AsyncHarness) -> None:
    with open_channel(harness.address, token=harness.token("ann")) as channel:
        call = channel.unary_unary(f"/{SERVICE}/{UNARY}")
        assert call(b"", timeout=10) == b"ann"
        with pytest.raises(grpc.RpcError) as exc:
            call(b"missing", timeout=10)
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND and "'p9'" in exc.value.details()


def test_coroutine_handler_needs_a_token(harness: AsyncHarness) -> None:
    with open_channel(harness.address) as channel:
        with pytest.raises(grpc.RpcError) as exc:
            channel.unary_unary(f"/{SERVICE}/{UNARY}")(b"", timeout=10)
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_async_generator_handler_streams_and_an_error_midway_ends_it_with_its_status(
        harness: AsyncHarness) -> None:
    with open_channel(harness.address, token=harness.token("bo")) as channel:
        responses = channel.stream_stream(f"/{SERVICE}/{BIDI}")(iter([b"a", b"b", b"boom", b"c"]), timeout=10)
        received = []
        with pytest.raises(grpc.RpcError) as exc:
            for response in responses:
                received.append(response)
    assert received == [b"bo:a", b"bo:b"]
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "boom" in exc.value.details()


def test_blocking_stream_learns_at_once_that_the_client_went_away_and_is_closed(harness: AsyncHarness) -> None:
    with open_channel(harness.address, token=harness.token()) as channel:
        responses = channel.unary_stream(f"/{SERVICE}/{SERVER_STREAM}")(b"", timeout=30)
        assert next(responses) == b"first"
        assert harness.watch_waiting.wait(3)  # the handler waits for news (not still sending "first")
        responses.cancel()
    assert harness.watch_ended.wait(3), "the handler slept on although its call had ended"
    assert harness.watch_closed.wait(3)


def test_blocking_stream_in_flight_when_the_server_stops_ends_with_it(harness: AsyncHarness) -> None:
    with open_channel(harness.address, token=harness.token()) as channel:
        responses = channel.unary_stream(f"/{SERVICE}/{SERVER_STREAM}")(b"", timeout=30)
        assert next(responses) == b"first"
        assert harness.watch_waiting.wait(3)  # the handler waits for news (not still sending "first")
        harness.server.stop(0)
        assert harness.watch_ended.wait(3), "the handler outlived the server"
        assert harness.watch_closed.wait(3)


def test_a_client_stream_cancelled_midway_is_never_handed_over_as_a_whole_one(harness: AsyncHarness) -> None:
    """On grpc.aio a cancelled client stream ends like a finished one; the blocking handler must learn it
    was cut off (an import must not apply the rows that happened to arrive)."""
    def requests() -> Iterator[bytes]:
        yield b"row1"
        yield b"row2"
        time.sleep(1.0)
        yield b"row3"

    with open_channel(harness.address, token=harness.token("eve", Role.EXPERT)) as channel:
        future = channel.stream_unary(f"/{SERVICE}/{IMPORT}").future(requests(), timeout=10)
        time.sleep(0.3)
        future.cancel()
    outcome = harness.upload_outcome.get(timeout=5)
    assert isinstance(outcome, errors.Cancelled), f"the handler was handed {outcome!r} as a whole stream"


def test_a_whole_client_stream_reaches_the_blocking_handler(harness: AsyncHarness) -> None:
    with open_channel(harness.address, token=harness.token("eve", Role.EXPERT)) as channel:
        assert channel.stream_unary(f"/{SERVICE}/{IMPORT}")(iter([b"a", b"b"]), timeout=10) == b"applied"
    assert harness.upload_outcome.get(timeout=5) == [b"a", b"b"]


def test_calls_cut_off_by_their_deadline_are_counted_and_leave_nothing_in_flight(harness: AsyncHarness) -> None:
    metrics = default_metrics()
    in_flight = metrics.in_flight.labels("LabelsService")
    before = in_flight._value.get()
    counted = {name: metrics.requests.labels("LabelsService", name, "DEADLINE_EXCEEDED")
               for name in (SLOW, BLOCKING_SLOW)}
    counts = {name: counter._value.get() for name, counter in counted.items()}
    with open_channel(harness.address, token=harness.token()) as channel:
        for name in (SLOW, BLOCKING_SLOW):  # a coroutine and a blocking handler
            with pytest.raises(grpc.RpcError) as exc:
                channel.unary_unary(f"/{SERVICE}/{name}")(b"", timeout=0.3)
            assert exc.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 5
    while in_flight._value.get() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_flight._value.get() == before
    assert all(counted[name]._value.get() == counts[name] + 1 for name in counted)


def test_a_blocking_handler_that_aborts_is_counted_with_its_own_status(harness: AsyncHarness) -> None:
    counter = default_metrics().requests.labels("LabelsService", BLOCKING_SLOW, "OUT_OF_RANGE")
    before = counter._value.get()
    with open_channel(harness.address, token=harness.token()) as channel:
        with pytest.raises(grpc.RpcError) as exc:
            channel.unary_unary(f"/{SERVICE}/{BLOCKING_SLOW}")(b"abort", timeout=10)
    assert exc.value.code() == grpc.StatusCode.OUT_OF_RANGE and exc.value.details() == "too far"
    assert counter._value.get() == before + 1


def test_a_revocation_that_needs_a_lookup_is_never_looked_up_on_the_event_loop(harness: AsyncHarness) -> None:
    """The loop serves every call: a slow database must hold up only the call that needs it."""
    with open_channel(harness.address, token=harness.token("ann")) as channel:
        assert channel.unary_unary(f"/{SERVICE}/{UNARY}")(b"", timeout=10) == b"ann"
    assert harness.revocation_threads and not any(name.endswith("-loop") for name in harness.revocation_threads)
