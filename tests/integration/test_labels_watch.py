"""WatchAnnotations over real gRPC on SQLite and PostgreSQL: live events in order with gap-free sequences
and the item's state, resuming from a sequence replays exactly what was missed, 0 means only new events,
bad sequences are refused, blind projects show annotators only their own events, concurrent writers (label,
undo, batch) each get their event delivered exactly once, a removed member is refused mid-stream, and the
stream ends at once when the client cancels or the server ends the call."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from sqlalchemy import text

from harvest.common.auth import Role
from harvest.labels.event_feed import Sequencer, sequencer_lock_key
from harvest.labels.servicer import START_SEQUENCE_HEADER
from harvest.labels.settings import LabelsSettings
from harvest.v1 import labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration

WAIT_S = 10.0  # the longest a test waits for an event it expects (normally a few poll intervals)


class Watcher:
    """One WatchAnnotations stream, read by a thread into a queue so a test can wait with a timeout."""

    def __init__(self, stub, project_id: str, after: int = 0,  # type: ignore[no-untyped-def]
                 from_beginning: bool = False) -> None:
        self.call = stub.WatchAnnotations(labels_pb2.WatchAnnotationsRequest(
            project_id=project_id, after_sequence=after, from_beginning=from_beginning), timeout=60)
        headers = dict(self.call.initial_metadata())
        if START_SEQUENCE_HEADER not in headers:  # refused: reading raises the call's error
            next(iter(self.call))
        self.start = int(headers[START_SEQUENCE_HEADER])
        self._events: queue.Queue[labels_pb2.AnnotationEvent | grpc.RpcError] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for event in self.call:
                self._events.put(event)
        except grpc.RpcError as exc:
            self._events.put(exc)

    def take(self, count: int) -> list[labels_pb2.AnnotationEvent]:
        events = []
        deadline = time.monotonic() + WAIT_S
        for _ in range(count):
            got = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            assert not isinstance(got, grpc.RpcError), f"stream ended after {len(events)} events: {got}"
            events.append(got)
        return events

    def assert_quiet(self, seconds: float = 0.3) -> None:
        """Nothing more arrives (several poll intervals)."""
        with pytest.raises(queue.Empty):
            extra = self._events.get(timeout=seconds)
            pytest.fail(f"unexpected message: {extra}")

    def cancel(self) -> grpc.StatusCode:
        self.call.cancel()
        self._reader.join(WAIT_S)
        return self.call.code()


@dataclass
class Team:
    labels: LabelsUnderTest
    project: labels_pb2.Project
    items: list[str]
    tokens: dict[str, str]

    @property
    def project_id(self) -> str:
        return self.project.project_id

    def cls(self, name: str) -> str:
        return next(c.class_id for c in self.project.classes if c.name == name)

    def stub(self, who: str):  # type: ignore[no-untyped-def]
        return self.labels.client(self.tokens[who]).labels

    def watch(self, who: str = "eve", after: int = 0, from_beginning: bool = False) -> Watcher:
        return Watcher(self.stub(who), self.project_id, after, from_beginning)

    def annotate(self, who: str, item: int, name: str, version: int) -> labels_pb2.AnnotateResponse:
        return self.stub(who).Annotate(labels_pb2.AnnotateRequest(
            project_id=self.project_id, item_id=self.items[item], class_id=self.cls(name), expected_version=version))


def _team(labels: LabelsUnderTest, blind: bool = False) -> Team:
    tokens = {"eve": labels.user("eve", Role.EXPERT), **{name: labels.user(name) for name in ("ann", "bob", "cid")}}
    project = labels.client(tokens["eve"]).labels.CreateProject(labels_pb2.CreateProjectRequest(
        name="birds", classes=[labels_pb2.NewClass(name=c) for c in ("cat", "dog", "bird")],
        settings=labels_pb2.ProjectSettings(required_annotations=2 if blind else 1, blind_annotation=blind))).project
    registered = labels.client(tokens["eve"]).labels.RegisterItems(labels_pb2.RegisterItemsRequest(
        project_id=project.project_id,
        items=[labels_pb2.NewItem(image_id=f"{i:064x}", original_name=f"img{i}.png") for i in range(12)]))
    for name in ("ann", "bob", "cid"):
        labels.member(project.project_id, name)
    return Team(labels, project, [r.item_id for r in registered.items], tokens)


@pytest.fixture
def team(database_url: str) -> Iterator[Team]:
    with running_labels(database_url) as labels:
        yield _team(labels)


def test_live_events_arrive_in_order_with_gap_free_sequences_and_the_item_state(team: Team) -> None:
    watcher = team.watch()
    assert watcher.start == 0
    first = team.annotate("eve", 0, "cat", 1).annotation
    (event,) = watcher.take(1)
    assert (event.sequence, event.annotation.annotation_id, event.annotation.username) == (1, first.annotation_id,
                                                                                           "eve")
    assert event.item.item_id == team.items[0] and event.item.version == 2 and event.item.class_id == team.cls("cat")

    second = team.annotate("ann", 1, "dog", 1).annotation
    third = team.annotate("eve", 0, "bird", 2).annotation
    events = watcher.take(2)
    assert [(e.sequence, e.annotation.annotation_id) for e in events] == [(2, second.annotation_id),
                                                                          (3, third.annotation_id)]
    assert events[0].item.class_id == team.cls("dog") and events[0].annotation.item_version == 2
    assert events[1].item.version == 3 and events[1].annotation.previous_class_id == team.cls("cat")
    watcher.assert_quiet()


def test_replayed_events_carry_the_item_as_it_is_when_sent(team: Team) -> None:
    """An item version above the event's means later events of that item follow."""
    team.annotate("eve", 1, "cat", 1)
    second = team.annotate("eve", 0, "cat", 1).annotation
    third = team.annotate("eve", 0, "dog", 2).annotation
    first, last = team.watch(after=1).take(2)
    assert [first.annotation.annotation_id, last.annotation.annotation_id] == [second.annotation_id,
                                                                               third.annotation_id]
    assert first.annotation.item_version == 2 and first.item.version == 3
    assert last.annotation.item_version == 3 and last.item.version == 3
    assert first.item.class_id == last.item.class_id == team.cls("dog")


def test_resuming_replays_exactly_the_missed_events(team: Team) -> None:
    watcher = team.watch()
    seen = [team.annotate("ann", i, "cat", 1).annotation.annotation_id for i in range(3)]
    assert [e.annotation.annotation_id for e in watcher.take(3)] == seen
    assert watcher.cancel() == grpc.StatusCode.CANCELLED
    missed = [team.annotate("bob", i, "dog", 1).annotation.annotation_id for i in range(3, 5)]

    resumed = team.watch(after=3)
    assert resumed.start == 3
    assert [(e.sequence, e.annotation.annotation_id) for e in resumed.take(2)] == [(4, missed[0]), (5, missed[1])]
    resumed.assert_quiet()
    live = team.annotate("cid", 5, "bird", 1).annotation.annotation_id
    assert [(e.sequence, e.annotation.annotation_id) for e in resumed.take(1)] == [(6, live)]


def test_after_sequence_zero_sends_only_events_written_after_the_call(team: Team) -> None:
    for i in range(2):
        team.annotate("ann", i, "cat", 1)
    watcher = team.watch(after=0)
    assert watcher.start == 2  # the header names where to resume should the stream drop before any event
    watcher.assert_quiet()
    new = team.annotate("ann", 2, "cat", 1).annotation.annotation_id
    assert [(e.sequence, e.annotation.annotation_id) for e in watcher.take(1)] == [(3, new)]


@pytest.mark.parametrize(("after", "message"), [(-1, "must not be negative"),
                                                (3, "beyond the last sequence of this project, 2")])
def test_a_negative_or_unknown_after_sequence_is_invalid_argument(team: Team, after: int, message: str) -> None:
    for i in range(2):
        team.annotate("ann", i, "cat", 1)
    call = team.stub("ann").WatchAnnotations(
        labels_pb2.WatchAnnotationsRequest(project_id=team.project_id, after_sequence=after), timeout=WAIT_S)
    with pytest.raises(grpc.RpcError) as error:
        next(call)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in error.value.details()


def test_in_blind_projects_annotators_receive_only_their_own_events(database_url: str) -> None:
    with running_labels(database_url) as labels:
        team = _team(labels, blind=True)
        watchers = {who: team.watch(who) for who in ("eve", "ann", "bob")}
        ids = [team.annotate("ann", 0, "cat", 1).annotation.annotation_id,
               team.annotate("bob", 0, "dog", 1).annotation.annotation_id,
               team.annotate("ann", 1, "cat", 1).annotation.annotation_id]
        everything = watchers["eve"].take(3)
        assert [(e.sequence, e.annotation.annotation_id) for e in everything] == list(enumerate(ids, start=1))
        ann, bob = watchers["ann"].take(2), watchers["bob"].take(1)
        assert [(e.sequence, e.annotation.annotation_id) for e in ann] == [(1, ids[0]), (3, ids[2])]
        assert [(e.sequence, e.annotation.annotation_id) for e in bob] == [(2, ids[1])]
        ann_ids = {labels.core.users.get_user(name).id: name for name in ("ann", "bob")}
        assert [ann_ids[u] for u in ann[0].item.annotator_ids] == ["ann"]  # the item shows no one else's vote
        assert sorted(ann_ids[u] for u in everything[1].item.annotator_ids) == ["ann", "bob"]
        for who in ("ann", "bob"):
            watchers[who].assert_quiet()


def test_concurrent_writers_each_get_their_event_delivered_exactly_once(team: Team) -> None:
    """Labels, relabels, undos and batches from four users at once: every acknowledged event arrives once,
    numbered 1..N without gaps, although writers commit in whatever order they finish; two watchers (two
    sequencers racing to number the same events) receive the same sequence."""
    watchers = [team.watch("eve"), team.watch("ann")]
    acknowledged: list[str] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work(who: str, first: int) -> None:
        stub = team.stub(who)
        versions = dict.fromkeys(team.items[first:first + 3], 1)
        mine = list(versions)
        ids: list[str] = []

        def wrote(item: labels_pb2.Item, annotation: labels_pb2.Annotation) -> None:
            versions[item.item_id] = item.version
            ids.append(annotation.annotation_id)

        try:
            for round_ in range(3):
                for item_id in mine[:2]:
                    done = stub.Annotate(labels_pb2.AnnotateRequest(
                        project_id=team.project_id, item_id=item_id, class_id=team.cls(("cat", "dog")[round_ % 2]),
                        expected_version=versions[item_id]))
                    wrote(done.item, done.annotation)
                undone = stub.Undo(labels_pb2.UndoRequest(project_id=team.project_id, item_id=mine[0],
                                                          expected_version=versions[mine[0]]))
                wrote(undone.item, undone.annotation)
            batch = stub.BatchAnnotate(labels_pb2.BatchAnnotateRequest(
                project_id=team.project_id, class_id=team.cls("bird"),
                items=[labels_pb2.ItemVersion(item_id=i, expected_version=versions[i]) for i in mine]))
            for item, annotation in zip(batch.items, batch.annotations, strict=True):
                wrote(item, annotation)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            failures.append(exc)
        with lock:
            acknowledged.extend(ids)

    threads = [threading.Thread(target=work, args=(who, 3 * n)) for n, who in enumerate(("eve", "ann", "bob", "cid"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert len(acknowledged) == 4 * (3 * 3 + 3)
    events = watchers[0].take(len(acknowledged))
    assert [e.sequence for e in events] == list(range(1, len(acknowledged) + 1))
    assert sorted(e.annotation.annotation_id for e in events) == sorted(acknowledged)
    assert [(e.sequence, e.annotation.annotation_id) for e in watchers[1].take(len(acknowledged))] == \
        [(e.sequence, e.annotation.annotation_id) for e in events]
    for watcher in watchers:
        watcher.assert_quiet()


def test_a_member_removed_while_watching_is_refused_at_the_next_event(team: Team) -> None:
    watcher = team.watch("ann")
    team.labels.client(team.labels.admin_token).labels.RemoveMember(
        labels_pb2.RemoveMemberRequest(project_id=team.project_id, username="ann"))
    team.annotate("eve", 0, "cat", 1)
    with pytest.raises(AssertionError, match="PERMISSION_DENIED"):
        watcher.take(1)


def _streams_become(labels: LabelsUnderTest, count: int, within_s: float) -> bool:
    """Whether the server's open streams (each holding a serving thread) reach `count` within the time."""
    deadline = time.monotonic() + within_s
    while labels.core.feed.open_streams != count:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def slow_poll(database_url: str) -> Iterator[Team]:
    """A server polling every 30 s: a stream that ends within a second ended on its own signal."""
    with running_labels(database_url, settings=LabelsSettings(watch_interval_s=30)) as labels:
        yield _team(labels)


def test_the_stream_ends_at_once_when_the_client_cancels(slow_poll: Team) -> None:
    watcher = slow_poll.watch()
    assert not _streams_become(slow_poll.labels, 0, 0.2)
    assert watcher.cancel() == grpc.StatusCode.CANCELLED
    assert _streams_become(slow_poll.labels, 0, 2.0)


def test_the_stream_ends_at_once_when_the_server_ends_its_calls(slow_poll: Team) -> None:
    """A stopping server ends open calls when its grace period is over (here: none)."""
    watcher = slow_poll.watch()
    assert not _streams_become(slow_poll.labels, 0, 0.2)
    slow_poll.labels.server.stop(0)
    assert _streams_become(slow_poll.labels, 0, 2.0)
    with pytest.raises(AssertionError, match="stream ended"):
        watcher.take(1)


def test_sequencers_of_one_project_take_turns_on_postgresql(postgres_url: str) -> None:
    """Two sequencers that both read the same highest number would give it twice: on PostgreSQL a sequencer
    waits for the project's advisory lock (SQLite's write transaction already serializes them)."""
    with running_labels(postgres_url) as labels:
        team = _team(labels)
        team.annotate("ann", 0, "cat", 1)
        numbered: list[int] = []
        sequencer = Sequencer(labels.core.db)
        with labels.core.db.engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": sequencer_lock_key(team.project_id)})
            waiting = threading.Thread(target=lambda: numbered.append(sequencer.number(team.project_id)))
            waiting.start()
            waiting.join(0.5)
            assert waiting.is_alive() and numbered == []
            holder.commit()
        waiting.join(WAIT_S)
        assert numbered == [1]


def test_a_stream_that_started_on_an_empty_project_resumes_from_the_beginning(team: Team) -> None:
    """Header 0 (no event yet), stream lost, events written meanwhile: from_beginning replays them all,
    where after_sequence 0 would start after them."""
    first = team.watch()
    assert first.start == 0
    first.cancel()
    written = [team.annotate("eve", index, "dog", 1).annotation.annotation_id for index in range(3)]
    resumed = team.watch(from_beginning=True)
    assert resumed.start == 0
    events = resumed.take(3)
    assert [e.sequence for e in events] == [1, 2, 3]
    assert [e.annotation.annotation_id for e in events] == written
    resumed.cancel()
    later = team.watch()
    assert later.start == 3
    later.assert_quiet()
    later.cancel()
    with pytest.raises(grpc.RpcError) as refused:
        next(iter(team.stub("eve").WatchAnnotations(labels_pb2.WatchAnnotationsRequest(
            project_id=team.project_id, after_sequence=1, from_beginning=True), timeout=10)))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not both" in (refused.value.details() or "")


def test_open_streams_are_capped_in_all_and_per_user(database_url: str) -> None:
    """Each stream holds a serving thread: past the caps a new one is refused with RESOURCE_EXHAUSTED (and a
    reason), and a closed stream frees its place."""
    settings = LabelsSettings(watch_interval_s=0.05, max_watch_streams=2, max_watch_streams_per_user=1)
    with running_labels(database_url, settings=settings) as labels:
        team = _team(labels)

        def refused(who: str) -> str:
            with pytest.raises(grpc.RpcError) as error:
                team.watch(who)
            assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            return error.value.details() or ""

        eve = team.watch("eve")
        assert "you already have 1" in refused("eve")
        ann = team.watch("ann")
        assert "already serves 2" in refused("bob")
        eve.cancel()
        assert _streams_become(labels, 1, WAIT_S)  # the server notices the cancel within a moment
        bob = team.watch("bob")
        team.annotate("eve", 0, "cat", 1)
        assert [e.sequence for e in bob.take(1)] == [1]
        bob.cancel()
        ann.cancel()


def test_a_token_revoked_while_streaming_ends_the_stream(team: Team) -> None:
    watcher = team.watch("ann")
    whoami = team.stub("ann").WhoAmI(labels_pb2.WhoAmIRequest())
    team.stub("ann").RevokeToken(labels_pb2.RevokeTokenRequest(token_id=whoami.token.token_id))
    deadline = time.monotonic() + WAIT_S
    while watcher.call.code() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watcher.call.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in (watcher.call.details() or "")
