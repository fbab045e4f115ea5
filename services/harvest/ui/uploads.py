"""Uploading what the browser sent, file by file, so the page can show progress between calls.

gRPC consumes a request iterator on its own thread, where Streamlit elements cannot be updated; one
UploadImages call per file keeps the progress bar on the script thread and still streams each file in
≤1 MiB chunks. Archives (zip/tar) expand server-side and report each member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc

from harvest.v1 import common_pb2, storage_pb2

STATUS_WORDS = {storage_pb2.FILE_STATUS_STORED: "stored", storage_pb2.FILE_STATUS_DUPLICATE: "duplicate",
                storage_pb2.FILE_STATUS_REJECTED: "rejected", storage_pb2.FILE_STATUS_EXPANDED: "archive"}


@dataclass
class UploadOutcome:
    """Every per-file row and the totals of one upload action."""

    rows: list[dict[str, object]]
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0


def result_row(result: storage_pb2.FileResult) -> dict[str, object]:
    """One table row: name, stored / duplicate / rejected (+ reason and message), suggested label."""
    reason = ""
    if result.status == storage_pb2.FILE_STATUS_REJECTED:
        reason = storage_pb2.RejectReason.Name(result.reject_reason).removeprefix("REJECT_REASON_").lower()
    return {"file": result.name, "result": STATUS_WORDS.get(result.status, "?"), "reason": reason,
            "detail": result.message, "size": f"{result.width}×{result.height}" if result.width else "",
            "label": result.suggested_label}


def upload_all(client: Any, project_id: str, files: Iterable[tuple[str, bytes]], *,
               policy: int = common_pb2.SUGGESTED_LABEL_POLICY_SUGGEST,
               on_progress: Callable[[int, int, str], None] = lambda done, total, name: None) -> UploadOutcome:
    """Uploads each file in its own call; a failed call becomes a rejected row, never a lost file."""
    pending = list(files)
    total = sum(len(data) for _, data in pending) or 1
    outcome, done = UploadOutcome(rows=[]), 0
    for name, data in pending:
        on_progress(done, total, name)
        try:
            reply = client.upload_images(project_id, [(name, data)], policy=policy)
        except grpc.RpcError as exc:
            outcome.rows.append({"file": name, "result": "rejected", "reason": exc.code().name.lower(),
                                 "detail": exc.details(), "size": "", "label": ""})
            outcome.rejected += 1
        else:
            outcome.rows.extend(result_row(r) for r in reply.results
                                if r.status != storage_pb2.FILE_STATUS_EXPANDED)
            outcome.stored += reply.summary.stored
            outcome.duplicate += reply.summary.duplicate
            outcome.rejected += reply.summary.rejected
        done += len(data)
    on_progress(total, total, "")
    return outcome
