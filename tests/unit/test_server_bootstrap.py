"""The server bootstrap and its interceptor: authentication, the role policy from the contracts, error
mapping, metrics, health without a token, graceful shutdown, TLS and client retries."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from pydantic import SecretStr

from harvest.common import errors
from harvest.common.auth import Role, TokenSigner, current_principal
from harvest.common.channel import check_health, open_channel
from harvest.common.interceptors import MethodPolicy
from harvest.common.metrics import default_metrics
from harvest.common.server import HarvestServer, ServerConfig
from harvest.common.settings import AuthSettings, ClientSettings, EndpointSettings, ServerSettings, TLSSettings
from harvest.v1 import common_pb2, labels_pb2

pytestmark = pytest.mark.unit

SECRET = "bootstrap-test-secret-0123456789abcdef"
LABELS = labels_pb2.DESCRIPTOR.services_by_name["LabelsService"]


def _method_with(role: Role, *, streaming: bool = False) -> MethodDescriptor:
    for method in LABELS.methods:
        if method.GetOptions().Extensions[common_pb2.min_role] == role and not method.client_streaming \
                and method.server_streaming == streaming:
            return method
    raise AssertionError(f"the labels contract has no {'streaming ' if streaming else ''}{role.name} method")


ADMIN_METHOD = _method_with(Role.ADMIN)
ANNOTATOR_METHOD = _method_with(Role.ANNOTATOR)

Behaviour = Callable[[bytes, grpc.ServicerContext], bytes]


class Harness:
    """A real server on a free port whose labels methods run test-provided behaviours on raw bytes."""

    def __init__(self, tmp_path: Path, tls: TLSSettings | None = None, grace_s: float = 5.0,
                 asyncio: bool = False) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        self.streams: dict[str, Callable[[bytes, grpc.ServicerContext], Iterator[bytes]]] = {}
        auth = AuthSettings(secret=SecretStr(SECRET), leeway_s=0)
        self.signer = TokenSigner(auth)
        server = ServerSettings(metrics_port=0, grace_period_s=grace_s)
        config = ServerConfig(endpoints=EndpointSettings(), server=server, tls=tls or TLSSettings(), auth=auth)
        self.server = HarvestServer("labels", self._register, config, port=0, asyncio=asyncio).start()
        self.address = f"127.0.0.1:{self.server.port}"

    def _register(self, server: grpc.Server) -> list[str]:
        handlers = {}
        for method in LABELS.methods:
            name = method.name
            if method.server_streaming:
                handlers[name] = grpc.unary_stream_rpc_method_handler(
                    lambda req, ctx, n=name: self.streams[n](req, ctx))
            elif method.client_streaming:
                handlers[name] = grpc.stream_unary_rpc_method_handler(lambda reqs, ctx: b"")
            else:
                handlers[name] = grpc.unary_unary_rpc_method_handler(
                    lambda req, ctx, n=name: self.behaviours.get(n, lambda r, c: b"")(req, ctx))
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(LABELS.full_name, handlers)])
        return [LABELS.full_name]

    def token(self, role: Role, username: str = "ada", ttl_s: int = 600, now: float | None = None) -> str:
        return self.signer.issue(user_id="u-" + username, username=username, role=role, ttl_s=ttl_s, now=now)[0]

    def call(self, method: MethodDescriptor, token: str | None = None) -> tuple[bytes, tuple]:
        with open_channel(self.address, token=token) as channel:
            response, call = channel.unary_unary(f"/{LABELS.full_name}/{method.name}").with_call(b"", timeout=10)
            return response, call.trailing_metadata()


#: Every test of the interceptor runs on both servers: thread-per-call, and asyncio (blocking handlers in
#: its threads, through `async_interceptors`).
SERVERS = pytest.mark.parametrize("asyncio", [False, True], ids=["threads", "asyncio"])


@pytest.fixture(params=[False, True], ids=["threads", "asyncio"])
def harness(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
    running = Harness(tmp_path, asyncio=request.param)
    yield running
    running.server.stop(0)


def _code(exc_info: pytest.ExceptionInfo[grpc.RpcError]) -> grpc.StatusCode:
    return exc_info.value.code()


def test_call_without_token_is_unauthenticated_and_says_what_to_send(harness: Harness) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ANNOTATOR_METHOD)
    assert _code(exc) == grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer" in exc.value.details()


def test_expired_token_is_unauthenticated(harness: Harness) -> None:
    token = harness.token(Role.ADMIN, ttl_s=5, now=time.time() - 3600)
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ANNOTATOR_METHOD, token)
    assert _code(exc) == grpc.StatusCode.UNAUTHENTICATED and "expired" in exc.value.details()


def test_forged_token_is_unauthenticated(harness: Harness) -> None:
    other = TokenSigner(AuthSettings(secret=SecretStr("another-deployment-secret-0123456789")))
    token, _ = other.issue(user_id="x", username="mallory", role=Role.ADMIN)
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ADMIN_METHOD, token)
    assert _code(exc) == grpc.StatusCode.UNAUTHENTICATED


def test_annotator_on_admin_method_is_permission_denied(harness: Harness) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ADMIN_METHOD, harness.token(Role.ANNOTATOR, "ann"))
    assert _code(exc) == grpc.StatusCode.PERMISSION_DENIED
    assert f"LabelsService.{ADMIN_METHOD.name} needs the admin role" in exc.value.details()


def test_allowed_call_sees_the_caller(harness: Harness) -> None:
    harness.behaviours[ANNOTATOR_METHOD.name] = lambda req, ctx: current_principal().username.encode()
    response, _ = harness.call(ANNOTATOR_METHOD, harness.token(Role.ANNOTATOR, "ann"))
    assert response == b"ann"


def test_higher_role_may_call_lower_role_methods(harness: Harness) -> None:
    response, _ = harness.call(ANNOTATOR_METHOD, harness.token(Role.ADMIN))
    assert response == b""


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotFound("project 'p9' not found"), grpc.StatusCode.NOT_FOUND),
        (errors.InvalidArgument("page_size must be 1..1000"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.FailedPrecondition("project is archived"), grpc.StatusCode.FAILED_PRECONDITION),
    ],
)
def test_domain_errors_reach_the_client_with_code_and_message(harness: Harness, error: errors.HarvestError,
                                                               code: grpc.StatusCode) -> None:
    def fail(_req: bytes, _ctx: grpc.ServicerContext) -> bytes:
        raise error

    harness.behaviours[ANNOTATOR_METHOD.name] = fail
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ANNOTATOR_METHOD, harness.token(Role.ANNOTATOR))
    assert _code(exc) == code and exc.value.details() == error.message


def test_conflict_details_travel_as_trailing_metadata(harness: Harness) -> None:
    def conflict(_req: bytes, _ctx: grpc.ServicerContext) -> bytes:
        raise errors.Aborted("item changed since you read it", details={"current_version": "7"})

    harness.behaviours[ANNOTATOR_METHOD.name] = conflict
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ANNOTATOR_METHOD, harness.token(Role.ANNOTATOR))
    assert _code(exc) == grpc.StatusCode.ABORTED
    trailing = dict(exc.value.trailing_metadata())
    assert trailing["harvest-current_version"] == "7" and trailing["harvest-request-id"]


def test_unexpected_exception_is_internal_with_request_id_and_no_leak(harness: Harness) -> None:
    def crash(_req: bytes, _ctx: grpc.ServicerContext) -> bytes:
        raise KeyError("/etc/secret-path")

    harness.behaviours[ANNOTATOR_METHOD.name] = crash
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ANNOTATOR_METHOD, harness.token(Role.ANNOTATOR))
    assert _code(exc) == grpc.StatusCode.INTERNAL
    request_id = dict(exc.value.trailing_metadata())["harvest-request-id"]
    assert request_id in exc.value.details() and "secret-path" not in exc.value.details()


def test_handler_abort_keeps_its_own_status(harness: Harness) -> None:
    harness.behaviours[ANNOTATOR_METHOD.name] = lambda req, ctx: ctx.abort(grpc.StatusCode.OUT_OF_RANGE, "too far")
    with pytest.raises(grpc.RpcError) as exc:
        harness.call(ANNOTATOR_METHOD, harness.token(Role.ANNOTATOR))
    assert _code(exc) == grpc.StatusCode.OUT_OF_RANGE and exc.value.details() == "too far"


def test_error_in_the_middle_of_a_stream_is_mapped(harness: Harness) -> None:
    method = _method_with(Role.ANNOTATOR, streaming=True)

    def stream(_req: bytes, _ctx: grpc.ServicerContext) -> Iterator[bytes]:
        yield b""
        raise errors.NotFound("job 'j1' was deleted")

    harness.streams[method.name] = stream
    with open_channel(harness.address, token=harness.token(Role.ANNOTATOR)) as channel:
        responses = channel.unary_stream(f"/{LABELS.full_name}/{method.name}")(b"", timeout=10)
        received = []
        with pytest.raises(grpc.RpcError) as exc:
            for item in responses:
                received.append(item)
    assert received == [b""]
    assert _code(exc) == grpc.StatusCode.NOT_FOUND and "deleted" in exc.value.details()


def test_health_needs_no_token(harness: Harness) -> None:
    with open_channel(harness.address) as channel:
        assert check_health(channel) == "SERVING"
        assert check_health(channel, LABELS.full_name) == "SERVING"


def test_requests_are_counted_by_method_and_code(harness: Harness) -> None:
    metrics = default_metrics()
    counter = metrics.requests.labels("LabelsService", ANNOTATOR_METHOD.name, "UNAUTHENTICATED")
    before = counter._value.get()
    with pytest.raises(grpc.RpcError):
        harness.call(ANNOTATOR_METHOD)
    assert counter._value.get() == before + 1


def test_policy_reads_roles_from_the_contract_and_fails_closed() -> None:
    policy = MethodPolicy()
    assert policy.required_role("/grpc.health.v1.Health/Check") is None
    assert policy.required_role(f"/{LABELS.full_name}/{ADMIN_METHOD.name}") is Role.ADMIN
    assert policy.required_role(f"/{LABELS.full_name}/{ANNOTATOR_METHOD.name}") is Role.ANNOTATOR
    assert policy.required_role(f"/{LABELS.full_name}/NoSuchMethod") is Role.ADMIN
    assert policy.required_role("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo") is Role.ANNOTATOR


@SERVERS
def test_graceful_shutdown_finishes_in_flight_calls_and_refuses_new_ones(tmp_path: Path, asyncio: bool) -> None:
    harness = Harness(tmp_path, grace_s=5, asyncio=asyncio)
    started = threading.Event()

    def slow(_req: bytes, _ctx: grpc.ServicerContext) -> bytes:
        started.set()
        time.sleep(1.0)
        return b"done"

    harness.behaviours[ANNOTATOR_METHOD.name] = slow
    token = harness.token(Role.ANNOTATOR)
    result: dict[str, object] = {}
    caller = threading.Thread(target=lambda: result.update(response=harness.call(ANNOTATOR_METHOD, token)[0]))
    caller.start()
    assert started.wait(5)
    harness.server.stop()
    caller.join(10)
    assert result["response"] == b"done"
    with pytest.raises(grpc.RpcError) as exc:
        with open_channel(harness.address, client=ClientSettings(max_attempts=1, timeout_s=2)) as channel:
            check_health(channel)
    assert _code(exc) == grpc.StatusCode.UNAVAILABLE


def test_client_retries_while_the_server_is_starting(tmp_path: Path) -> None:
    from tests.harness.servers import free_port

    port = free_port()
    auth = AuthSettings(secret=SecretStr(SECRET))
    config = ServerConfig(server=ServerSettings(metrics_port=0), auth=auth)
    server = HarvestServer("labels", lambda s: [], config, port=port)

    def start_later() -> None:
        time.sleep(0.6)
        server.start()

    threading.Thread(target=start_later).start()
    settings = ClientSettings(max_attempts=5, initial_backoff_s=0.3, max_backoff_s=1.0)
    try:
        with open_channel(f"127.0.0.1:{port}", client=settings) as channel:
            assert check_health(channel, timeout_s=10) == "SERVING"
    finally:
        server.stop(0)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harvest-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@SERVERS
def test_tls_server_accepts_tls_clients_and_refuses_plaintext(tmp_path: Path, asyncio: bool) -> None:
    cert, key = _self_signed(tmp_path)
    harness = Harness(tmp_path, tls=TLSSettings(enabled=True, cert_file=cert, key_file=key), asyncio=asyncio)
    try:
        client_tls = TLSSettings(enabled=True, ca_file=cert)
        with open_channel(harness.address, tls=client_tls) as channel:
            assert check_health(channel) == "SERVING"
        with open_channel(harness.address, client=ClientSettings(max_attempts=1, timeout_s=2)) as plain:
            with pytest.raises(grpc.RpcError) as exc:
                check_health(plain)
        assert _code(exc) == grpc.StatusCode.UNAVAILABLE
    finally:
        harness.server.stop(0)
