"""`harvest serve labels` / `python -m harvest.labels`: run the labels service.

The schema is migrated at start; this service also checks token revocation against its database
(it owns the token records). It serves on the asyncio server: label writes and labeling sessions are
coroutines on its event loop, every other call runs in one of HARVEST_SERVER_MAX_WORKERS threads, and the
database pool has a connection per thread, so a burst of calls never waits for a connection. With
HARVEST_LABELS_PROCESSES > 1 this process migrates, then runs that many replicas on the same port
(`harvest.common.replicas`) instead of serving itself; the replicas find the schema migrated and do not
migrate again.
"""

from __future__ import annotations

import sys

from harvest.common.auth import TokenSigner
from harvest.common.replicas import is_replica, pin_to_cpu, serve_replicas
from harvest.common.server import ServerConfig, metrics_port, run_service
from harvest.common.settings import DatabaseSettings, HomeSettings
from harvest.labels.db import make_engine, migrate
from harvest.labels.service import LabelsCore
from harvest.labels.servicer import register_labels
from harvest.labels.settings import LabelsSettings
from harvest.labels.storage_handoff import GrpcStorageHandoff


def main() -> int:
    config = ServerConfig()
    database = DatabaseSettings()
    url = database.resolved_url(HomeSettings().home)
    settings = LabelsSettings()
    replica = is_replica()
    if not replica:
        migrate(url)
    if settings.processes > 1 and not replica:
        port = config.endpoints.port("labels")
        return serve_replicas("labels", settings.processes, "harvest.labels", config.endpoints.bind_host, port,
                              metrics_port(config.server, port), pin_cpus=settings.pin_processes)
    if replica:
        pin_to_cpu()
    threads = config.server.max_workers
    # a connection for each serving thread (they also run what coroutines hand to a thread) and the writer's
    engine = make_engine(url, echo=database.echo, pool_size=threads + 4)
    # The core's directory signs tokens; the server's signer verifies them and consults the same database.
    core = LabelsCore.build(engine, TokenSigner(config.auth), GrpcStorageHandoff(config.endpoints, config.tls),
                            settings, server_threads=threads)
    signer = core.users.verifier(config.auth)
    try:
        return run_service("labels", register_labels(core), config, signer=signer, asyncio=True)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
