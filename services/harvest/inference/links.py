"""What inference asks of the other services, always on the caller's behalf (their token forwarded):
labels for project membership, class ids, the pool's items and for storing predictions and suspicions;
storage for the bytes of an image given by id.

Background pool scoring authenticates the same way: the token of the user who started it (RegisterModel
or ScorePool; for the usual loop the scheduler's) is kept in memory for the operation's lifetime only, never
stored. If it expires or is revoked meanwhile, the operation fails with a message saying so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import grpc

from harvest.client import HarvestClient
from harvest.common.auth import bearer_metadata
from harvest.common.errors import (
    InvalidArgument,
)
from harvest.common.peers import Caller, ProjectLookup, peer_error
from harvest.v1 import common_pb2, labels_pb2, storage_pb2

PAGE = 1000


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    project_id: str
    class_ids: dict[str, str]  # class name (current or previous) -> class id
    archived: bool = False


@dataclass(frozen=True, slots=True)
class PoolItem:
    item_id: str
    image_id: str
    object_key: str
    class_id: str  # empty when unlabeled


def _project_info(project: labels_pb2.Project) -> ProjectInfo:
    """Class ids by name: current names win over earlier names (renames keep old labels resolvable)."""
    ids: dict[str, str] = {}
    for cls in project.classes:
        for name in cls.previous_names:
            ids.setdefault(name, cls.class_id)
    ids.update({cls.name: cls.class_id for cls in project.classes if not cls.retired})
    return ProjectInfo(project.project_id, ids, project.archived)


class ServiceLinks:
    """Labels and storage calls; membership answers remembered per (token, project) for `ttl_s`."""

    def __init__(self, client: HarvestClient, ttl_s: float = 30.0) -> None:
        self._client = client
        self._projects = ProjectLookup(client.labels.GetProject, _project_info, ttl_s)

    def project(self, caller: Caller, project_id: str) -> ProjectInfo:
        """The project if the caller may see it (labels decides), else NotFound / PermissionDenied."""
        if not project_id:
            raise InvalidArgument("project_id is required")
        try:
            return self._projects.get(caller, project_id)
        except grpc.RpcError as exc:
            raise peer_error(exc, f"project {project_id!r}") from None

    def pool(self, caller: Caller, project_id: str, unlabeled_only: bool) -> Iterator[PoolItem]:
        """Every item of the project (or only the unlabeled ones), page by page."""
        request = labels_pb2.ListItemsRequest(project_id=project_id, page=common_pb2.PageRequest(page_size=PAGE))
        if unlabeled_only:
            request.filter.label = labels_pb2.LABEL_FILTER_UNLABELED
        while True:
            try:
                response = self._client.labels.ListItems(request, metadata=bearer_metadata(caller.token), timeout=60)
            except grpc.RpcError as exc:
                raise peer_error(exc, "listing the project's items in labels") from None
            for item in response.items:
                yield PoolItem(item.item_id, item.image_id, item.object_key, item.class_id)
            if not response.page.next_page_token:
                return
            request.page.page_token = response.page.next_page_token

    def put_predictions(self, caller: Caller, project_id: str, model_id: str, operation_id: str,
                        predictions: Sequence[labels_pb2.ItemPrediction]) -> int:
        request = labels_pb2.PutPredictionsRequest(project_id=project_id, model_id=model_id,
                                                   operation_id=operation_id, predictions=predictions)
        try:
            return int(self._client.labels.PutPredictions(request, metadata=bearer_metadata(caller.token),
                                                          timeout=120).stored)
        except grpc.RpcError as exc:
            raise peer_error(exc, "storing predictions in labels") from None

    def put_suspected(self, caller: Caller, project_id: str, model_id: str, detector: str,
                      errors: Sequence[labels_pb2.NewSuspectedError], replace: bool) -> int:
        request = labels_pb2.PutSuspectedErrorsRequest(project_id=project_id, model_id=model_id, detector=detector,
                                                       errors=errors, replace=replace)
        try:
            return int(self._client.labels.PutSuspectedErrors(request, metadata=bearer_metadata(caller.token),
                                                              timeout=120).stored)
        except grpc.RpcError as exc:
            raise peer_error(exc, "storing suspected errors in labels") from None

    def image(self, caller: Caller, project_id: str, image_id: str) -> bytes:
        """An image's original bytes from storage (which checks membership and existence)."""
        request = storage_pb2.GetImageRequest(image=common_pb2.ImageRef(project_id=project_id, image_id=image_id))
        parts: list[bytes] = []
        try:
            for message in self._client.storage.GetImage(request, metadata=bearer_metadata(caller.token), timeout=60):
                if message.WhichOneof("payload") == "chunk":
                    parts.append(message.chunk)
        except grpc.RpcError as exc:
            raise peer_error(exc, f"image {image_id[:12]}…", peer="storage") from None
        return b"".join(parts)
