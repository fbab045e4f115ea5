"""Freezing a project's current labels into a dataset snapshot.

The split is a pure function of the labels, the options and the seed (`split_entries`), so the same labels
and seed always give the same manifest, and therefore the same content-derived snapshot id in storage. The
manifest itself is written by storage: this module builds the entries and hands them to a `StorageHandoff`
(over gRPC in the service, see storage_handoff), then records the snapshot for the project.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from harvest.common.auth import Principal
from harvest.common.errors import FailedPrecondition, InvalidArgument
from harvest.common.snapshots import ManifestEntry, validate
from harvest.labels import audit, policies
from harvest.labels.db import Database
from harvest.labels.models import Item, LabelClass, SnapshotRecord
from harvest.labels.paging import after_key, page_request
from harvest.labels.states import LabelSource

DEFAULT_VALIDATION_FRACTION = 0.2
MAX_VALIDATION_FRACTION = 0.5
STRATIFIED, RANDOM = 1, 2


@dataclass(frozen=True, slots=True)
class FreezeOptions:
    """The contract's FreezeOptions with defaults resolved."""

    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    split_strategy: int = STRATIFIED
    seed: int = 0
    exclude_noisy_labels: bool = False
    exclude_unlabeled: bool = False
    max_unlabeled: int = 0
    include_model_labels: bool = False

    def validated(self) -> FreezeOptions:
        if not 0 <= self.validation_fraction <= MAX_VALIDATION_FRACTION:
            raise InvalidArgument(f"validation_fraction must be in [0, {MAX_VALIDATION_FRACTION}]")
        if self.split_strategy not in (STRATIFIED, RANDOM):
            raise InvalidArgument("split_strategy must be STRATIFIED or RANDOM")
        if self.max_unlabeled < 0:
            raise InvalidArgument("max_unlabeled must not be negative")
        return self


@dataclass(frozen=True, slots=True)
class FrozenItem:
    """What the freeze needs of an item: its image and its current label (None when it has none to use)."""

    item_id: str
    key: str
    sha256: str
    width: int
    height: int
    label: str | None
    noisy: bool


@dataclass(frozen=True, slots=True)
class FrozenSnapshot:
    """A manifest ready for storage: classes in label-index order and entries in manifest order."""

    project_id: str
    classes: list[tuple[str, str]]  # (class id, name)
    entries: list[ManifestEntry]
    options: FreezeOptions

    def count(self, split: str) -> int:
        return sum(1 for e in self.entries if e.split == split)

    @property
    def noisy_count(self) -> int:
        return sum(1 for e in self.entries if e.noisy)


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """What storage answers: the id and where the manifest is."""

    snapshot_id: str
    manifest_key: str
    manifest_sha256: str
    format: str


class StorageHandoff(Protocol):
    """Writes a frozen snapshot to storage as the caller (their bearer token) and says where it went."""

    def __call__(self, snapshot: FrozenSnapshot, token: str) -> StoredSnapshot: ...


def _validation_count(size: int, fraction: float, stratified: bool) -> int:
    """Per class (stratified) or overall: at least one for validation when a class has 2+ items and the
    fraction is positive, and always at least one left for training."""
    if size < 2 or fraction <= 0:
        return 0
    wanted = round(size * fraction)
    if stratified:
        wanted = max(1, wanted)
    return min(wanted, size - 1)


def split_entries(items: Sequence[FrozenItem], options: FreezeOptions) -> list[ManifestEntry]:
    """Labeled / validation / unlabeled entries, deterministic for the same items, options and seed."""
    rng = random.Random(options.seed)
    ordered = sorted(items, key=lambda i: i.item_id)
    labeled = [i for i in ordered if i.label is not None]
    unlabeled = [i for i in ordered if i.label is None]
    # Validation measures the model against the truth: weak (noisy) labels join it only when nothing else can.
    trusted = [i for i in labeled if not i.noisy] or labeled
    validation: set[str] = set()
    if options.split_strategy == STRATIFIED:
        by_class: dict[str, list[FrozenItem]] = defaultdict(list)
        for item in trusted:
            by_class[item.label or ""].append(item)
        for name in sorted(by_class):
            members = by_class[name][:]
            rng.shuffle(members)
            count = _validation_count(len(members), options.validation_fraction, stratified=True)
            validation.update(i.item_id for i in members[:count])
    else:
        members = trusted[:]
        rng.shuffle(members)
        count = _validation_count(len(members), options.validation_fraction, stratified=False)
        validation.update(i.item_id for i in members[:count])
    if options.exclude_unlabeled:
        unlabeled = []
    elif options.max_unlabeled and len(unlabeled) > options.max_unlabeled:
        unlabeled = sorted(rng.sample(unlabeled, options.max_unlabeled), key=lambda i: i.item_id)

    def entry(item: FrozenItem, split: str) -> ManifestEntry:
        return ManifestEntry(key=item.key, sha256=item.sha256, width=item.width, height=item.height,
                             label=item.label if split != "unlabeled" else None, split=split,  # type: ignore[arg-type]
                             item_id=item.item_id, noisy=item.noisy and split != "unlabeled")

    return ([entry(i, "labeled") for i in labeled if i.item_id not in validation]
            + [entry(i, "validation") for i in labeled if i.item_id in validation]
            + [entry(i, "unlabeled") for i in unlabeled])


def frozen_items(session: Session, project_id: str, options: FreezeOptions,
                 names: dict[str, str]) -> list[FrozenItem]:
    """Every item of the project with the label the options let through (others count as unlabeled)."""
    rows = session.execute(select(Item.id, Item.object_key, Item.image_id, Item.width, Item.height, Item.class_id,
                                  Item.noisy, Item.label_source).where(Item.project_id == project_id)).all()
    found = []
    missing_keys = 0
    for item_id, key, sha, width, height, class_id, noisy, source in rows:
        usable = class_id is not None and class_id in names
        if usable and noisy and options.exclude_noisy_labels:
            usable = False
        if usable and source == LabelSource.MODEL and not options.include_model_labels:
            usable = False
        if not key:
            missing_keys += 1
            continue
        found.append(FrozenItem(item_id, key, sha, width, height, names[class_id] if usable and class_id else None,
                                bool(noisy) and usable))
    if missing_keys:
        raise FailedPrecondition(f"{missing_keys} item(s) were registered without an object key or image format, "
                                 "so the snapshot cannot name their images; register them again with object_key")
    return found


class Snapshots:
    """FreezeSnapshot and ListSnapshots."""

    def __init__(self, db: Database, handoff: StorageHandoff) -> None:
        self._db = db
        self._handoff = handoff

    def prepare(self, principal: Principal, project_id: str, options: FreezeOptions) -> FrozenSnapshot:
        """The snapshot's classes and entries (no storage call): what `freeze` sends."""
        options = options.validated()
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.freeze_snapshot(principal, access)
            classes = [(c.id, c.name) for c in session.scalars(
                select(LabelClass).where(LabelClass.project_id == project_id, LabelClass.retired.is_(False))
                .order_by(LabelClass.position, LabelClass.created_at))]
            items = frozen_items(session, project_id, options, dict(classes))
        entries = split_entries(items, options)
        if not any(e.split != "unlabeled" for e in entries):
            raise FailedPrecondition("the project has no labeled items to freeze; label some first")
        validate(tuple(name for _, name in classes), entries)
        return FrozenSnapshot(project_id, classes, entries, options)

    def freeze(self, principal: Principal, project_id: str, options: FreezeOptions, token: str) -> SnapshotRecord:
        frozen = self.prepare(principal, project_id, options)
        stored = self._handoff(frozen, token)
        with self._db.write() as session:
            record = session.get(SnapshotRecord, stored.snapshot_id)
            if record is None:
                record = SnapshotRecord(
                    id=stored.snapshot_id, project_id=project_id, manifest_key=stored.manifest_key,
                    manifest_sha256=stored.manifest_sha256, format=stored.format,
                    classes=[list(c) for c in frozen.classes], labeled_count=frozen.count("labeled"),
                    unlabeled_count=frozen.count("unlabeled"), validation_count=frozen.count("validation"),
                    noisy_count=frozen.noisy_count, options=asdict(frozen.options), created_by=principal.user_id)
                session.add(record)
                audit.record(session, principal, "FreezeSnapshot", "snapshot", stored.snapshot_id,
                             project_id=project_id, labeled=record.labeled_count,
                             validation=record.validation_count, unlabeled=record.unlabeled_count)
        return record

    def list(self, principal: Principal, project_id: str, page_size: int,
             page_token: str) -> tuple[list[SnapshotRecord], str, int]:
        page = page_request(page_size, page_token, "snapshots", project_id)
        with self._db.read() as session:
            access = policies.load_access(session, principal, project_id)
            policies.view_project(principal, access)
            statement = select(SnapshotRecord).where(SnapshotRecord.project_id == project_id)
            total = len(session.scalars(select(SnapshotRecord.id).where(SnapshotRecord.project_id == project_id))
                        .all())
            order = [(SnapshotRecord.created_at, True), (SnapshotRecord.id, True)]
            if page.after is not None:
                statement = statement.where(after_key(order, [dt.datetime.fromisoformat(page.after[0]),
                                                              page.after[1]]))
            rows = list(session.scalars(statement.order_by(SnapshotRecord.created_at.desc(),
                                                           SnapshotRecord.id.desc()).limit(page.size + 1)))
        return rows[:page.size], page.next_token(rows, lambda r: (r.created_at.isoformat(), r.id)), total
