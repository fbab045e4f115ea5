"""`harvest up` as an operator sees it: every process healthy, reflection, the auth rules enforced on
every method of every service, the UI served to a real browser, and a clean SIGTERM shutdown."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from collections.abc import Iterator

import grpc
import jwt
import pytest
from google.protobuf.descriptor import MethodDescriptor
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from harvest.common.auth import Role
from harvest.common.channel import check_health, open_channel
from harvest.common.settings import SERVICE_NAMES
from harvest.v1 import common_pb2, inference_pb2, labels_pb2, scheduler_pb2, storage_pb2
from tests.e2e.conftest import RunningPlatform, start_platform

pytestmark = pytest.mark.e2e

SERVICES = {
    "storage": storage_pb2.DESCRIPTOR.services_by_name["StorageService"],
    "labels": labels_pb2.DESCRIPTOR.services_by_name["LabelsService"],
    "scheduler": scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"],
    "inference": inference_pb2.DESCRIPTOR.services_by_name["InferenceService"],
}


def all_methods() -> Iterator[tuple[str, MethodDescriptor]]:
    """Every method that needs a token (all but the few marked allow_unauthenticated, like Login)."""
    for service, descriptor in SERVICES.items():
        for method in descriptor.methods:
            if not method.GetOptions().Extensions[common_pb2.allow_unauthenticated]:
                yield service, method


def call_raw(platform: RunningPlatform, service: str, method: MethodDescriptor,
             token: str | None) -> grpc.StatusCode:
    """Call any method with an empty request and return the status code (OK if it answered)."""
    return call_raw_details(platform, service, method, token)[0]


def call_raw_details(platform: RunningPlatform, service: str, method: MethodDescriptor,
                     token: str | None) -> tuple[grpc.StatusCode, str]:
    path = f"/{method.containing_service.full_name}/{method.name}"
    metadata = [("authorization", f"Bearer {token}")] if token else []
    with grpc.insecure_channel(platform.address(service)) as channel:
        try:
            if method.client_streaming and method.server_streaming:
                list(channel.stream_stream(path)(iter([b""]), metadata=metadata, timeout=10))
            elif method.client_streaming:
                channel.stream_unary(path)(iter([b""]), metadata=metadata, timeout=10)
            elif method.server_streaming:
                list(channel.unary_stream(path)(b"", metadata=metadata, timeout=10))
            else:
                channel.unary_unary(path)(b"", metadata=metadata, timeout=10)
        except grpc.RpcError as exc:
            return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def min_role(method: MethodDescriptor) -> Role:
    return Role(method.GetOptions().Extensions[common_pb2.min_role])


@pytest.fixture(scope="module")
def annotator_token(platform: RunningPlatform) -> str:
    created = platform.cli("admin", "create-user", "ann", "--role", "annotator")
    assert created.returncode == 0, created.stderr
    issued = platform.cli("admin", "token", "ann", "--ttl-days", "1")
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def test_every_service_answers_serving(platform: RunningPlatform) -> None:
    for service in SERVICE_NAMES:
        with open_channel(platform.address(service)) as channel:
            assert check_health(channel) == "SERVING"
            assert check_health(channel, SERVICES[service].full_name) == "SERVING"
    print(f"harvest up became healthy in {platform.ready_s:.1f}s")


def test_startup_prints_addresses_and_the_admin_token_once(platform: RunningPlatform) -> None:
    text = "\n".join(platform.output)
    for service in SERVICE_NAMES:
        assert f"grpc://127.0.0.1:{platform.ports[service]}" in text
    assert platform.ui_url in text
    assert platform.admin_token in text
    assert (platform.home / "admin-token").stat().st_mode & 0o777 == 0o600


def test_reflection_lists_the_harvest_services(platform: RunningPlatform) -> None:
    for service, descriptor in SERVICES.items():
        with open_channel(platform.address(service), token=platform.admin_token) as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
            names = {s.name for r in responses for s in r.list_services_response.service}
        assert descriptor.full_name in names
        assert "grpc.health.v1.Health" in names


def test_every_method_refuses_a_call_without_token(platform: RunningPlatform) -> None:
    codes = {f"{s}.{m.name}": call_raw(platform, s, m, None) for s, m in all_methods()}
    assert set(codes.values()) == {grpc.StatusCode.UNAUTHENTICATED}, codes


def test_every_method_refuses_forged_and_expired_tokens(platform: RunningPlatform) -> None:
    claims = {"sub": "x", "name": "mallory", "role": "admin", "jti": "j", "iss": "harvest",
              "iat": int(time.time()), "exp": int(time.time()) + 600}
    forged = jwt.encode(claims, "a-secret-this-deployment-never-used-000", algorithm="HS256")
    secret = (platform.home / "secret").read_text().strip()
    expired = jwt.encode({**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, secret,
                         algorithm="HS256")
    for token in (forged, expired, "garbage"):
        codes = {f"{s}.{m.name}": call_raw(platform, s, m, token) for s, m in all_methods()}
        assert set(codes.values()) == {grpc.StatusCode.UNAUTHENTICATED}, codes


def test_annotator_is_denied_every_admin_method(platform: RunningPlatform, annotator_token: str) -> None:
    admin_methods = [(s, m) for s, m in all_methods() if min_role(m) is Role.ADMIN]
    assert admin_methods, "the contracts declare admin-only methods"
    codes = {f"{s}.{m.name}": call_raw(platform, s, m, annotator_token) for s, m in admin_methods}
    assert set(codes.values()) == {grpc.StatusCode.PERMISSION_DENIED}, codes


def test_annotator_passes_auth_on_annotator_methods(platform: RunningPlatform, annotator_token: str) -> None:
    allowed = [(s, m) for s, m in all_methods() if min_role(m) is Role.ANNOTATOR]
    answers = {f"{s}.{m.name}": call_raw_details(platform, s, m, annotator_token) for s, m in allowed}
    # The role check lets them through; what follows (e.g. "not a member of project ''") is the service's.
    refused = {k: a for k, a in answers.items() if a[0] == grpc.StatusCode.UNAUTHENTICATED or "role" in a[1]}
    assert not refused


def test_metrics_endpoint_counts_requests_by_method_and_code(platform: RunningPlatform) -> None:
    port = platform.ports["labels"] + 1000
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:  # noqa: S310
        body = response.read().decode()
    assert 'harvest_grpc_requests_total{code="UNAUTHENTICATED",method=' in body
    assert "harvest_grpc_request_seconds_bucket" in body


def test_ui_shows_health_and_signs_in_with_a_token(platform: RunningPlatform, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    page.goto(platform.ui_url)
    page.get_by_text("Services", exact=True).wait_for(timeout=60_000)
    page.get_by_text("SERVING").first.wait_for(timeout=30_000)
    assert page.get_by_role("heading", name="HARVEST").is_visible()
    assert page.get_by_text("SERVING").count() == len(SERVICE_NAMES)
    page.screenshot(path=str(artifacts / "platform-home.png"), full_page=True)
    page.get_by_role("textbox", name="Access token").fill(platform.admin_token)
    page.get_by_role("button", name="Sign in with token").click()
    page.get_by_text("Signed in as admin (admin).").wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "platform-signed-in.png"), full_page=True)


def test_ui_refuses_a_bad_password(platform: RunningPlatform, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(platform.ui_url)
    page.get_by_role("tab", name="Username and password").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Username and password").click()
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Sign-in failed: unknown user or wrong password").wait_for(timeout=30_000)


def test_sigterm_stops_everything_within_ten_seconds(tmp_path_factory: pytest.TempPathFactory) -> None:
    running = start_platform(tmp_path_factory.mktemp("harvest-stop"))
    children = _descendants(running.process.pid)
    assert len(children) >= 6  # four services, the worker and the UI
    started = time.monotonic()
    os.kill(running.process.pid, signal.SIGTERM)
    code = running.process.wait(timeout=15)
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 10, f"stopped in {elapsed:.1f}s"
    assert [pid for pid in children if _alive(pid)] == []
    print(f"SIGTERM to exit: {elapsed:.2f}s")


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for task in os.listdir(f"/proc/{parent}/task"):
            try:
                children = open(f"/proc/{parent}/task/{task}/children").read().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False
