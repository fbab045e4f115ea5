"""What the scheduler asks of the labels service, always with the caller's own token (labels owns
membership): may this caller see the project, is it archived, which projects are theirs, and "freeze the
current labels now". Background work (the Celery worker) never calls labels: everything it needs is on
the job row, because labels refuses tokens it did not issue itself (its revocation check), so a token the
scheduler minted could not act there.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from harvest.client import HarvestClient, paginate
from harvest.common.auth import bearer_metadata
from harvest.common.peers import MEMBERSHIP_TTL_S, Caller, ProjectLookup, peer_error
from harvest.v1 import common_pb2, labels_pb2


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    project_id: str
    archived: bool


class LabelsLink:
    def __init__(self, client: HarvestClient, ttl_s: float = MEMBERSHIP_TTL_S) -> None:
        self._client = client
        self._projects = ProjectLookup(client.labels.GetProject,
                                       lambda p: ProjectInfo(p.project_id, p.archived), ttl_s)

    def project(self, caller: Caller, project_id: str) -> ProjectInfo:
        """The project as the caller may see it; PermissionDenied/NotFound otherwise (cached briefly)."""
        try:
            return self._projects.get(caller, project_id)
        except grpc.RpcError as exc:
            raise peer_error(exc, f"project {project_id!r}") from None

    def check_member(self, caller: Caller, project_id: str) -> None:
        if not caller.is_admin:
            self.project(caller, project_id)

    def member_projects(self, caller: Caller) -> list[str]:
        """Ids of the projects the caller is a member of."""
        try:
            projects = paginate(self._client.labels.ListProjects, labels_pb2.ListProjectsRequest(
                page=common_pb2.PageRequest(page_size=1000)), "projects", metadata=bearer_metadata(caller.token),
                timeout=30)
            return [p.project_id for p in projects]
        except grpc.RpcError as exc:
            raise peer_error(exc, "your projects") from None

    def freeze(self, caller: Caller, project_id: str, options: common_pb2.FreezeOptions) -> str:
        """Freeze the project's current labels into a snapshot now; returns its id."""
        try:
            response = self._client.labels.FreezeSnapshot(
                labels_pb2.FreezeSnapshotRequest(project_id=project_id, options=options),
                metadata=bearer_metadata(caller.token), timeout=300)
        except grpc.RpcError as exc:
            raise peer_error(exc, f"freezing project {project_id!r}") from None
        return str(response.snapshot.snapshot_id)


