"""Assembles the storage service from settings: object store, index database, ingest pool, the link
to labels, and the servicer. Tests build it the same way with their own settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from harvest.client import HarvestClient
from harvest.common.database import make_engine, migrate, session_factory
from harvest.common.errors import InvalidArgument
from harvest.common.objectstore import ObjectStore, S3ObjectStore, open_store
from harvest.common.settings import EndpointSettings, ObjectStoreSettings, StorageSettings, TLSSettings
from harvest.storage.catalog import Catalog
from harvest.storage.ingest import Ingestor
from harvest.storage.labels_link import LabelsLink
from harvest.storage.prefix_import import PrefixImports
from harvest.storage.servicer import StorageServicer
from harvest.storage.snapshot_store import RunObjects, SnapshotStore

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass
class StorageService:
    store: ObjectStore
    engine: Engine
    ingestor: Ingestor
    servicer: StorageServicer
    labels_client: HarvestClient | None

    def close(self) -> None:
        self.ingestor.close()
        if self.labels_client is not None:
            self.labels_client.close()
        self.engine.dispose()


def source_stores(settings: ObjectStoreSettings, own: ObjectStore) -> Callable[[str], ObjectStore]:
    """Where ImportPrefix reads from: another bucket of the same S3 endpoint, or our own store."""

    def resolve(bucket: str) -> ObjectStore:
        if not bucket or (settings.backend == "s3" and bucket == settings.s3_bucket):
            return own
        if settings.backend != "s3":
            raise InvalidArgument("the local object store imports only from itself: leave `bucket` empty")
        return S3ObjectStore.from_settings(settings, bucket, create_bucket=False)

    return resolve


def build_storage(home: Path, *, store_settings: ObjectStoreSettings | None = None,
                  storage_settings: StorageSettings | None = None, endpoints: EndpointSettings | None = None,
                  tls: TLSSettings | None = None, check_membership: bool = True) -> StorageService:
    store_settings = store_settings or ObjectStoreSettings()
    storage_settings = storage_settings or StorageSettings()
    store = open_store(store_settings, home)
    url = storage_settings.resolved_db_url(home)
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    sessions = session_factory(engine)
    ingestor = Ingestor(store, sessions, storage_settings)
    sources = source_stores(store_settings, store)
    client = HarvestClient(endpoints or EndpointSettings(), tls=tls) if check_membership else None
    servicer = StorageServicer(ingestor, Catalog(store, sessions, storage_settings, sources, ingestor.forget),
                               SnapshotStore(store, sessions), RunObjects(store), PrefixImports(ingestor, sources),
                               LabelsLink(client) if client is not None else None)
    return StorageService(store, engine, ingestor, servicer, client)
