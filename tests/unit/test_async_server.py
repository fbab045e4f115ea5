"""The asyncio server (`HarvestServer(asyncio=True)`): coroutine and async-generator handlers get the same
authentication, caller binding and error mapping as blocking ones; blocking streaming handlers run in its
threads and learn when their call ends, as on the thread-per-call server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from pydantic import SecretStr

from harvest.common import errors
from harvest.common.auth import Role, TokenSigner, current_principal
from harvest.common.channel import open_channel
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import AuthSettings, ServerSettings
from harvest.common.streams import LiveCall
from harvest.v1 import labels_pb2

pytestmark = pytest.mark.unit

SECRET = "async-server-test-secret-0123456789abcdef"
SERVICE = labels_pb2.DESCRIPTOR.services_by_name["LabelsService"].full_name
# Methods the contract lets an annotator call: a unary one, a server-streaming one, a bidi one.
UNARY, SERVER_STREAM, BIDI = "WhoAmI", "WatchAnnotations", "AnnotateStream"


class AsyncHarness:
    """A real asyncio server whose labels methods are the handlers below."""

    def __init__(self) -> None:
        self.watch_ended = threading.Event()
        self.watch_closed = threading.Event()
        auth = AuthSettings(secret=SecretStr(SECRET))
        self.signer = TokenSigner(auth)
        config = ServerConfig(server=ServerSettings(metrics_port=0), auth=auth)
        self.server = HarvestServer("labels", self._register, config, port=0, asyncio=True).start()
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
                while live.wait(5):  # wakes the moment the call ends, not after 5 s
                    pass
                self.watch_ended.set()
            finally:
                self.watch_closed.set()

        handlers = {
            UNARY: grpc.unary_unary_rpc_method_handler(who),
            BIDI: grpc.stream_stream_rpc_method_handler(echo),
            SERVER_STREAM: grpc.unary_stream_rpc_method_handler(watch),
        }
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
        return [SERVICE]

    def token(self, username: str = "ann") -> str:
        return self.signer.issue(user_id="u-" + username, username=username, role=Role.ANNOTATOR)[0]


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
        responses.cancel()
    assert harness.watch_ended.wait(3), "the handler slept on although its call had ended"
    assert harness.watch_closed.wait(3)


def test_blocking_stream_in_flight_when_the_server_stops_ends_with_it(harness: AsyncHarness) -> None:
    with open_channel(harness.address, token=harness.token()) as channel:
        responses = channel.unary_stream(f"/{SERVICE}/{SERVER_STREAM}")(b"", timeout=30)
        assert next(responses) == b"first"
        harness.server.stop(0)
        assert harness.watch_ended.wait(3), "the handler outlived the server"
        assert harness.watch_closed.wait(3)
