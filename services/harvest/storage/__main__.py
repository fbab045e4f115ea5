"""`harvest serve storage` / `python -m harvest.storage`: run the storage service."""

from __future__ import annotations

import sys

from harvest.common.server import ServerConfig, run_service
from harvest.common.settings import HomeSettings
from harvest.storage.service import build_storage
from harvest.storage.servicer import register_storage


def main() -> int:
    config = ServerConfig()
    service = build_storage(HomeSettings().home, endpoints=config.endpoints, tls=config.tls)
    try:
        return run_service("storage", register_storage(service.servicer), config)
    finally:
        service.close()


if __name__ == "__main__":
    sys.exit(main())
