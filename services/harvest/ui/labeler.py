"""The single-image labeling session: a queue of items, a position in it, and an undo stack.

It lives in `st.session_state` between key presses, so pressing a class key costs one Annotate call
and no re-listing. Items come from NextItems (ordered by the chosen strategy and leased to the user) or
from a filter (suspected errors, disagreements); every write carries the version the user saw, so a
label someone else changed meanwhile is reported and re-read instead of overwritten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc

from harvest.ui import reads
from harvest.v1 import common_pb2, labels_pb2

SOURCES = ("queue", "suspected errors", "disagreements")
STRATEGIES = {"random": labels_pb2.QUEUE_STRATEGY_RANDOM, "uncertainty (entropy)": labels_pb2.QUEUE_STRATEGY_ENTROPY,
              "uncertainty (margin)": labels_pb2.QUEUE_STRATEGY_MARGIN,
              "least confident": labels_pb2.QUEUE_STRATEGY_LEAST_CONFIDENT,
              "diversity": labels_pb2.QUEUE_STRATEGY_DIVERSITY, "hybrid": labels_pb2.QUEUE_STRATEGY_HYBRID}
_BATCH = 20


@dataclass
class Labeler:
    """Where the user is in their labeling queue; methods call the services and move the position."""

    project_id: str
    source: str = "queue"
    strategy: int = labels_pb2.QUEUE_STRATEGY_RANDOM
    items: list[labels_pb2.Item] = field(default_factory=list)
    position: int = 0
    undo_stack: list[tuple[str, int]] = field(default_factory=list)
    exhausted: bool = False
    message: str = ""
    effective_strategy: int = 0
    labeled_here: int = 0

    def current(self) -> labels_pb2.Item | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def fill(self, client: Any) -> None:
        """Fetches more items when fewer than two are left ahead (so the next key press never waits)."""
        if self.exhausted or len(self.items) - self.position > 2:
            return
        known = {item.item_id for item in self.items}
        if self.source == "queue":
            reply = client.labels.NextItems(labels_pb2.NextItemsRequest(
                project_id=self.project_id, n=min(100, _BATCH + len(self.items) - self.position),
                strategy=self.strategy), timeout=15)
            self.effective_strategy = reply.effective_strategy
            fresh = [q.item for q in reply.items if q.item.item_id not in known]
        else:
            wanted = (labels_pb2.ItemFilter(suspected_error=True) if self.source == "suspected errors"
                      else labels_pb2.ItemFilter(disagreement=True))
            order = (labels_pb2.ITEM_ORDER_SUSPICION_DESC if self.source == "suspected errors"
                     else labels_pb2.ITEM_ORDER_UPDATED_DESC)
            fresh = [i for i in reads.items(client, self.project_id, item_filter=wanted, order=order, limit=200)
                     if i.item_id not in known]
            self.exhausted = True
        if not fresh:
            self.exhausted = True
        self.items.extend(fresh)

    def label(self, client: Any, class_id: str, *, model_id: str = "") -> bool:
        """Annotates the current item and moves on; False (with `message`) when the service refused."""
        item = self.current()
        if item is None:
            return False
        request = labels_pb2.AnnotateRequest(
            project_id=self.project_id, item_id=item.item_id, class_id=class_id, expected_version=item.version,
            source=common_pb2.LABEL_SOURCE_MODEL if model_id else common_pb2.LABEL_SOURCE_HUMAN,
            model_id=model_id, client_request_id=uuid.uuid4().hex)
        try:
            reply = client.labels.Annotate(request, timeout=10)
        except grpc.RpcError as exc:
            self._refused(client, item, exc)
            return False
        self.items[self.position] = reply.item
        self.undo_stack.append((reply.item.item_id, reply.item.version))
        self.labeled_here += 1
        self.message = ""
        self.step(client, +1)
        return True

    def accept(self, client: Any) -> bool:
        """One-key accept of the model's suggestion (recorded with source MODEL and the model id)."""
        item = self.current()
        if item is None or not item.HasField("prediction") or not item.prediction.predicted_class_id:
            self.message = "No model suggestion for this image yet."
            return False
        return self.label(client, item.prediction.predicted_class_id, model_id=item.prediction.model_id)

    def step(self, client: Any, delta: int) -> None:
        """Next (+1) or previous (-1); going back re-reads the item so its label and version are current."""
        self.position = max(0, min(self.position + delta, len(self.items)))
        self.fill(client)
        if delta < 0 and self.current() is not None:
            self._reread(client)

    def undo(self, client: Any) -> bool:
        """Undoes the user's latest label of this session and shows that image again."""
        if not self.undo_stack:
            self.message = "Nothing to undo."
            return False
        item_id, version = self.undo_stack.pop()
        try:
            reply = client.labels.Undo(labels_pb2.UndoRequest(project_id=self.project_id, item_id=item_id,
                                                              expected_version=version), timeout=10)
        except grpc.RpcError as exc:
            self.message = f"Undo refused — {exc.code().name}: {exc.details()}"
            return False
        index = next((i for i, it in enumerate(self.items) if it.item_id == item_id), None)
        if index is None:
            self.items.insert(self.position, reply.item)
            index = self.position
        self.items[index] = reply.item
        self.position = index
        self.labeled_here = max(0, self.labeled_here - 1)
        self.message = "Undone."
        return True

    def _reread(self, client: Any) -> None:
        item = self.items[self.position]
        reply = client.labels.GetItem(labels_pb2.GetItemRequest(project_id=self.project_id, item_id=item.item_id),
                                      timeout=10)
        self.items[self.position] = reply.item

    def _refused(self, client: Any, item: labels_pb2.Item, exc: grpc.RpcError) -> None:
        if exc.code() == grpc.StatusCode.ABORTED:
            self._reread(client)
            self.message = "Someone changed this image meanwhile; it now shows the current label. Label it again."
        else:
            self.message = f"Label refused — {exc.code().name}: {exc.details()}"
