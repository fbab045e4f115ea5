"""What storage asks of the labels service, on the caller's behalf: may this caller see the project
(labels owns membership), and register freshly stored images as items of the project."""

from __future__ import annotations

import grpc

from harvest.client import HarvestClient
from harvest.common.auth import Principal, Role, bearer_metadata
from harvest.common.errors import HarvestError, PermissionDenied, Unavailable
from harvest.common.peers import MEMBERSHIP_TTL_S, Caller, ProjectLookup
from harvest.storage.formats import IMAGE_FORMATS
from harvest.storage.ingest import FileResult
from harvest.v1 import common_pb2, labels_pb2

REGISTER_BATCH = 5000


class LabelsLink:
    def __init__(self, client: HarvestClient, ttl_s: float = MEMBERSHIP_TTL_S) -> None:
        self._client = client
        self._projects = ProjectLookup(client.labels.GetProject, lambda p: None, ttl_s)

    def check_member(self, principal: Principal, token: str, project_id: str) -> None:
        """PermissionDenied unless the caller may see the project (admins may see every project)."""
        if principal.role is Role.ADMIN:
            return
        try:
            self._projects.get(Caller(principal, token), project_id)
        except grpc.RpcError as exc:
            raise _translate(exc, project_id) from None

    def register(self, token: str, project_id: str, results: list[FileResult], policy: int) -> str:
        """Register stored (and duplicate) images as items; fills each result's item id. Returns an error
        message when registration failed (the images stay stored; registering again is idempotent)."""
        images = [r for r in results if r.status in ("stored", "duplicate") and r.image_id]
        by_image: dict[str, list[FileResult]] = {}
        for result in images:
            by_image.setdefault(result.image_id, []).append(result)
        unique = [group[0] for group in by_image.values()]
        try:
            for start in range(0, len(unique), REGISTER_BATCH):
                batch = unique[start:start + REGISTER_BATCH]
                request = labels_pb2.RegisterItemsRequest(project_id=project_id, suggested_label_policy=policy)
                for r in batch:
                    request.items.add(image_id=r.image_id, original_name=r.name[-1024:], width=r.width,
                                      height=r.height, suggested_label=r.suggested_label, object_key=r.object_key,
                                      format=IMAGE_FORMATS.get(r.format, common_pb2.IMAGE_FORMAT_UNSPECIFIED))
                response = self._client.labels.RegisterItems(request, metadata=bearer_metadata(token), timeout=60)
                for item in response.items:
                    for result in by_image.get(item.image_id, []):
                        result.item_id = item.item_id
        except grpc.RpcError as exc:
            return f"images stored, but registering them as items failed: {exc.details()} (retry the upload)"
        return ""


def _translate(exc: grpc.RpcError, project_id: str) -> HarvestError:
    code = exc.code()
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
        return PermissionDenied(f"you are not a member of project {project_id!r} (or it does not exist)")
    return Unavailable(f"cannot check project membership with the labels service: {exc.details()}")
