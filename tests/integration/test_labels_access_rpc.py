"""Who sees what, over real gRPC on SQLite and PostgreSQL: a non-member is refused by every project-scoped
method of LabelsService (found by walking the service descriptor, so a new method cannot be forgotten), the
refusal is the same whether the project exists or not, and revoked or expired tokens are rejected."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from harvest.common.auth import Role, TokenSigner
from harvest.v1 import common_pb2, labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration

SERVICE = labels_pb2.DESCRIPTOR.services_by_name["LabelsService"]


@dataclass(frozen=True)
class Target:
    """Ids of a project to aim a request at."""

    project_id: str
    item_id: str
    class_id: str
    other_class_id: str


Builder = Callable[[Target], Any]

#: A minimal valid request for every project-scoped method, naming the target project's own objects.
REQUESTS: dict[str, Builder] = {
    "GetProject": lambda t: labels_pb2.GetProjectRequest(project_id=t.project_id),
    "RenameProject": lambda t: labels_pb2.RenameProjectRequest(project_id=t.project_id, name="renamed"),
    "UpdateProjectSettings": lambda t: labels_pb2.UpdateProjectSettingsRequest(project_id=t.project_id,
                                                                               description="d"),
    "ArchiveProject": lambda t: labels_pb2.ArchiveProjectRequest(project_id=t.project_id, archived=False),
    "GetProjectStats": lambda t: labels_pb2.GetProjectStatsRequest(project_id=t.project_id),
    "AddClass": lambda t: labels_pb2.AddClassRequest(project_id=t.project_id,
                                                     class_def=labels_pb2.NewClass(name="fish")),
    "UpdateClass": lambda t: labels_pb2.UpdateClassRequest(project_id=t.project_id, class_id=t.class_id,
                                                           color="#123456"),
    "MergeClasses": lambda t: labels_pb2.MergeClassesRequest(project_id=t.project_id,
                                                             source_class_ids=[t.other_class_id],
                                                             target_class_id=t.class_id),
    "DeleteClass": lambda t: labels_pb2.DeleteClassRequest(project_id=t.project_id, class_id=t.other_class_id),
    "AddMember": lambda t: labels_pb2.AddMemberRequest(project_id=t.project_id, username="ann"),
    "RemoveMember": lambda t: labels_pb2.RemoveMemberRequest(project_id=t.project_id, username="ann"),
    "ListMembers": lambda t: labels_pb2.ListMembersRequest(project_id=t.project_id),
    "RegisterItems": lambda t: labels_pb2.RegisterItemsRequest(
        project_id=t.project_id, items=[labels_pb2.NewItem(image_id="ab" * 32, original_name="x.png")]),
    "ListItems": lambda t: labels_pb2.ListItemsRequest(project_id=t.project_id),
    "GetItem": lambda t: labels_pb2.GetItemRequest(project_id=t.project_id, item_id=t.item_id),
    "Annotate": lambda t: labels_pb2.AnnotateRequest(project_id=t.project_id, item_id=t.item_id,
                                                     class_id=t.class_id, expected_version=1),
    "AnnotateStream": lambda t: iter([labels_pb2.AnnotateRequest(project_id=t.project_id, item_id=t.item_id,
                                                                  class_id=t.class_id, expected_version=1)]),
    "BatchAnnotate": lambda t: labels_pb2.BatchAnnotateRequest(
        project_id=t.project_id, class_id=t.class_id,
        items=[labels_pb2.ItemVersion(item_id=t.item_id, expected_version=1)]),
    "Undo": lambda t: labels_pb2.UndoRequest(project_id=t.project_id, item_id=t.item_id, expected_version=1),
    "GetHistory": lambda t: labels_pb2.GetHistoryRequest(project_id=t.project_id),
    "WatchAnnotations": lambda t: labels_pb2.WatchAnnotationsRequest(project_id=t.project_id),
    "AssignItems": lambda t: labels_pb2.AssignItemsRequest(project_id=t.project_id, username="ann", count=1),
    "GetAgreement": lambda t: labels_pb2.GetAgreementRequest(project_id=t.project_id, item_ids=[t.item_id]),
    "ListReviewQueue": lambda t: labels_pb2.ListReviewQueueRequest(project_id=t.project_id),
    "Review": lambda t: labels_pb2.ReviewRequest(project_id=t.project_id, item_id=t.item_id, class_id=t.class_id,
                                                 expected_version=1),
    "NextItems": lambda t: labels_pb2.NextItemsRequest(project_id=t.project_id, n=1),
    "ReleaseLease": lambda t: labels_pb2.ReleaseLeaseRequest(project_id=t.project_id),
    "PutPredictions": lambda t: labels_pb2.PutPredictionsRequest(
        project_id=t.project_id, model_id="m1", predictions=[labels_pb2.ItemPrediction(
            item_id=t.item_id, prediction=common_pb2.Prediction(probabilities=[
                common_pb2.ClassProbability(class_id=t.class_id, probability=1.0)]))]),
    "PutSuspectedErrors": lambda t: labels_pb2.PutSuspectedErrorsRequest(project_id=t.project_id,
                                                                         detector="confident_learning"),
    "ListSuspectedErrors": lambda t: labels_pb2.ListSuspectedErrorsRequest(project_id=t.project_id),
    "FreezeSnapshot": lambda t: labels_pb2.FreezeSnapshotRequest(project_id=t.project_id),
    "ListSnapshots": lambda t: labels_pb2.ListSnapshotsRequest(project_id=t.project_id),
    "ImportLabels": lambda t: iter([
        labels_pb2.ImportLabelsRequest(options=labels_pb2.ImportLabelsOptions(
            project_id=t.project_id, format=labels_pb2.LABEL_FORMAT_CSV)),
        labels_pb2.ImportLabelsRequest(chunk=b"image,label\nimg0000.png,cat\n")]),
    "ExportLabels": lambda t: labels_pb2.ExportLabelsRequest(project_id=t.project_id,
                                                             format=labels_pb2.LABEL_FORMAT_CSV),
    "GetAuditLog": lambda t: labels_pb2.GetAuditLogRequest(project_id=t.project_id),
}


def project_scoped(method: Any) -> bool:
    fields = method.input_type.fields_by_name
    if "project_id" in fields:
        return True
    options = fields.get("options")
    return options is not None and "project_id" in options.message_type.fields_by_name


#: Streams that stay open until the client ends them, with the header their server sends once it accepts one.
LIVE_STREAMS = {"WatchAnnotations": "harvest-start-sequence"}


def call(stub: Any, method: Any, request: Any) -> tuple[grpc.StatusCode, str]:
    """Invoke any method shape; the status it ends with (OK when it succeeds, or when a live stream was
    accepted and this client ended it)."""
    try:
        response = getattr(stub, method.name)(request)
        if method.name in LIVE_STREAMS:
            accepted = LIVE_STREAMS[method.name] in dict(response.initial_metadata())  # or refused
            response.cancel()
            if accepted:
                return grpc.StatusCode.OK, ""
            list(response)  # raises the refusal
        if method.server_streaming:
            list(response)
    except grpc.RpcError as exc:
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


@dataclass
class World:
    labels: LabelsUnderTest
    mine: Target
    other: Target
    tokens: dict[str, str]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with running_labels(database_url) as labels:
        owner = labels.user("owner", Role.EXPERT)
        tokens = {"annotator": labels.user("ann"), "expert": labels.user("exp", Role.EXPERT)}
        targets = []
        for name in ("mine", "other"):
            project, items = labels.project(owner, name, images=2)
            classes = [c.class_id for c in project.classes]
            targets.append(Target(project.project_id, items[0], classes[0], classes[1]))
        for username in ("ann", "exp"):
            labels.member(targets[0].project_id, username)
        yield World(labels, targets[0], targets[1], tokens)


def test_every_project_scoped_method_has_a_request_here() -> None:
    scoped = {m.name for m in SERVICE.methods if project_scoped(m)}
    assert scoped == set(REQUESTS), f"add minimal requests for {scoped - set(REQUESTS)}"


@pytest.mark.parametrize("role", ["annotator", "expert"])
def test_non_member_is_refused_by_every_project_scoped_method(world: World, role: str) -> None:
    client = world.labels.client(world.tokens[role])
    missing = Target("f" * 32, "e" * 32, "d" * 32, "c" * 32)
    leaks = []
    for method in SERVICE.methods:
        if not project_scoped(method):
            continue
        code, message = call(client.labels, method, REQUESTS[method.name](world.other))
        missing_code, missing_message = call(client.labels, method, REQUESTS[method.name](missing))
        if code != grpc.StatusCode.PERMISSION_DENIED:
            leaks.append(f"{method.name}: {code.name} {message}")
        elif (message.replace(world.other.project_id, "<id>") != missing_message.replace(missing.project_id, "<id>")
              or missing_code != code or "other" in message):
            leaks.append(f"{method.name}: refusal differs for a missing project: {message!r} / {missing_message!r}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("role", ["annotator", "expert"])
def test_the_same_requests_pass_the_membership_check_in_ones_own_project(world: World, role: str) -> None:
    """The requests above are valid ones: in the caller's own project only the role can refuse them."""
    client = world.labels.client(world.tokens[role])
    caller = Role.ANNOTATOR if role == "annotator" else Role.EXPERT
    for method in SERVICE.methods:
        if not project_scoped(method):
            continue
        code, message = call(client.labels, method, REQUESTS[method.name](world.mine))
        allowed = method.GetOptions().Extensions[common_pb2.min_role] <= caller
        if allowed:
            assert code != grpc.StatusCode.PERMISSION_DENIED, f"{method.name}: {message}"
        else:
            assert code == grpc.StatusCode.PERMISSION_DENIED and "role" in message, method.name


def test_project_lists_show_only_memberships(world: World) -> None:
    for token in world.tokens.values():
        listed = world.labels.client(token).labels.ListProjects(labels_pb2.ListProjectsRequest())
        assert [p.name for p in listed.projects] == ["mine"] and listed.page.total_size == 1
    admin = world.labels.client(world.labels.admin_token).labels.ListProjects(labels_pb2.ListProjectsRequest())
    assert [p.name for p in admin.projects] == ["mine", "other"]


def test_removing_a_member_takes_effect_on_the_next_call(world: World) -> None:
    ann = world.labels.client(world.tokens["annotator"])
    ann.labels.GetProject(labels_pb2.GetProjectRequest(project_id=world.mine.project_id))
    world.labels.client(world.labels.admin_token).labels.RemoveMember(
        labels_pb2.RemoveMemberRequest(project_id=world.mine.project_id, username="ann"))
    code, _ = call(ann.labels, SERVICE.methods_by_name["GetProject"],
                   labels_pb2.GetProjectRequest(project_id=world.mine.project_id))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_revoked_token_is_rejected_for_project_calls(world: World) -> None:
    token, principal = world.labels.core.users.issue_token("ann", ttl_s=600)
    client = world.labels.client(token)
    request = labels_pb2.ListItemsRequest(project_id=world.mine.project_id)
    assert len(client.labels.ListItems(request).items) == 2
    world.labels.core.users.revoke_token(principal.token_id)
    code, message = call(client.labels, SERVICE.methods_by_name["ListItems"], request)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in message


def test_expired_token_is_rejected(world: World) -> None:
    user = world.labels.core.users.get_user("ann")
    signer = TokenSigner(world.labels.auth)
    expired, _ = signer.issue(user_id=user.id, username="ann", role=Role.ANNOTATOR, ttl_s=60,
                              now=time.time() - 3600)
    code, message = call(world.labels.client(expired).labels, SERVICE.methods_by_name["ListItems"],
                         labels_pb2.ListItemsRequest(project_id=world.mine.project_id))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "expired" in message


def test_token_of_a_disabled_user_is_rejected(world: World) -> None:
    client = world.labels.client(world.tokens["annotator"])
    world.labels.client(world.labels.admin_token).labels.UpdateUser(
        labels_pb2.UpdateUserRequest(username="ann", disabled=True))
    code, message = call(client.labels, SERVICE.methods_by_name["WhoAmI"], labels_pb2.WhoAmIRequest())
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in message
