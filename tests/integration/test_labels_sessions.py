"""AnnotateStream labeling sessions over real gRPC on SQLite and PostgreSQL: every write answered in order and
in the history, a stale write answered ABORTED with the current value while the session goes on, bad writes
refused one by one, a retried client_request_id applied once, two sessions racing on one item lose nothing,
a session of a project the caller may not label refused before anything is written, a revoked token ending
the session, the caps on open sessions, and a server stopping mid-session losing no acknowledged write."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy import func, select

from harvest.common.auth import Role
from harvest.labels.models import Annotation, Item
from harvest.labels.settings import LabelsSettings
from harvest.v1 import labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration

WAIT_S = 10.0


class Session:
    """One AnnotateStream call fed from a queue, so a test sends a write and reads its answer in turn."""

    def __init__(self, stub, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
        self._requests: queue.Queue[labels_pb2.AnnotateRequest | None] = queue.Queue()
        self.call = stub.AnnotateStream(iter(self._requests.get, None), timeout=timeout)

    def send(self, request: labels_pb2.AnnotateRequest) -> labels_pb2.AnnotateStreamResponse:
        self._requests.put(request)
        return next(self.call)

    def close(self) -> grpc.StatusCode:
        self._requests.put(None)
        assert list(self.call) == []
        return self.call.code()


class Project:
    def __init__(self, labels: LabelsUnderTest) -> None:
        self.labels = labels
        self.tokens = {"eve": labels.user("eve", Role.EXPERT), "ann": labels.user("ann"), "bob": labels.user("bob")}
        self.project, self.items = labels.project(self.tokens["eve"], "birds", images=6)
        self.other, self.other_items = labels.project(self.tokens["eve"], "fish", images=1)
        for name in ("ann", "bob"):
            labels.member(self.project.project_id, name)

    def cls(self, name: str) -> str:
        return next(c.class_id for c in self.project.classes if c.name == name)

    def stub(self, who: str):  # type: ignore[no-untyped-def]
        return self.labels.client(self.tokens[who]).labels

    def write(self, item: int, name: str, version: int, **extra: str) -> labels_pb2.AnnotateRequest:
        return labels_pb2.AnnotateRequest(project_id=self.project.project_id, item_id=self.items[item],
                                          class_id=self.cls(name), expected_version=version, **extra)

    def history(self, item: int) -> list[labels_pb2.Annotation]:
        return list(self.stub("eve").GetHistory(labels_pb2.GetHistoryRequest(
            project_id=self.project.project_id, item_id=self.items[item])).annotations)


@pytest.fixture
def project(database_url: str) -> Iterator[Project]:
    with running_labels(database_url) as labels:
        yield Project(labels)


def test_every_write_is_answered_in_order_and_is_in_the_history(project: Project) -> None:
    session = Session(project.stub("ann"))
    answers = [session.send(project.write(item, name, 1)) for item, name in ((0, "cat"), (1, "dog"), (2, "bird"))]
    answers.append(session.send(project.write(0, "dog", 2)))
    assert [a.WhichOneof("outcome") for a in answers] == ["written"] * 4
    assert [(a.written.item.item_id, a.written.item.version) for a in answers] == [
        (project.items[0], 2), (project.items[1], 2), (project.items[2], 2), (project.items[0], 3)]
    assert answers[3].written.annotation.previous_class_id == project.cls("cat")
    assert session.close() == grpc.StatusCode.OK
    assert [(a.class_id, a.username) for a in project.history(0)] == [(project.cls("cat"), "ann"),
                                                                      (project.cls("dog"), "ann")]
    assert project.labels.core.sessions.open_sessions == 0


def test_a_stale_write_is_aborted_with_the_current_value_and_the_session_goes_on(project: Project) -> None:
    project.stub("bob").Annotate(project.write(0, "dog", 1))
    session = Session(project.stub("ann"))
    stale = session.send(project.write(0, "cat", 1))
    assert stale.WhichOneof("outcome") == "error" and stale.error.code == "ABORTED"
    assert stale.error.details["current-version"] == "2"
    assert stale.error.details["current-class-id"] == project.cls("dog")
    assert "version" in stale.error.message
    retried = session.send(project.write(0, "cat", int(stale.error.details["current-version"])))
    assert retried.written.item.version == 3 and retried.written.item.class_id == project.cls("cat")
    assert session.close() == grpc.StatusCode.OK
    assert [a.class_id for a in project.history(0)] == [project.cls("dog"), project.cls("cat")]


def test_bad_writes_are_refused_one_by_one_and_nothing_of_them_is_written(project: Project) -> None:
    session = Session(project.stub("ann"))
    both = session.send(labels_pb2.AnnotateRequest(project_id=project.project.project_id, item_id=project.items[0],
                                                   class_id=project.cls("cat"), clear=True, expected_version=1))
    unknown_item = session.send(labels_pb2.AnnotateRequest(project_id=project.project.project_id, item_id="0" * 32,
                                                           class_id=project.cls("cat"), expected_version=1))
    elsewhere = session.send(labels_pb2.AnnotateRequest(project_id=project.other.project_id,
                                                        item_id=project.other_items[0],
                                                        class_id=project.other.classes[0].class_id,
                                                        expected_version=1))
    fine = session.send(project.write(1, "bird", 1))
    assert (both.error.code, unknown_item.error.code, elsewhere.error.code) == (
        "INVALID_ARGUMENT", "NOT_FOUND", "INVALID_ARGUMENT")
    assert "exactly one of class_id or clear" in both.error.message
    assert "open another session" in elsewhere.error.message
    assert fine.written.item.version == 2
    assert session.close() == grpc.StatusCode.OK
    assert project.history(0) == []


def test_a_retried_request_id_is_applied_once(project: Project) -> None:
    session = Session(project.stub("ann"))
    first = session.send(project.write(0, "cat", 1, client_request_id="key-1"))
    again = session.send(project.write(0, "cat", 1, client_request_id="key-1"))
    assert again.written.annotation.annotation_id == first.written.annotation.annotation_id
    assert session.close() == grpc.StatusCode.OK
    assert len(project.history(0)) == 1


def test_two_sessions_racing_on_one_item_lose_nothing(project: Project) -> None:
    """Each session writes every item with the version it last saw; per item exactly one writer of each
    version wins, the other is told the current value, and the history has every acknowledged write."""
    acknowledged: dict[str, list[str]] = {"ann": [], "bob": []}
    aborted = {"ann": 0, "bob": 0}

    def label(who: str, name: str) -> None:
        session = Session(project.stub(who))
        versions = dict.fromkeys(range(len(project.items)), 1)
        for _ in range(8):
            for item in versions:
                answer = session.send(project.write(item, name, versions[item]))
                if answer.WhichOneof("outcome") == "written":
                    acknowledged[who].append(answer.written.annotation.annotation_id)
                    versions[item] = answer.written.item.version
                else:
                    assert answer.error.code == "ABORTED", answer.error.message
                    aborted[who] += 1
                    versions[item] = int(answer.error.details["current-version"])
        assert session.close() == grpc.StatusCode.OK

    threads = [threading.Thread(target=label, args=(who, name)) for who, name in (("ann", "cat"), ("bob", "dog"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S * 6)
    stored = {a.annotation_id for item in range(len(project.items)) for a in project.history(item)}
    assert set(acknowledged["ann"]) | set(acknowledged["bob"]) == stored
    assert len(stored) == len(acknowledged["ann"]) + len(acknowledged["bob"])
    assert len(stored) + aborted["ann"] + aborted["bob"] == 2 * 8 * len(project.items)


def test_a_session_of_a_project_the_caller_may_not_label_is_refused_before_any_write(project: Project) -> None:
    session = Session(project.stub("ann"))
    with pytest.raises(grpc.RpcError) as refused:
        session.send(labels_pb2.AnnotateRequest(project_id=project.other.project_id, item_id=project.other_items[0],
                                                class_id=project.other.classes[0].class_id, expected_version=1))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    admin = project.labels.client(project.labels.admin_token).labels
    history = admin.GetHistory(labels_pb2.GetHistoryRequest(project_id=project.other.project_id))
    assert list(history.annotations) == []
    empty = Session(project.stub("ann"))
    with pytest.raises(grpc.RpcError) as missing:
        empty.send(labels_pb2.AnnotateRequest(item_id=project.items[0], class_id=project.cls("cat"),
                                              expected_version=1))
    assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "project_id is required" in (missing.value.details() or "")


def test_a_token_revoked_during_the_session_ends_it(project: Project) -> None:
    session = Session(project.stub("ann"))
    assert session.send(project.write(0, "cat", 1)).written.item.version == 2
    whoami = project.stub("ann").WhoAmI(labels_pb2.WhoAmIRequest())
    project.stub("ann").RevokeToken(labels_pb2.RevokeTokenRequest(token_id=whoami.token.token_id))
    time.sleep(0.3)  # past the session's recheck interval
    with pytest.raises(grpc.RpcError) as ended:
        session.send(project.write(1, "cat", 1))
    assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in (ended.value.details() or "")
    assert project.history(1) == []


def test_open_sessions_are_capped_in_all_and_per_user(database_url: str) -> None:
    settings = LabelsSettings(watch_interval_s=0.05, max_sessions=2, max_sessions_per_user=1)
    with running_labels(database_url, settings=settings) as labels:
        project = Project(labels)

        def refused(who: str) -> str:
            with pytest.raises(grpc.RpcError) as error:
                Session(project.stub(who)).send(project.write(5, "cat", 1))
            assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            return error.value.details() or ""

        ann = Session(project.stub("ann"))
        assert ann.send(project.write(0, "cat", 1)).written.item.version == 2
        assert "you already have 1 labeling sessions open" in refused("ann")
        bob = Session(project.stub("bob"))
        assert bob.send(project.write(1, "cat", 1)).written.item.version == 2
        assert "already serves 2 labeling sessions" in refused("eve")
        assert ann.close() == grpc.StatusCode.OK
        eve = Session(project.stub("eve"))
        assert eve.send(project.write(2, "cat", 1)).written.item.version == 2
        assert eve.close() == bob.close() == grpc.StatusCode.OK


def test_a_server_stopping_under_labeling_sessions_loses_no_acknowledged_write(project: Project) -> None:
    """Sessions write as fast as they can while the server stops (short grace period): every write a
    client was told about is in the history, and every item's version counts exactly its events."""
    acknowledged: dict[str, list[str]] = {"ann": [], "bob": []}
    ended: dict[str, grpc.StatusCode] = {}
    started = threading.Barrier(3)

    def label(who: str, name: str, items: list[int]) -> None:
        session = Session(project.stub(who))
        versions = dict.fromkeys(items, 1)
        started.wait()
        try:
            while True:
                for item in items:
                    answer = session.send(project.write(item, name, versions[item]))
                    assert answer.WhichOneof("outcome") == "written", answer.error.message
                    acknowledged[who].append(answer.written.annotation.annotation_id)
                    versions[item] = answer.written.item.version
        except (grpc.RpcError, StopIteration):
            ended[who] = session.call.code()

    threads = [threading.Thread(target=label, args=(who, name, items))
               for who, name, items in (("ann", "cat", [0, 1, 2]), ("bob", "dog", [3, 4, 5]))]
    for thread in threads:
        thread.start()
    started.wait()
    deadline = time.monotonic() + WAIT_S
    while len(acknowledged["ann"]) + len(acknowledged["bob"]) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    project.labels.server.stop(0.2)
    for thread in threads:
        thread.join(WAIT_S)
    assert set(ended) == {"ann", "bob"}, "a session outlived the server"
    db = project.labels.core.db
    with db.read() as session:
        stored = set(session.scalars(select(Annotation.id).where(
            Annotation.project_id == project.project.project_id)))
        versions = dict(session.execute(select(Item.id, Item.version).where(
            Item.project_id == project.project.project_id)).all())
        events = dict(session.execute(select(Annotation.item_id, func.count()).where(
            Annotation.project_id == project.project.project_id).group_by(Annotation.item_id)).all())
    written = acknowledged["ann"] + acknowledged["bob"]
    assert len(written) >= 50 and set(written) <= stored
    assert all(versions[item] == events.get(item, 0) + 1 for item in project.items)
