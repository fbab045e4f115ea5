"""A fake `HarvestClient` for the UI's AppTest tests, and the session tests that use it directly.

The fake answers stub calls from handlers given per test and records every request, so a test reads
exactly what a page sent; a missing handler answers UNIMPLEMENTED like a service that lacks the method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from streamlit.testing.v1 import AppTest

from harvest.v1 import common_pb2, labels_pb2

pytestmark = pytest.mark.unit


class FakeRpcError(grpc.RpcError):
    """What a stub raises: a status code and the service's message."""

    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        super().__init__(details)
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


class FakeStub:
    """Any method name; answers with handlers[name](request) or handlers[name] itself."""

    def __init__(self, handlers: dict[str, Any]) -> None:
        self.handlers = handlers
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(request: Any, **_: Any) -> Any:
            self.calls.append((name, request))
            handler = self.handlers.get(name)
            if handler is None:
                raise FakeRpcError(grpc.StatusCode.UNIMPLEMENTED, f"{name} not faked")
            answer = handler(request) if callable(handler) else handler
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call

    def requests(self, name: str) -> list[Any]:
        return [request for method, request in self.calls if method == name]


class FakeClient:
    """Stands in for HarvestClient: four stubs and upload_images."""

    def __init__(self, labels: dict[str, Any] | None = None, storage: dict[str, Any] | None = None,
                 scheduler: dict[str, Any] | None = None, inference: dict[str, Any] | None = None) -> None:
        self.labels, self.storage = FakeStub(labels or {}), FakeStub(storage or {})
        self.scheduler, self.inference = FakeStub(scheduler or {}), FakeStub(inference or {})
        self.uploads: list[tuple[str, list[tuple[str, bytes]], int]] = []
        self.upload_answer: Callable[[str, bytes], Any] | None = None

    def upload_images(self, project_id: str, files: Any, *, policy: int = 0, **_: Any) -> Any:
        files = list(files)
        self.uploads.append((project_id, files, policy))
        assert self.upload_answer is not None, "test did not fake upload_images"
        return self.upload_answer(*files[0])

    def close(self) -> None:
        pass


def stream(*messages: Any, still_open: bool = False) -> Callable[[Any], Iterator[Any]]:
    """A server-streaming handler: yields `messages`, then ends, or, when `still_open`, runs into the
    caller's deadline (DEADLINE_EXCEEDED) like a watch whose operation has not finished yet."""
    def answer(_: Any) -> Iterator[Any]:
        yield from messages
        if still_open:
            raise FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
    return answer


ADMIN = labels_pb2.User(user_id="u1", username="admin", role=common_pb2.ROLE_ADMIN)
EXPERT = labels_pb2.User(user_id="u2", username="ana", display_name="Ana", role=common_pb2.ROLE_EXPERT)
ANNOTATOR = labels_pb2.User(user_id="u3", username="bob", role=common_pb2.ROLE_ANNOTATOR)
PROJECT = labels_pb2.Project(project_id="p1", name="pets", classes=[
    labels_pb2.ClassDef(class_id="c-cat", name="cat", shortcut="1", position=0),
    labels_pb2.ClassDef(class_id="c-dog", name="dog", shortcut="2", position=1),
    labels_pb2.ClassDef(class_id="c-old", name="old", retired=True, position=2)])


def signed_in(app: AppTest, client: FakeClient, user: labels_pb2.User = EXPERT, project: str | None = "p1") -> AppTest:
    """Puts a fake client, its user and the chosen project in the session, as sign-in would."""
    app.session_state["harvest_client"] = client
    app.session_state["harvest_token"] = "fake-token"
    app.session_state["harvest_user"] = user
    if project:
        app.session_state["harvest_project_id"] = project
    return app


def project_handlers(project: labels_pb2.Project = PROJECT) -> dict[str, Any]:
    return {"GetProject": labels_pb2.GetProjectResponse(project=project),
            "ListProjects": labels_pb2.ListProjectsResponse(projects=[project])}


# ---- the session module, driven without a page ----

def _session_script() -> None:
    import grpc
    import streamlit as st

    from harvest.ui import session

    factory = st.session_state["factory"]
    action = st.session_state.get("action")
    try:
        if action == "token":
            session.sign_in("tok", factory=factory)
        elif action == "password":
            session.login("ana", "pw", factory=factory)
        elif action == "out":
            session.sign_out()
    except grpc.RpcError as exc:
        st.error(session.describe_error(exc))
    st.write(f"token={st.session_state.get('harvest_token')}")


def _factory(whoami: Any, login: Any = None) -> Callable[..., FakeClient]:
    def make(token: str | None = None) -> FakeClient:
        client = FakeClient(labels={"WhoAmI": whoami, "Login": login})
        client.token = token  # type: ignore[attr-defined]
        return client
    return make


def test_sign_in_keeps_the_token_only_when_whoami_accepts_it() -> None:
    app = AppTest.from_function(_session_script)
    app.session_state["factory"] = _factory(labels_pb2.WhoAmIResponse(user=EXPERT))
    app.session_state["action"] = "token"
    app.run()
    assert app.session_state["harvest_token"] == "tok"
    assert app.session_state["harvest_user"].username == "ana"


def test_refused_token_leaves_the_session_signed_out() -> None:
    app = AppTest.from_function(_session_script)
    app.session_state["factory"] = _factory(FakeRpcError(grpc.StatusCode.UNAUTHENTICATED, "token expired"))
    app.session_state["action"] = "token"
    app.run()
    assert "harvest_token" not in app.session_state
    assert app.error[0].value == "UNAUTHENTICATED: token expired"


def test_password_is_exchanged_for_a_token_and_never_kept() -> None:
    app = AppTest.from_function(_session_script)
    app.session_state["factory"] = _factory(labels_pb2.WhoAmIResponse(user=EXPERT),
                                            labels_pb2.LoginResponse(token="issued"))
    app.session_state["action"] = "password"
    app.run()
    assert app.session_state["harvest_token"] == "issued"
    login = app.session_state["harvest_client"].labels  # the anonymous client made the Login call
    assert login.requests("WhoAmI")
    assert not any(value == "pw" for key, value in _state(app).items())


def _state(app: AppTest) -> dict[str, Any]:
    return {key: app.session_state[key] for key in ("harvest_token", "harvest_user", "harvest_project_id")
            if key in app.session_state}


def test_sign_out_forgets_token_user_and_project() -> None:
    app = AppTest.from_function(_session_script)
    signed_in(app, FakeClient())
    app.session_state["factory"] = _factory(None)
    app.session_state["action"] = "out"
    app.run()
    for key in ("harvest_token", "harvest_user", "harvest_project_id", "harvest_client"):
        assert key not in app.session_state
