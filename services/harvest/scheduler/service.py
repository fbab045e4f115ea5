"""Assembles the scheduler from settings: jobs database, object store, launchers, the link to labels,
the model registrar, and a dispatcher. The gRPC server, the Celery worker and the tests build it the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from harvest.client import HarvestClient
from harvest.common.auth import ServiceIdentity, TokenSigner
from harvest.common.database import make_engine, migrate, session_factory
from harvest.common.objectstore import ObjectStore, open_store
from harvest.common.settings import AuthSettings, ClientSettings, EndpointSettings, ObjectStoreSettings, TLSSettings
from harvest.scheduler.core import Dispatcher, SchedulerCore
from harvest.scheduler.jobs import JobStore
from harvest.scheduler.labels_link import LabelsLink
from harvest.scheduler.launchers.base import Launcher
from harvest.scheduler.launchers.kubeflow import KubeflowLauncher
from harvest.scheduler.launchers.local import LocalLauncher
from harvest.scheduler.launchers.slurm import SlurmLauncher
from harvest.scheduler.registration import SERVICE_NAME, ModelRegistrar
from harvest.scheduler.settings import SchedulerConfig

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass
class SchedulerService:
    core: SchedulerCore
    engine: Engine
    client: HarvestClient | None

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.engine.dispose()


def open_jobs_database(url: str) -> Engine:
    """Migrated engine; on SQLite every transaction takes the write lock at BEGIN (read-then-write is safe)."""
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def job_environment(store: ObjectStoreSettings, home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """How a training process finds the object store (never the S3 keys: sites pass those via env_file or a
    Kubernetes secret), plus the site's extra variables."""
    env = {"HARVEST_STORE_BACKEND": store.backend}
    if store.backend == "local":
        env["HARVEST_STORE_LOCAL_ROOT"] = str(store.local_root or home / "objects")
    else:
        env.update(HARVEST_STORE_S3_ENDPOINT=store.s3_endpoint, HARVEST_STORE_S3_BUCKET=store.s3_bucket,
                   HARVEST_STORE_S3_SECURE=str(store.s3_secure).lower())
        if store.s3_region:
            env["HARVEST_STORE_S3_REGION"] = store.s3_region
    env.update(extra)
    return env


def build_launchers(config: SchedulerConfig, home: Path, env: dict[str, str]) -> dict[str, Launcher]:
    log_dir = config.log_dir(home)
    launchers: dict[str, Launcher] = {}
    for name in config.scheduler.backends:
        if name == "local":
            launchers[name] = LocalLauncher(log_dir, config.job.python, env, config.job.rdzv_port)
        elif name == "slurm":
            launchers[name] = SlurmLauncher(config.slurm, log_dir, config.job.python, config.job.rdzv_port, env,
                                            config.job.env_file, command_env=dict(os.environ))
        elif name == "kubeflow":
            launchers[name] = KubeflowLauncher(config.kubeflow, env)
    return launchers


def build_scheduler(home: Path, dispatcher: Dispatcher, *, config: SchedulerConfig | None = None,
                    store_settings: ObjectStoreSettings | None = None, auth: AuthSettings | None = None,
                    endpoints: EndpointSettings | None = None, tls: TLSSettings | None = None,
                    check_membership: bool = True, store: ObjectStore | None = None) -> SchedulerService:
    config = config or SchedulerConfig()
    store_settings = store_settings or ObjectStoreSettings()
    store = store or open_store(store_settings, home)
    engine = open_jobs_database(config.scheduler.resolved_db_url(home))
    env = job_environment(store_settings, home, config.job.env)
    client = HarvestClient(endpoints or EndpointSettings(), tls=tls, settings=ClientSettings(max_attempts=2,
                                                                                            timeout_s=30))
    registrar = None
    if auth is not None:
        identity = ServiceIdentity(TokenSigner(auth), SERVICE_NAME, config.scheduler.service_token_ttl_s)
        registrar = ModelRegistrar(client, identity)
    core = SchedulerCore(JobStore(session_factory(engine)), build_launchers(config, home, env), store,
                         config.scheduler, dispatcher, LabelsLink(client) if check_membership else None, registrar, env)
    return SchedulerService(core, engine, client)
