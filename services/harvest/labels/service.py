"""Assembles the labels service's core from one database: every context shares the engine and the one
event writer, so the servicer (and tests, and benchmarks) get the whole core from one call."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from harvest.common.auth import TokenSigner
from harvest.labels.annotations import Annotations
from harvest.labels.audit import AuditLog
from harvest.labels.classes import Classes
from harvest.labels.db import Database
from harvest.labels.event_feed import AnnotationFeed
from harvest.labels.events import EventWriter
from harvest.labels.exports import LabelExports
from harvest.labels.imports import LabelImports
from harvest.labels.items import Items
from harvest.labels.members import Members
from harvest.labels.predictions import ModelOutputs
from harvest.labels.projects import Projects
from harvest.labels.queue import LabelingQueue
from harvest.labels.sessions import LabelSessions
from harvest.labels.settings import LabelsSettings
from harvest.labels.snapshots_freeze import Snapshots, StorageHandoff
from harvest.labels.users import UserDirectory
from harvest.labels.workflow import Workflow


@dataclass
class LabelsCore:
    """Every context of the labels service."""

    db: Database
    users: UserDirectory
    projects: Projects
    classes: Classes
    members: Members
    items: Items
    annotations: Annotations
    feed: AnnotationFeed
    sessions: LabelSessions
    workflow: Workflow
    queue: LabelingQueue
    outputs: ModelOutputs
    snapshots: Snapshots
    imports: LabelImports
    exports: LabelExports
    audit: AuditLog

    @classmethod
    def build(cls, engine: Engine, signer: TokenSigner, handoff: StorageHandoff,
              settings: LabelsSettings | None = None, server_threads: int | None = None) -> LabelsCore:
        """`server_threads`: the serving threads, of which watch streams may hold at most half."""
        settings = settings or LabelsSettings()
        db = Database(engine)
        events = EventWriter(db)
        users = UserDirectory(db.sessions, signer)
        max_streams = settings.max_watch_streams
        if server_threads is not None:
            max_streams = max(1, min(max_streams, server_threads // 2))
        feed = AnnotationFeed(db, settings.watch_interval_s, max_streams=max_streams,
                              max_streams_per_user=settings.max_watch_streams_per_user, is_revoked=users.is_revoked)
        annotations = Annotations(db, events, settings.write_batch)
        sessions = LabelSessions(db, annotations, settings.max_sessions, settings.max_sessions_per_user,
                                 is_revoked=users.is_revoked)
        return cls(db=db, users=users, projects=Projects(db),
                   classes=Classes(db, events), members=Members(db), items=Items(db, events),
                   annotations=annotations, feed=feed, sessions=sessions,
                   workflow=Workflow(db, events), queue=LabelingQueue(db),
                   outputs=ModelOutputs(db), snapshots=Snapshots(db, handoff), imports=LabelImports(db, events),
                   exports=LabelExports(db), audit=AuditLog(db))
