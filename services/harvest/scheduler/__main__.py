"""`harvest serve scheduler` / `python -m harvest.scheduler`: run the scheduler service."""

from __future__ import annotations

import sys

from harvest.common.server import ServerConfig, run_service
from harvest.common.settings import HomeSettings
from harvest.scheduler.celery_app import app
from harvest.scheduler.dispatch import CeleryDispatcher
from harvest.scheduler.service import build_scheduler
from harvest.scheduler.servicer import register_scheduler


def main() -> int:
    config = ServerConfig()
    service = build_scheduler(HomeSettings().home, CeleryDispatcher(app), auth=config.auth,
                              endpoints=config.endpoints, tls=config.tls)
    try:
        return run_service("scheduler", register_scheduler(service.core), config)
    finally:
        service.close()


if __name__ == "__main__":
    sys.exit(main())
