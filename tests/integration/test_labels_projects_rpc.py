"""Projects, classes, memberships, users and the audit log over real gRPC on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from harvest.common.auth import Role
from harvest.v1 import common_pb2, labels_pb2
from tests.integration.labels_server import LabelsUnderTest, running_labels

pytestmark = pytest.mark.integration


@pytest.fixture
def labels(database_url: str) -> Iterator[LabelsUnderTest]:
    with running_labels(database_url) as under_test:
        yield under_test


def _error(call, *args) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        call(*args)
    return exc.value


def test_project_is_created_with_classes_colors_and_shortcuts(labels: LabelsUnderTest) -> None:
    expert = labels.client(labels.user("eve", Role.EXPERT)).labels
    project = expert.CreateProject(labels_pb2.CreateProjectRequest(name="Birds", description="garden", classes=[
        labels_pb2.NewClass(name="robin", color="#ff0000", shortcut="r"), labels_pb2.NewClass(name="wren")])).project
    robin, wren = project.classes
    assert (robin.color, robin.shortcut, robin.position) == ("#FF0000", "r", 0)
    assert wren.color.startswith("#") and wren.shortcut == "1" and wren.position == 1
    assert project.version == 1 and project.settings.required_annotations == 1 and project.settings.lease_s == 600
    members = expert.ListMembers(labels_pb2.ListMembersRequest(project_id=project.project_id)).members
    assert [m.username for m in members] == ["eve"], "the creator becomes a member"
    error = _error(expert.CreateProject, labels_pb2.CreateProjectRequest(name="Birds"))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    error = _error(expert.CreateProject, labels_pb2.CreateProjectRequest(name="x", classes=[
        labels_pb2.NewClass(name="a"), labels_pb2.NewClass(name="A")]))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    error = _error(expert.CreateProject, labels_pb2.CreateProjectRequest(name="y", classes=[
        labels_pb2.NewClass(name="a", color="red")]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "#RRGGBB" in error.details()


def test_annotators_cannot_create_projects(labels: LabelsUnderTest) -> None:
    ann = labels.client(labels.user("ann")).labels
    error = _error(ann.CreateProject, labels_pb2.CreateProjectRequest(name="mine"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_rename_and_settings_use_the_project_version(labels: LabelsUnderTest) -> None:
    token = labels.user("eve", Role.EXPERT)
    project, _ = labels.project(token, "birds")
    expert = labels.client(token).labels
    renamed = expert.RenameProject(labels_pb2.RenameProjectRequest(project_id=project.project_id, name="garden birds",
                                                                   expected_version=1)).project
    assert renamed.name == "garden birds" and renamed.version == 2
    error = _error(expert.RenameProject, labels_pb2.RenameProjectRequest(project_id=project.project_id, name="x",
                                                                         expected_version=1))
    assert error.code() == grpc.StatusCode.ABORTED
    assert dict(error.trailing_metadata())["harvest-current-version"] == "2"  # type: ignore[attr-defined]
    updated = expert.UpdateProjectSettings(labels_pb2.UpdateProjectSettingsRequest(
        project_id=project.project_id, expected_version=2, settings=labels_pb2.ProjectSettings(
            required_annotations=3, lease_s=120, agreement_threshold=0.66))).project
    assert updated.settings.required_annotations == 3 and updated.settings.lease_s == 120
    error = _error(expert.UpdateProjectSettings, labels_pb2.UpdateProjectSettingsRequest(
        project_id=project.project_id, settings=labels_pb2.ProjectSettings(agreement_threshold=0.4)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_archive_is_idempotent_and_read_only(labels: LabelsUnderTest) -> None:
    token = labels.user("eve", Role.EXPERT)
    project, _ = labels.project(token, "birds")
    expert = labels.client(token).labels
    request = labels_pb2.ArchiveProjectRequest(project_id=project.project_id, archived=True)
    first, second = expert.ArchiveProject(request).project, expert.ArchiveProject(request).project
    assert first.archived and second.version == first.version
    error = _error(expert.AddClass, labels_pb2.AddClassRequest(project_id=project.project_id,
                                                               class_def=labels_pb2.NewClass(name="owl")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert not expert.ListProjects(labels_pb2.ListProjectsRequest()).projects
    assert len(expert.ListProjects(labels_pb2.ListProjectsRequest(include_archived=True)).projects) == 1
    restored = expert.ArchiveProject(labels_pb2.ArchiveProjectRequest(project_id=project.project_id)).project
    assert not restored.archived


def test_class_rename_keeps_history_and_merge_relabels_items(labels: LabelsUnderTest) -> None:
    token = labels.user("eve", Role.EXPERT)
    project, items = labels.project(token, "birds", classes=("crow", "raven", "rook"), images=3)
    expert = labels.client(token).labels
    crow, raven, rook = (c.class_id for c in project.classes)
    renamed = expert.UpdateClass(labels_pb2.UpdateClassRequest(project_id=project.project_id, class_id=rook,
                                                               name="jackdaw", shortcut="j")).class_def
    assert renamed.name == "jackdaw" and list(renamed.previous_names) == ["rook"] and renamed.shortcut == "j"
    for item, cls in zip(items, (crow, raven, raven), strict=True):
        expert.Annotate(labels_pb2.AnnotateRequest(project_id=project.project_id, item_id=item, class_id=cls,
                                                   expected_version=1))
    merged = expert.MergeClasses(labels_pb2.MergeClassesRequest(project_id=project.project_id,
                                                                source_class_ids=[raven], target_class_id=crow))
    assert merged.relabeled_items == 2 and merged.target.class_id == crow
    listed = expert.ListItems(labels_pb2.ListItemsRequest(project_id=project.project_id)).items
    assert {i.class_id for i in listed} == {crow}
    history = expert.GetHistory(labels_pb2.GetHistoryRequest(project_id=project.project_id, item_id=items[1]))
    assert [(a.kind, a.previous_class_id, a.class_id) for a in history.annotations][-1] == (
        labels_pb2.ANNOTATION_KIND_MERGE, raven, crow)
    classes = {c.class_id: c for c in expert.GetProject(labels_pb2.GetProjectRequest(
        project_id=project.project_id)).project.classes}
    assert classes[raven].retired and classes[raven].merged_into == crow
    error = _error(expert.DeleteClass, labels_pb2.DeleteClassRequest(project_id=project.project_id, class_id=crow))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "merge" in error.details()
    assert expert.DeleteClass(labels_pb2.DeleteClassRequest(project_id=project.project_id,
                                                            class_id=rook)).project_version > merged.project_version
    error = _error(expert.MergeClasses, labels_pb2.MergeClassesRequest(project_id=project.project_id,
                                                                       source_class_ids=[crow],
                                                                       target_class_id=crow))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_membership_is_managed_by_admins_and_audited(labels: LabelsUnderTest) -> None:
    expert_token = labels.user("eve", Role.EXPERT)
    labels.user("ann")
    project, _ = labels.project(expert_token, "birds")
    expert = labels.client(expert_token).labels
    error = _error(expert.AddMember, labels_pb2.AddMemberRequest(project_id=project.project_id, username="ann"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    admin = labels.client(labels.admin_token).labels
    first = admin.AddMember(labels_pb2.AddMemberRequest(project_id=project.project_id, username="ann")).member
    again = admin.AddMember(labels_pb2.AddMemberRequest(project_id=project.project_id, username="ann")).member
    assert first.username == "ann" and first.role == common_pb2.ROLE_ANNOTATOR and again.added_at == first.added_at
    assert admin.RemoveMember(labels_pb2.RemoveMemberRequest(project_id=project.project_id, username="ann")).removed
    assert not admin.RemoveMember(labels_pb2.RemoveMemberRequest(project_id=project.project_id,
                                                                 username="ann")).removed
    error = _error(admin.AddMember, labels_pb2.AddMemberRequest(project_id=project.project_id, username="nobody"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    log = admin.GetAuditLog(labels_pb2.GetAuditLogRequest(project_id=project.project_id)).entries
    assert [e.action for e in log] == ["RemoveMember", "AddMember", "CreateProject"], "newest first, no duplicates"
    assert log[1].actor_username == "root" and log[1].details["username"] == "ann"


def test_audit_log_records_user_administration_and_filters(labels: LabelsUnderTest) -> None:
    admin = labels.client(labels.admin_token).labels
    admin.CreateUser(labels_pb2.CreateUserRequest(username="carl", role=common_pb2.ROLE_EXPERT, password="s3cret-pw"))
    issued = admin.IssueUserToken(labels_pb2.IssueUserTokenRequest(username="carl", ttl_s=3600))
    admin.RevokeUserToken(labels_pb2.RevokeUserTokenRequest(token_id=issued.info.token_id))
    updated = admin.UpdateUser(labels_pb2.UpdateUserRequest(username="carl", role=common_pb2.ROLE_ANNOTATOR))
    assert updated.user.role == common_pb2.ROLE_ANNOTATOR
    actions = [e.action for e in admin.GetAuditLog(labels_pb2.GetAuditLogRequest()).entries]
    assert actions == ["UpdateUser", "RevokeUserToken", "IssueUserToken", "CreateUser"]
    only = admin.GetAuditLog(labels_pb2.GetAuditLogRequest(action="CreateUser", page=common_pb2.PageRequest(
        page_size=1)))
    assert [e.details["username"] for e in only.entries] == ["carl"] and only.page.total_size == 1
    error = _error(admin.UpdateUser, labels_pb2.UpdateUserRequest(username="root", disabled=True))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, "the last admin cannot be disabled"


def test_users_and_tokens_are_listed_with_pagination(labels: LabelsUnderTest) -> None:
    for name in ("amy", "ben", "cat"):
        labels.user(name)
    admin = labels.client(labels.admin_token).labels
    seen, token = [], ""
    while True:
        page = admin.ListUsers(labels_pb2.ListUsersRequest(page=common_pb2.PageRequest(page_size=2,
                                                                                       page_token=token)))
        seen += [u.username for u in page.users]
        token = page.page.next_page_token
        if not token:
            break
    assert seen == ["amy", "ben", "cat", "root"] and page.page.total_size == 4
    error = _error(admin.ListUsers, labels_pb2.ListUsersRequest(role=common_pb2.ROLE_ADMIN,
                                                                page=common_pb2.PageRequest(page_token=token or "x")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    amy_tokens = admin.ListUserTokens(labels_pb2.ListUserTokensRequest(username="amy"))
    assert [t.username for t in amy_tokens.tokens] == ["amy"]
    mine = labels.client(labels.admin_token).labels.ListTokens(labels_pb2.ListTokensRequest())
    assert all(t.username == "root" for t in mine.tokens) and mine.tokens


def test_change_password_checks_the_current_one(labels: LabelsUnderTest) -> None:
    labels.core.users.create_user("pat", Role.ANNOTATOR, password="first-password")
    token, _ = labels.core.users.issue_token("pat")
    pat = labels.client(token).labels
    error = _error(pat.ChangePassword, labels_pb2.ChangePasswordRequest(current_password="wrong-one",
                                                                        new_password="second-password"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    pat.ChangePassword(labels_pb2.ChangePasswordRequest(current_password="first-password",
                                                        new_password="second-password"))
    login = labels.client(None).labels.Login(labels_pb2.LoginRequest(username="pat", password="second-password"))
    assert login.user.username == "pat"


def test_project_stats_count_labels_per_class_and_annotator(labels: LabelsUnderTest) -> None:
    token = labels.user("eve", Role.EXPERT)
    project, items = labels.project(token, "birds", images=4)
    expert = labels.client(token).labels
    cat = project.classes[0].class_id
    for item in items[:3]:
        expert.Annotate(labels_pb2.AnnotateRequest(project_id=project.project_id, item_id=item, class_id=cat,
                                                   expected_version=1))
    stats = expert.GetProjectStats(labels_pb2.GetProjectStatsRequest(project_id=project.project_id))
    assert (stats.items, stats.labeled, stats.unlabeled, stats.disagreements) == (4, 3, 1, 0)
    assert [(c.class_name, c.labeled) for c in stats.classes] == [("cat", 3), ("dog", 0), ("bird", 0)]
    assert [(a.username, a.annotations, a.items) for a in stats.annotators] == [("eve", 3, 3)]
