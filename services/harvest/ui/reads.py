"""Read-only service calls the pages share (projects, images, thumbnails, job events, logs).

Kept out of the pages so each page stays layout, and so a fake client in tests needs only the stub
methods named here. Every function takes the client first and raises grpc.RpcError unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc

from harvest.client import paginate
from harvest.v1 import common_pb2, labels_pb2, scheduler_pb2, storage_pb2

PAGE = common_pb2.PageRequest


def projects(client: Any) -> list[labels_pb2.Project]:
    """The caller's projects (admins: all), by name — ListProjects decides what a user may see."""
    request = labels_pb2.ListProjectsRequest(page=PAGE(page_size=200))
    return list(paginate(client.labels.ListProjects, request, "projects", timeout=10))


def project(client: Any, project_id: str) -> labels_pb2.Project:
    return client.labels.GetProject(labels_pb2.GetProjectRequest(project_id=project_id), timeout=10).project


def active_classes(project: labels_pb2.Project) -> list[labels_pb2.ClassDef]:
    """Classes that still take labels, in display order (merged ones are retired)."""
    return sorted((c for c in project.classes if not c.retired), key=lambda c: c.position)


def image_bytes(client: Any, project_id: str, image_id: str) -> bytes:
    """An image's original bytes (GetImage streams `info` then chunks)."""
    request = storage_pb2.GetImageRequest(image=common_pb2.ImageRef(project_id=project_id, image_id=image_id))
    return b"".join(part.chunk for part in client.storage.GetImage(request, timeout=30)
                    if part.WhichOneof("payload") == "chunk")


def thumbnails(client: Any, project_id: str, image_ids: Iterable[str]) -> dict[str, bytes]:
    """WebP thumbnails by image id, 200 per call (the service's limit)."""
    ids, found = list(image_ids), {}
    for start in range(0, len(ids), 200):
        reply = client.storage.BatchGetThumbnails(
            storage_pb2.BatchGetThumbnailsRequest(project_id=project_id, image_ids=ids[start:start + 200]),
            timeout=30)
        found.update({t.image_id: t.data for t in reply.thumbnails})
    return found


def items(client: Any, project_id: str, *, item_filter: labels_pb2.ItemFilter | None = None,
          order: int = labels_pb2.ITEM_ORDER_UNSPECIFIED, limit: int = 100) -> list[labels_pb2.Item]:
    """Up to `limit` items matching the filter, in the given order (one page)."""
    request = labels_pb2.ListItemsRequest(project_id=project_id, filter=item_filter or labels_pb2.ItemFilter(),
                                          order=order, page=PAGE(page_size=limit))
    return list(client.labels.ListItems(request, timeout=15).items)


def job_events(client: Any, job_id: str, after_sequence: int = 0,
               wait_s: float = 0.5) -> list[scheduler_pb2.JobEvent]:
    """WatchJob events after a sequence, for at most `wait_s` seconds.

    WatchJob stays open while the job is active; a page cannot block on it, so it reads what is there
    and stops at the deadline (the next refresh resumes from the last sequence seen, without gaps).
    """
    events: list[scheduler_pb2.JobEvent] = []
    stream = client.scheduler.WatchJob(scheduler_pb2.WatchJobRequest(job_id=job_id, after_sequence=after_sequence),
                                       timeout=wait_s)
    try:
        for event in stream:
            events.append(event)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
    return events


def job_log_tail(client: Any, job_id: str, lines: int = 80) -> str:
    """The last lines of a job's log (no follow: the stream ends at once)."""
    request = scheduler_pb2.GetJobLogsRequest(job_id=job_id, tail_lines=lines)
    return "".join(part.text for part in client.scheduler.GetJobLogs(request, timeout=10))
