"""`harvest serve labels` / `python -m harvest.labels`: run the labels service.

The schema is migrated at start; this service also checks token revocation against its database
(it owns the token records). The database pool holds one connection per serving thread, so a burst of
calls never waits for a connection.
"""

from __future__ import annotations

import sys

from harvest.common.auth import TokenSigner
from harvest.common.server import ServerConfig, run_service
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
    migrate(url)
    engine = make_engine(url, echo=database.echo, pool_size=config.server.max_workers + 4)
    # The core's directory signs tokens; the server's signer verifies them and consults the same database.
    core = LabelsCore.build(engine, TokenSigner(config.auth), GrpcStorageHandoff(config.endpoints, config.tls),
                            LabelsSettings(), server_threads=config.server.max_workers)
    signer = TokenSigner(config.auth, is_revoked=core.users.is_revoked)
    try:
        return run_service("labels", register_labels(core), config, signer=signer)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
