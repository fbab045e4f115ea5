"""Group-committed label writes on the real PostgreSQL server: one batched statement decides every write of
the batch by the same rules as a write alone, a repeated request id in a batch costs nothing but a retry of
that batch one by one, and concurrent annotators over gRPC share batches without losing a write."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pytest

from harvest.common.auth import Principal, Role, TokenSigner
from harvest.v1 import labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration


@pytest.fixture
def labels(postgres_url: str) -> Iterator[LabelsUnderTest]:
    with running_labels(postgres_url) as under_test:
        yield under_test


def _principal(labels: LabelsUnderTest, token: str) -> Principal:
    return TokenSigner(labels.auth).verify(token)


def _classes(project: labels_pb2.Project) -> dict[str, str]:
    return {c.name: c.class_id for c in project.classes}


def _history(labels: LabelsUnderTest, token: str, project_id: str, item_id: str) -> list[labels_pb2.Annotation]:
    return list(labels.client(token).labels.GetHistory(
        labels_pb2.GetHistoryRequest(project_id=project_id, item_id=item_id)).annotations)


def test_one_batch_decides_each_write_by_the_rules_of_a_single_write(labels: LabelsUnderTest) -> None:
    expert = labels.user("eve", Role.EXPERT)
    ann = labels.user("ann")
    outsider = labels.user("oz")
    project, items = labels.project(expert, "birds", images=6)
    labels.member(project.project_id, "ann")
    classes = _classes(project)
    labels.client(expert).labels.MergeClasses(labels_pb2.MergeClassesRequest(
        project_id=project.project_id, source_class_ids=[classes["bird"]], target_class_id=classes["cat"]))
    writer = labels.core.annotations.direct_writer
    p, who, nobody = project.project_id, _principal(labels, ann), _principal(labels, outsider)
    batch = [
        writer.request(who, p, items[0], 1, classes["cat"]),           # fine
        writer.request(who, p, items[1], 5, classes["cat"]),           # stale version
        writer.request(nobody, p, items[2], 1, classes["cat"]),        # not a member
        writer.request(who, p, items[3], 1, None),                     # a clear: fine
        writer.request(who, p, items[4], 1, classes["bird"]),          # merged (retired) class
        writer.request(who, p, items[5], 1, classes["dog"], request_id="r-1"),  # fine
    ]
    results = writer.write_batch(batch)
    assert [row is not None for row, _ in results] == [True, False, False, True, False, True]
    assert [row.version for row, _ in results if row is not None] == [2, 2, 2]
    assert len({when for _, when in results}) == 1  # committed together
    for index, expected_events in enumerate([1, 0, 0, 1, 0, 1]):
        history = _history(labels, expert, p, items[index])
        assert len(history) == expected_events, index
    assert _history(labels, expert, p, items[0])[0].annotation_id == batch[0]["annotation_id"]
    assert _history(labels, expert, p, items[5])[0].class_id == classes["dog"]


def test_a_repeated_request_id_in_a_batch_writes_the_others_and_leaves_the_replay_to_the_general_path(
        labels: LabelsUnderTest) -> None:
    expert = labels.user("eve", Role.EXPERT)
    ann = labels.user("ann")
    project, items = labels.project(expert, "birds", images=3)
    labels.member(project.project_id, "ann")
    cat = _classes(project)["cat"]
    writer = labels.core.annotations.direct_writer
    who, p = _principal(labels, ann), project.project_id
    assert writer.write_batch([writer.request(who, p, items[0], 1, cat, request_id="once")])[0][0] is not None
    results = writer.write_batch([writer.request(who, p, items[1], 1, cat, request_id="once"),
                                  writer.request(who, p, items[2], 1, cat)])
    assert [row is not None for row, _ in results] == [False, True]
    assert [len(_history(labels, expert, p, item)) for item in items] == [1, 0, 1]
    # Over gRPC the same retry is answered with the first write's result, not a second event.
    stub = labels.client(ann).labels
    again = stub.Annotate(labels_pb2.AnnotateRequest(project_id=p, item_id=items[0], class_id=cat,
                                                     expected_version=1, client_request_id="once"))
    assert again.item.version == 2 and len(_history(labels, expert, p, items[0])) == 1


def test_concurrent_annotators_share_batches_and_every_acknowledged_write_is_in_the_history(
        labels: LabelsUnderTest) -> None:
    expert = labels.user("eve", Role.EXPERT)
    writers, rounds = 12, 15
    tokens = [labels.user(f"w{i}") for i in range(writers)]
    project, items = labels.project(expert, "birds", images=writers)
    for i in range(writers):
        labels.member(project.project_id, f"w{i}")
    names = list(_classes(project).values())
    group = labels.core.annotations.direct_writer.group_commit
    assert group is not None
    before = (group.batches, group.writes)
    acknowledged: list[list[str]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def label(index: int) -> None:
        stub = labels.client(tokens[index]).labels
        version = 1
        barrier.wait()
        try:
            for step in range(rounds):
                reply = stub.Annotate(labels_pb2.AnnotateRequest(
                    project_id=project.project_id, item_id=items[index], class_id=names[step % len(names)],
                    expected_version=version))
                version = reply.item.version
                acknowledged[index].append(reply.annotation.annotation_id)
        except grpc.RpcError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=label, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    batches, writes = group.batches - before[0], group.writes - before[1]
    assert writes == writers * rounds
    assert batches < writes  # some writes shared a statement
    for index, item in enumerate(items):
        history = _history(labels, expert, project.project_id, item)
        assert [a.annotation_id for a in history] == acknowledged[index]
        assert [a.item_version for a in history] == list(range(2, rounds + 2))
