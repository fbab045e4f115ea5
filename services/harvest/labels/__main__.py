"""`harvest serve labels` / `python -m harvest.labels`: run the labels service.

The schema is migrated at start; this service also checks token revocation against its database
(it owns the token records).
"""

from __future__ import annotations

import sys

from harvest.common.auth import TokenSigner
from harvest.common.server import ServerConfig, run_service
from harvest.common.settings import DatabaseSettings, HomeSettings
from harvest.labels.db import make_engine, migrate, session_factory
from harvest.labels.servicer import register_labels
from harvest.labels.users import UserDirectory


def main() -> int:
    config = ServerConfig()
    database = DatabaseSettings()
    url = database.resolved_url(HomeSettings().home)
    migrate(url)
    engine = make_engine(url, echo=database.echo)
    sessions = session_factory(engine)
    # The directory signs tokens; the server's signer verifies them and consults the same database.
    directory = UserDirectory(sessions, TokenSigner(config.auth))
    signer = TokenSigner(config.auth, is_revoked=directory.is_revoked)
    try:
        return run_service("labels", register_labels(directory), config, signer=signer)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
