"""The annotation event feed's core on SQLite: the migrated schema equals the models, the sequencer numbers
committed events 1, 2, 3 … in id order without gaps (also when an event with an older id commits late, and
for a backlog numbered in pages), and the feed replays exactly the events after a cursor, page by page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select

from harvest.common.auth import Principal, Role
from harvest.labels.db import Database, make_engine, migrate
from harvest.labels.event_feed import AnnotationFeed, Sequencer, sequencer_lock_key
from harvest.labels.models import Annotation, Base, Item, Membership, Project, User, new_sortable_id
from harvest.labels.states import AnnotationKind, LabelSource

pytestmark = pytest.mark.unit

EXPERT = Principal(user_id="u-expert", username="eve", role=Role.EXPERT, token_id="t", expires_at=0.0)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database file, copied for each test (migrating takes most of a second)."""
    path = tmp_path_factory.mktemp("labels") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def engine(migrated: Path, tmp_path: Path) -> Iterator[Engine]:
    shutil.copyfile(migrated, tmp_path / "labels.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'labels.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Database:
    database = Database(engine)
    with database.write() as session:
        rows: list[Base] = [User(id=EXPERT.user_id, username=EXPERT.username, role="expert")]
        for project_id in ("p1", "p2"):
            rows += [Project(id=project_id, name=project_id, created_by=EXPERT.user_id),
                     Membership(project_id=project_id, user_id=EXPERT.user_id),
                     Item(id=f"{project_id}-item", project_id=project_id, image_id=f"{project_id}-image")]
        for row in rows:  # one at a time: without relationships the session does not order them by key
            session.add(row)
            session.flush()
    return database


def append(db: Database, project_id: str = "p1", event_id: str | None = None) -> str:
    """Commit one unnumbered event (as every writer does) and return its id."""
    event_id = event_id or new_sortable_id()
    with db.write() as session:
        session.add(Annotation(id=event_id, project_id=project_id, item_id=f"{project_id}-item",
                               kind=int(AnnotationKind.LABEL), source=int(LabelSource.HUMAN),
                               user_id=EXPERT.user_id, username=EXPERT.username, item_version=2))
    return event_id


def numbers(db: Database, project_id: str = "p1") -> list[tuple[str, int | None]]:
    """(id, sequence) of the project's events in sequence order (unnumbered last)."""
    with db.read() as session:
        rows = session.execute(select(Annotation.id, Annotation.sequence).where(Annotation.project_id == project_id))
        return sorted(((i, s) for i, s in rows), key=lambda row: (row[1] is None, row[1] or 0))


class Forever:
    """A call that never ends, but stops the feed's loop after `polls` waits (as a cancel would)."""

    def __init__(self, polls: int = 0) -> None:
        self.polls = polls

    def wait(self, seconds: float) -> bool:
        self.polls -= 1
        return self.polls >= 0


def test_the_migrated_schema_equals_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sequencer_numbers_committed_events_in_id_order_from_one(db: Database) -> None:
    first, second, third = append(db), append(db), append(db)
    other = append(db, "p2")
    assert Sequencer(db).number("p1") == 3
    assert numbers(db) == [(first, 1), (second, 2), (third, 3)]
    assert numbers(db, "p2") == [(other, None)]  # each project has its own sequence, numbered when watched
    assert Sequencer(db).number("p2") == 1


def test_an_event_committed_late_with_an_older_id_gets_the_next_number(db: Database) -> None:
    early_id = new_sortable_id()  # taken first, committed last: a slow writer
    later = append(db)
    assert Sequencer(db).number("p1") == 1
    append(db, event_id=early_id)
    newest = append(db)
    assert Sequencer(db).number("p1") == 3
    assert numbers(db) == [(later, 1), (early_id, 2), (newest, 3)]


def test_nothing_pending_leaves_the_numbers_as_they_are(db: Database) -> None:
    assert Sequencer(db).number("p1") == 0
    first = append(db)
    sequencer = Sequencer(db)
    assert sequencer.number("p1") == sequencer.number("p1") == 1
    assert numbers(db) == [(first, 1)]


def test_a_backlog_is_numbered_in_pages_without_gaps(db: Database) -> None:
    ids = [append(db) for _ in range(7)]
    assert Sequencer(db, page=3).number("p1") == 7
    assert numbers(db) == [(event_id, n) for n, event_id in enumerate(ids, start=1)]


def test_the_advisory_lock_key_is_stable_and_fits_a_bigint() -> None:
    key = sequencer_lock_key("0123456789abcdef0123456789abcdef")
    assert key == sequencer_lock_key("0123456789abcdef0123456789abcdef") != sequencer_lock_key("another")
    assert -(2**63) <= key < 2**63
    assert key == 5377718916564077481  # the same number in every process and release: never change it


def test_the_feed_replays_exactly_the_events_after_the_cursor_in_pages(db: Database) -> None:
    ids = [append(db) for _ in range(5)]
    feed = AnnotationFeed(db, interval_s=0.001, page=2)
    assert feed.start(EXPERT, "p1", 0) == 5 and feed.start(EXPERT, "p1", 2) == 2
    sent = list(feed.events(EXPERT, "p1", 2, Forever()))
    assert [(e.sequence, e.annotation.id) for e in sent] == [(3, ids[2]), (4, ids[3]), (5, ids[4])]
    assert all(e.item is not None and e.item.item.id == "p1-item" for e in sent)


def test_the_feed_numbers_and_sends_events_committed_while_it_waits(db: Database) -> None:
    feed = AnnotationFeed(db, interval_s=0.001)
    written: list[str] = []

    class WriteWhileWaiting(Forever):
        def wait(self, seconds: float) -> bool:
            if self.polls > 0:
                written.append(append(db))
            return super().wait(seconds)

    sent = list(feed.events(EXPERT, "p1", feed.start(EXPERT, "p1", 0), WriteWhileWaiting(polls=3)))
    assert [(e.sequence, e.annotation.id) for e in sent] == list(enumerate(written, start=1))
