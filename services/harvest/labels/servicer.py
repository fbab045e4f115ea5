"""gRPC layer of the labels service: validates and translates messages over the core, nothing else.

It runs on the asyncio server (`HarvestServer(asyncio=True)`): the label writes (Annotate, AnnotateStream)
are coroutines, the other methods blocking handlers the server runs in its threads.

Every business rule lives in the core contexts (see service.LabelsCore); errors are domain exceptions
mapped to status codes by the shared interceptor.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc

from harvest.common.auth import Role, current_principal, parse_bearer
from harvest.common.errors import InvalidArgument, status_for
from harvest.common.server import Register, registrar
from harvest.common.streams import LiveCall
from harvest.labels import audit
from harvest.labels import messages as m
from harvest.labels.annotations import HistoryQuery, LabelWrite
from harvest.labels.audit import AuditQuery
from harvest.labels.classes import ClassChange, ClassSpec
from harvest.labels.events import WriteResult
from harvest.labels.imports import ImportOptions
from harvest.labels.items import ItemQuery, ItemView, NewItemSpec
from harvest.labels.predictions import ClassProbability, PredictionSpec, SuspicionSpec
from harvest.labels.projects import ProjectSettings
from harvest.labels.service import LabelsCore
from harvest.labels.snapshots_freeze import DEFAULT_VALIDATION_FRACTION, FreezeOptions
from harvest.labels.states import LabelSource, QueueStrategy, SuggestedLabelPolicy
from harvest.v1 import common_pb2, labels_pb2, labels_pb2_grpc

MAX_CHUNK = common_pb2.LIMIT_MAX_CHUNK_BYTES
#: WatchAnnotations response header: the sequence the stream continues after.
START_SEQUENCE_HEADER = "harvest-start-sequence"


def _ttl(value: int) -> int | None:
    """0 means the deployment's default lifetime."""
    return None if value == 0 else value


def _required(value: str, name: str) -> str:
    if not value:
        raise InvalidArgument(f"{name} is required")
    return value


def _source(value: int) -> LabelSource:
    return LabelSource(value) if value else LabelSource.HUMAN


def _settings(message: labels_pb2.ProjectSettings) -> ProjectSettings:
    return ProjectSettings(message.required_annotations, message.lease_s, message.blind_annotation,
                           message.agreement_threshold, message.max_active_jobs)


def _class_spec(message: labels_pb2.NewClass) -> ClassSpec:
    return ClassSpec(message.name, message.color, message.shortcut, message.description)


def _item_query(message: labels_pb2.ItemFilter) -> ItemQuery:
    labeled = {labels_pb2.LABEL_FILTER_LABELED: True, labels_pb2.LABEL_FILTER_UNLABELED: False}.get(message.label)
    return ItemQuery(labeled=labeled, statuses=tuple(message.statuses), disagreement=message.disagreement,
                     suspected_error=message.suspected_error, class_ids=tuple(message.class_ids),
                     annotator_id=message.annotator_id, assigned_to=message.assigned_to,
                     predicted_class_ids=tuple(message.predicted_class_ids),
                     prediction_disagrees=message.prediction_disagrees, noisy=message.noisy,
                     name_contains=message.name_contains)


def _freeze_options(message: common_pb2.FreezeOptions) -> FreezeOptions:
    fraction = message.validation_fraction if message.HasField("validation_fraction") \
        else DEFAULT_VALIDATION_FRACTION
    return FreezeOptions(fraction, message.split_strategy or common_pb2.SPLIT_STRATEGY_STRATIFIED, message.seed,
                         message.exclude_noisy_labels, message.exclude_unlabeled, message.max_unlabeled,
                         message.include_model_labels)


def _metadata(context: grpc.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


def _with_request_id(method: Callable[..., Any]) -> Callable[..., Any]:
    """Bind the client's x-request-id for the call, so audit entries can name it (whatever kind of handler
    the method is: blocking, generator, coroutine or async generator)."""
    # A coroutine's call runs in a task of its own: bound there, the id ends with the call (an async
    # generator closed by the loop's finalizer, in another task, could not reset it).
    if inspect.isasyncgenfunction(method):
        @functools.wraps(method)
        async def async_streaming(self: Any, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            audit.bind_request_id(_metadata(context).get("x-request-id", ""))
            async for response in method(self, request, context):
                yield response
        return async_streaming
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def async_unary(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            audit.bind_request_id(_metadata(context).get("x-request-id", ""))
            return await method(self, request, context)
        return async_unary
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def streaming(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with audit.request_scope(_metadata(context).get("x-request-id", "")):
                yield from method(self, request, context)
        return streaming

    @functools.wraps(method)
    def unary(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        with audit.request_scope(_metadata(context).get("x-request-id", "")):
            return method(self, request, context)
    return unary


def _bind_request_ids(cls: type) -> type:
    for name, member in list(vars(cls).items()):
        if name[:1].isupper() and callable(member):
            setattr(cls, name, _with_request_id(member))
    return cls


@_bind_request_ids
class LabelsServicer(labels_pb2_grpc.LabelsServiceServicer):
    """The labels service's RPCs over its core."""

    def __init__(self, core: LabelsCore) -> None:
        self._core = core
        self._users = core.users

    # ---- sign-in and the caller's own account ----

    def WhoAmI(self, request: labels_pb2.WhoAmIRequest, context: grpc.ServicerContext) -> labels_pb2.WhoAmIResponse:
        principal = current_principal()
        user = self._users.get_user_by_id(principal.user_id)
        token = self._users.token_record(principal.token_id)
        return labels_pb2.WhoAmIResponse(user=m.user_message(user), token=m.token_message(token, user),
                                         project_ids=self._users.project_ids(user.id))

    def Login(self, request: labels_pb2.LoginRequest, context: grpc.ServicerContext) -> labels_pb2.LoginResponse:
        if not request.username or not request.password:
            raise InvalidArgument("username and password are both required")
        token, principal = self._users.login(request.username, request.password, ttl_s=_ttl(request.ttl_s))
        user = self._users.get_user_by_id(principal.user_id)
        record = self._users.token_record(principal.token_id)
        return labels_pb2.LoginResponse(token=token, info=m.token_message(record, user), user=m.user_message(user))

    def ChangePassword(self, request: labels_pb2.ChangePasswordRequest,
                       context: grpc.ServicerContext) -> labels_pb2.ChangePasswordResponse:
        self._users.change_password(current_principal(), request.current_password, request.new_password)
        return labels_pb2.ChangePasswordResponse()

    def IssueToken(self, request: labels_pb2.IssueTokenRequest,
                   context: grpc.ServicerContext) -> labels_pb2.IssueTokenResponse:
        token, info = self._issue(current_principal().username, request.ttl_s, request.description)
        return labels_pb2.IssueTokenResponse(token=token, info=info)

    def ListTokens(self, request: labels_pb2.ListTokensRequest,
                   context: grpc.ServicerContext) -> labels_pb2.ListTokensResponse:
        rows, token, total = self._users.list_tokens(current_principal().user_id, request.include_inactive,
                                                     request.page.page_size, request.page.page_token)
        return labels_pb2.ListTokensResponse(tokens=[m.token_message(t, u) for t, u in rows],
                                             page=m.page_info(token, total))

    def RevokeToken(self, request: labels_pb2.RevokeTokenRequest,
                    context: grpc.ServicerContext) -> labels_pb2.RevokeTokenResponse:
        principal = current_principal()
        if request.current == bool(request.token_id):
            raise InvalidArgument("set exactly one of token_id or current")
        token_id = principal.token_id if request.current else request.token_id
        record = self._users.revoke_token(token_id, owner_id=principal.user_id)
        user = self._users.get_user_by_id(principal.user_id)
        return labels_pb2.RevokeTokenResponse(info=m.token_message(record, user))

    # ---- administration of users and tokens ----

    def CreateUser(self, request: labels_pb2.CreateUserRequest,
                   context: grpc.ServicerContext) -> labels_pb2.CreateUserResponse:
        if request.role == 0:
            raise InvalidArgument("role is required: ROLE_ANNOTATOR, ROLE_EXPERT or ROLE_ADMIN")
        user = self._users.create_user(request.username, Role(request.role), request.password or None,
                                       request.display_name, actor=current_principal())
        return labels_pb2.CreateUserResponse(user=m.user_message(user))

    def ListUsers(self, request: labels_pb2.ListUsersRequest,
                  context: grpc.ServicerContext) -> labels_pb2.ListUsersResponse:
        rows, token, total = self._users.list_users(Role(request.role) if request.role else None,
                                                    request.include_disabled, request.page.page_size,
                                                    request.page.page_token)
        return labels_pb2.ListUsersResponse(users=[m.user_message(u) for u in rows], page=m.page_info(token, total))

    def UpdateUser(self, request: labels_pb2.UpdateUserRequest,
                   context: grpc.ServicerContext) -> labels_pb2.UpdateUserResponse:
        _required(request.username, "username")
        if request.HasField("role") and request.role == 0:
            raise InvalidArgument("role must be ROLE_ANNOTATOR, ROLE_EXPERT or ROLE_ADMIN")
        user, revoked = self._users.update_user(
            current_principal(), request.username,
            role=Role(request.role) if request.HasField("role") else None,
            disabled=request.disabled if request.HasField("disabled") else None,
            display_name=request.display_name if request.HasField("display_name") else None,
            password=request.password if request.HasField("password") else None,
            revoke_tokens=request.revoke_tokens)
        return labels_pb2.UpdateUserResponse(user=m.user_message(user), revoked_tokens=revoked)

    def IssueUserToken(self, request: labels_pb2.IssueUserTokenRequest,
                       context: grpc.ServicerContext) -> labels_pb2.IssueUserTokenResponse:
        token, info = self._issue(_required(request.username, "username"), request.ttl_s, request.description)
        return labels_pb2.IssueUserTokenResponse(token=token, info=info)

    def _issue(self, username: str, ttl_s: int, description: str) -> tuple[str, labels_pb2.TokenInfo]:
        token, principal = self._users.issue_token(username, ttl_s=_ttl(ttl_s), description=description,
                                                   actor=current_principal())
        user = self._users.get_user_by_id(principal.user_id)
        return token, m.token_message(self._users.token_record(principal.token_id), user)

    def ListUserTokens(self, request: labels_pb2.ListUserTokensRequest,
                       context: grpc.ServicerContext) -> labels_pb2.ListUserTokensResponse:
        user_id = self._users.get_user(request.username).id if request.username else None
        rows, token, total = self._users.list_tokens(user_id, request.include_inactive, request.page.page_size,
                                                     request.page.page_token)
        return labels_pb2.ListUserTokensResponse(tokens=[m.token_message(t, u) for t, u in rows],
                                                 page=m.page_info(token, total))

    def RevokeUserToken(self, request: labels_pb2.RevokeUserTokenRequest,
                        context: grpc.ServicerContext) -> labels_pb2.RevokeUserTokenResponse:
        record = self._users.revoke_token(_required(request.token_id, "token_id"), actor=current_principal())
        user = self._users.get_user_by_id(record.user_id)
        return labels_pb2.RevokeUserTokenResponse(info=m.token_message(record, user))

    # ---- projects and classes ----

    def CreateProject(self, request: labels_pb2.CreateProjectRequest,
                      context: grpc.ServicerContext) -> labels_pb2.CreateProjectResponse:
        view = self._core.projects.create(current_principal(), request.name, request.description,
                                          [_class_spec(c) for c in request.classes],
                                          _settings(request.settings) if request.HasField("settings") else None)
        return labels_pb2.CreateProjectResponse(project=m.project_message(view))

    def GetProject(self, request: labels_pb2.GetProjectRequest,
                   context: grpc.ServicerContext) -> labels_pb2.GetProjectResponse:
        view = self._core.projects.get(current_principal(), request.project_id)
        return labels_pb2.GetProjectResponse(project=m.project_message(view))

    def ListProjects(self, request: labels_pb2.ListProjectsRequest,
                     context: grpc.ServicerContext) -> labels_pb2.ListProjectsResponse:
        views, token, total = self._core.projects.list(current_principal(), request.include_archived,
                                                        request.page.page_size, request.page.page_token)
        return labels_pb2.ListProjectsResponse(projects=[m.project_message(v) for v in views],
                                               page=m.page_info(token, total))

    def RenameProject(self, request: labels_pb2.RenameProjectRequest,
                      context: grpc.ServicerContext) -> labels_pb2.RenameProjectResponse:
        view = self._core.projects.rename(current_principal(), request.project_id, request.name,
                                          request.expected_version)
        return labels_pb2.RenameProjectResponse(project=m.project_message(view))

    def UpdateProjectSettings(self, request: labels_pb2.UpdateProjectSettingsRequest,
                              context: grpc.ServicerContext) -> labels_pb2.UpdateProjectSettingsResponse:
        view = self._core.projects.update_settings(
            current_principal(), request.project_id,
            request.description if request.HasField("description") else None,
            _settings(request.settings) if request.HasField("settings") else None, request.expected_version)
        return labels_pb2.UpdateProjectSettingsResponse(project=m.project_message(view))

    def ArchiveProject(self, request: labels_pb2.ArchiveProjectRequest,
                       context: grpc.ServicerContext) -> labels_pb2.ArchiveProjectResponse:
        view = self._core.projects.archive(current_principal(), request.project_id, request.archived)
        return labels_pb2.ArchiveProjectResponse(project=m.project_message(view))

    def GetProjectStats(self, request: labels_pb2.GetProjectStatsRequest,
                        context: grpc.ServicerContext) -> labels_pb2.GetProjectStatsResponse:
        stats = self._core.projects.stats(current_principal(), request.project_id)
        return labels_pb2.GetProjectStatsResponse(
            items=stats.items, labeled=stats.labeled, unlabeled=stats.unlabeled, disagreements=stats.disagreements,
            suspected_errors=stats.suspected_errors,
            classes=[labels_pb2.ClassStats(class_id=c.class_.id, class_name=c.class_.name, labeled=c.labeled,
                                           noisy_labeled=c.noisy_labeled, predicted=c.predicted)
                     for c in stats.classes],
            annotators=[labels_pb2.AnnotatorStats(user_id=a.user_id, username=a.username, annotations=a.annotations,
                                                  items=a.items, assigned_pending=a.assigned_pending,
                                                  last_annotation_at=m.timestamp(a.last_annotation_at))
                        for a in stats.annotators])

    def AddClass(self, request: labels_pb2.AddClassRequest,
                 context: grpc.ServicerContext) -> labels_pb2.AddClassResponse:
        row, version = self._core.classes.add(current_principal(), request.project_id, _class_spec(request.class_def))
        return labels_pb2.AddClassResponse(class_def=m.class_message(row), project_version=version)

    def UpdateClass(self, request: labels_pb2.UpdateClassRequest,
                    context: grpc.ServicerContext) -> labels_pb2.UpdateClassResponse:
        def optional(name: str) -> Any:
            return getattr(request, name) if request.HasField(name) else None

        change = ClassChange(optional("name"), optional("color"), optional("shortcut"), optional("description"),
                             optional("position"))
        row, version = self._core.classes.update(current_principal(), request.project_id,
                                                 _required(request.class_id, "class_id"), change)
        return labels_pb2.UpdateClassResponse(class_def=m.class_message(row), project_version=version)

    def MergeClasses(self, request: labels_pb2.MergeClassesRequest,
                     context: grpc.ServicerContext) -> labels_pb2.MergeClassesResponse:
        target, relabeled, version = self._core.classes.merge(
            current_principal(), request.project_id, list(request.source_class_ids),
            _required(request.target_class_id, "target_class_id"))
        return labels_pb2.MergeClassesResponse(target=m.class_message(target), relabeled_items=relabeled,
                                               project_version=version)

    def DeleteClass(self, request: labels_pb2.DeleteClassRequest,
                    context: grpc.ServicerContext) -> labels_pb2.DeleteClassResponse:
        version = self._core.classes.delete(current_principal(), request.project_id,
                                            _required(request.class_id, "class_id"))
        return labels_pb2.DeleteClassResponse(project_version=version)

    # ---- membership ----

    def AddMember(self, request: labels_pb2.AddMemberRequest,
                  context: grpc.ServicerContext) -> labels_pb2.AddMemberResponse:
        view = self._core.members.add(current_principal(), request.project_id,
                                      _required(request.username, "username"))
        return labels_pb2.AddMemberResponse(member=m.member_message(view))

    def RemoveMember(self, request: labels_pb2.RemoveMemberRequest,
                     context: grpc.ServicerContext) -> labels_pb2.RemoveMemberResponse:
        removed = self._core.members.remove(current_principal(), request.project_id,
                                            _required(request.username, "username"))
        return labels_pb2.RemoveMemberResponse(removed=removed)

    def ListMembers(self, request: labels_pb2.ListMembersRequest,
                    context: grpc.ServicerContext) -> labels_pb2.ListMembersResponse:
        views, token, total = self._core.members.list(current_principal(), request.project_id,
                                                      request.page.page_size, request.page.page_token)
        return labels_pb2.ListMembersResponse(members=[m.member_message(v) for v in views],
                                              page=m.page_info(token, total))

    # ---- items ----

    def RegisterItems(self, request: labels_pb2.RegisterItemsRequest,
                      context: grpc.ServicerContext) -> labels_pb2.RegisterItemsResponse:
        specs = [NewItemSpec(i.image_id, i.original_name, i.width, i.height, i.suggested_label, i.object_key,
                             i.format) for i in request.items]
        policy = SuggestedLabelPolicy(request.suggested_label_policy or SuggestedLabelPolicy.SUGGEST)
        results, created = self._core.items.register(current_principal(), request.project_id, specs, policy)
        return labels_pb2.RegisterItemsResponse(
            items=[labels_pb2.RegisteredItem(image_id=r.image_id, item_id=r.item_id, created=r.created)
                   for r in results],
            created_classes=[m.class_message(c) for c in created])

    def ListItems(self, request: labels_pb2.ListItemsRequest,
                  context: grpc.ServicerContext) -> labels_pb2.ListItemsResponse:
        views, token, total = self._core.items.list(current_principal(), request.project_id,
                                                    _item_query(request.filter), request.order,
                                                    request.page.page_size, request.page.page_token)
        return labels_pb2.ListItemsResponse(items=[m.item_message(v) for v in views], page=m.page_info(token, total))

    def GetItem(self, request: labels_pb2.GetItemRequest,
                context: grpc.ServicerContext) -> labels_pb2.GetItemResponse:
        view = self._core.items.get(current_principal(), request.project_id, _required(request.item_id, "item_id"))
        return labels_pb2.GetItemResponse(item=m.item_message(view),
                                          annotations=[m.annotation_message(a) for a in view.annotations])

    # ---- annotations ----

    async def Annotate(self, request: labels_pb2.AnnotateRequest,
                       context: grpc.aio.ServicerContext) -> labels_pb2.AnnotateResponse:
        result = await self._core.annotations.annotate(current_principal(), request.project_id,
                                                       _label_write(request))
        return _annotated(result)

    async def AnnotateStream(self, request_iterator: AsyncIterator[labels_pb2.AnnotateRequest],
                             context: grpc.aio.ServicerContext) -> AsyncIterator[labels_pb2.AnnotateStreamResponse]:
        """One response per request, in order (sessions.LabelSessions). A write's own refusal is its
        response; what ends the session (token, a fault of the server) is the stream's status."""
        requests = aiter(request_iterator)
        first = await anext(requests, None)
        if first is None:
            return
        async with self._core.sessions.open(current_principal(), first.project_id) as session:
            request: labels_pb2.AnnotateRequest | None = first
            while request is not None:
                await session.check_token()
                try:
                    written = _annotated(await session.write(request.project_id, _label_write(request)))
                except Exception as exc:  # noqa: BLE001 - refusals answer the write; faults end the stream
                    code, message, details = status_for(exc)
                    if code == grpc.StatusCode.INTERNAL:
                        raise
                    yield labels_pb2.AnnotateStreamResponse(error=labels_pb2.WriteError(
                        code=code.name, message=message, details=details))
                else:
                    yield labels_pb2.AnnotateStreamResponse(written=written)
                request = await anext(requests, None)

    def BatchAnnotate(self, request: labels_pb2.BatchAnnotateRequest,
                      context: grpc.ServicerContext) -> labels_pb2.BatchAnnotateResponse:
        results = self._core.annotations.batch(
            current_principal(), request.project_id, [(i.item_id, i.expected_version) for i in request.items],
            request.class_id, _source(request.source), request.model_id, request.client_request_id)
        return labels_pb2.BatchAnnotateResponse(items=[_written_item(r) for r in results],
                                                annotations=[m.annotation_message(r.annotation) for r in results])

    def Undo(self, request: labels_pb2.UndoRequest, context: grpc.ServicerContext) -> labels_pb2.UndoResponse:
        result = self._core.annotations.undo(current_principal(), request.project_id,
                                             _required(request.item_id, "item_id"), request.annotation_id,
                                             request.expected_version)
        return labels_pb2.UndoResponse(item=_written_item(result), annotation=m.annotation_message(result.annotation))

    def GetHistory(self, request: labels_pb2.GetHistoryRequest,
                   context: grpc.ServicerContext) -> labels_pb2.GetHistoryResponse:
        query = HistoryQuery(request.item_id, request.user_id, m.from_timestamp(request, "since"),
                             m.from_timestamp(request, "until"))
        rows, token, total = self._core.annotations.history(current_principal(), request.project_id, query,
                                                            request.page.page_size, request.page.page_token)
        return labels_pb2.GetHistoryResponse(annotations=[m.annotation_message(a) for a in rows],
                                             page=m.page_info(token, total))

    def WatchAnnotations(self, request: labels_pb2.WatchAnnotationsRequest,
                         context: grpc.ServicerContext) -> Iterator[labels_pb2.AnnotationEvent]:
        """Numbered events of the project after `after_sequence` (0: from now on), then live ones, until the
        client cancels or the server stops (event_feed.AnnotationFeed).

        The response headers carry `harvest-start-sequence`, the sequence the stream continues after, so a
        client that loses the stream before any event arrived still knows where to resume. Events are never
        deleted, so the whole history is retained: FAILED_PRECONDITION (after_sequence older than the retained
        window) is not returned today.
        """
        principal = current_principal()
        with self._core.feed.slot(principal):
            start = self._core.feed.start(principal, request.project_id, request.after_sequence,
                                          request.from_beginning)
            context.send_initial_metadata(((START_SEQUENCE_HEADER, str(start)),))
            for event in self._core.feed.events(principal, request.project_id, start, LiveCall(context)):
                yield m.annotation_event_message(event)

    # ---- multi-annotator workflow ----

    def AssignItems(self, request: labels_pb2.AssignItemsRequest,
                    context: grpc.ServicerContext) -> labels_pb2.AssignItemsResponse:
        ids = self._core.workflow.assign(current_principal(), request.project_id,
                                         _required(request.username, "username"), list(request.item_ids),
                                         request.count)
        return labels_pb2.AssignItemsResponse(item_ids=ids)

    def GetAgreement(self, request: labels_pb2.GetAgreementRequest,
                     context: grpc.ServicerContext) -> labels_pb2.GetAgreementResponse:
        items, project = self._core.workflow.agreement(current_principal(), request.project_id,
                                                       list(request.item_ids))
        return labels_pb2.GetAgreementResponse(items=[m.item_agreement_message(i) for i in items],
                                               project=m.project_agreement_message(project))

    def ListReviewQueue(self, request: labels_pb2.ListReviewQueueRequest,
                        context: grpc.ServicerContext) -> labels_pb2.ListReviewQueueResponse:
        tasks, token, total = self._core.workflow.review_queue(current_principal(), request.project_id,
                                                               request.page.page_size, request.page.page_token)
        return labels_pb2.ListReviewQueueResponse(
            tasks=[labels_pb2.ReviewTask(item=m.item_message(t.view), agreement=m.item_agreement_message(t.agreement),
                                         annotations=[m.annotation_message(a) for a in t.annotations])
                   for t in tasks],
            page=m.page_info(token, total))

    def Review(self, request: labels_pb2.ReviewRequest, context: grpc.ServicerContext) -> labels_pb2.ReviewResponse:
        result = self._core.workflow.review(current_principal(), request.project_id,
                                            _required(request.item_id, "item_id"), request.class_id,
                                            request.expected_version, request.comment)
        return labels_pb2.ReviewResponse(item=_written_item(result), annotation=m.annotation_message(result.annotation))

    # ---- labeling queue ----

    def NextItems(self, request: labels_pb2.NextItemsRequest,
                  context: grpc.ServicerContext) -> labels_pb2.NextItemsResponse:
        queued, used, model = self._core.queue.next_items(
            current_principal(), request.project_id, request.n, QueueStrategy(request.strategy or 1), request.lease_s,
            request.model_id, request.seed, _item_query(request.filter))
        return labels_pb2.NextItemsResponse(
            items=[labels_pb2.QueuedItem(item=m.item_message(q.view), lease=m.lease_message(q.lease), score=q.score,
                                         reason=q.reason) for q in queued],
            effective_strategy=int(used), model_id=model)

    def ReleaseLease(self, request: labels_pb2.ReleaseLeaseRequest,
                     context: grpc.ServicerContext) -> labels_pb2.ReleaseLeaseResponse:
        released = self._core.queue.release(current_principal(), request.project_id, list(request.lease_ids))
        return labels_pb2.ReleaseLeaseResponse(released=released)

    # ---- predictions and suspected errors ----

    def PutPredictions(self, request: labels_pb2.PutPredictionsRequest,
                       context: grpc.ServicerContext) -> labels_pb2.PutPredictionsResponse:
        specs = [PredictionSpec(
            _required(p.item_id, "item_id"),
            [ClassProbability(c.class_id, c.class_name, c.probability) for c in p.prediction.probabilities],
            list(p.prediction.embedding), p.prediction.embedding_ref) for p in request.predictions]
        stored = self._core.outputs.put_predictions(current_principal(), request.project_id, request.model_id, specs)
        return labels_pb2.PutPredictionsResponse(stored=stored)

    def PutSuspectedErrors(self, request: labels_pb2.PutSuspectedErrorsRequest,
                           context: grpc.ServicerContext) -> labels_pb2.PutSuspectedErrorsResponse:
        specs = [SuspicionSpec(_required(e.item_id, "item_id"), e.score, e.suggested_class_id) for e in request.errors]
        stored, cleared = self._core.outputs.put_suspected(current_principal(), request.project_id, request.detector,
                                                           request.model_id, specs, request.replace)
        return labels_pb2.PutSuspectedErrorsResponse(stored=stored, cleared=cleared)

    def ListSuspectedErrors(self, request: labels_pb2.ListSuspectedErrorsRequest,
                            context: grpc.ServicerContext) -> labels_pb2.ListSuspectedErrorsResponse:
        rows, token, total = self._core.outputs.list_suspected(current_principal(), request.project_id,
                                                               request.min_score, request.detector,
                                                               request.page.page_size, request.page.page_token)
        return labels_pb2.ListSuspectedErrorsResponse(
            items=[labels_pb2.SuspectedItem(item=m.item_message(ItemView(item, suspicion=s)),
                                            suspected_error=m.suspicion_message(s)) for item, s in rows],
            page=m.page_info(token, total))

    # ---- snapshots ----

    def FreezeSnapshot(self, request: labels_pb2.FreezeSnapshotRequest,
                       context: grpc.ServicerContext) -> labels_pb2.FreezeSnapshotResponse:
        token = parse_bearer(_metadata(context).get("authorization"))
        record = self._core.snapshots.freeze(current_principal(), request.project_id,
                                             _freeze_options(request.options), token)
        return labels_pb2.FreezeSnapshotResponse(snapshot=m.snapshot_message(record))

    def ListSnapshots(self, request: labels_pb2.ListSnapshotsRequest,
                      context: grpc.ServicerContext) -> labels_pb2.ListSnapshotsResponse:
        rows, token, total = self._core.snapshots.list(current_principal(), request.project_id,
                                                       request.page.page_size, request.page.page_token)
        return labels_pb2.ListSnapshotsResponse(snapshots=[m.snapshot_message(r) for r in rows],
                                                page=m.page_info(token, total))

    # ---- import and export ----

    def ImportLabels(self, request_iterator: Iterator[labels_pb2.ImportLabelsRequest],
                     context: grpc.ServicerContext) -> labels_pb2.ImportLabelsResponse:
        first = next(request_iterator, None)
        if first is None or not first.HasField("options"):
            raise InvalidArgument("the first message must carry the import options")
        options = first.options

        def chunks() -> Iterator[bytes]:
            for message in request_iterator:
                if message.HasField("options"):
                    raise InvalidArgument("options may only be sent in the first message")
                if len(message.chunk) > MAX_CHUNK:
                    raise InvalidArgument(f"chunks carry at most {MAX_CHUNK} bytes")
                yield message.chunk

        report = self._core.imports.run(current_principal(), options.project_id, ImportOptions(
            options.format, options.noisy, options.conflict_policy or 1, options.create_missing_classes,
            options.key_column or "image", options.label_column or "label"), chunks())
        return labels_pb2.ImportLabelsResponse(
            rows=report.rows, applied=report.applied, skipped=report.skipped, failed=report.failed,
            errors=[labels_pb2.ImportRowError(line=line, message=message) for line, message in report.errors],
            created_classes=[m.class_message(c) for c in report.created_classes])

    def ExportLabels(self, request: labels_pb2.ExportLabelsRequest,
                     context: grpc.ServicerContext) -> Iterator[labels_pb2.ExportLabelsResponse]:
        header, pieces = self._core.exports.export(current_principal(), request.project_id, request.format,
                                                   request.snapshot_id, request.include_unlabeled,
                                                   request.include_noisy)
        yield labels_pb2.ExportLabelsResponse(header=labels_pb2.ExportHeader(
            file_name=header.file_name, content_type=header.content_type, item_count=header.item_count))
        for piece in pieces:
            data = piece.encode()
            for start in range(0, len(data), MAX_CHUNK):
                yield labels_pb2.ExportLabelsResponse(chunk=data[start:start + MAX_CHUNK])

    # ---- audit ----

    def GetAuditLog(self, request: labels_pb2.GetAuditLogRequest,
                    context: grpc.ServicerContext) -> labels_pb2.GetAuditLogResponse:
        query = AuditQuery(request.project_id, request.actor_id, request.action, m.from_timestamp(request, "since"),
                           m.from_timestamp(request, "until"))
        rows, token, total = self._core.audit.entries(current_principal(), query, request.page.page_size,
                                                      request.page.page_token)
        return labels_pb2.GetAuditLogResponse(entries=[m.audit_message(e) for e in rows],
                                              page=m.page_info(token, total))


def _label_write(request: labels_pb2.AnnotateRequest) -> LabelWrite:
    if request.clear == bool(request.class_id):
        raise InvalidArgument("set exactly one of class_id or clear")
    return LabelWrite(item_id=_required(request.item_id, "item_id"), expected_version=request.expected_version,
                      class_id=request.class_id or None, source=_source(request.source), model_id=request.model_id,
                      comment=request.comment, client_request_id=request.client_request_id)


def _annotated(result: WriteResult) -> labels_pb2.AnnotateResponse:
    return labels_pb2.AnnotateResponse(item=_written_item(result), annotation=m.annotation_message(result.annotation))


def _written_item(result: WriteResult) -> labels_pb2.Item:
    """The item after a write: its label state (predictions and suspicions are read with GetItem)."""
    return m.item_message(ItemView(result.item, annotator_ids=result.annotator_ids))


def register_labels(core: LabelsCore) -> Register:
    return registrar(labels_pb2_grpc, "LabelsService", LabelsServicer(core))
