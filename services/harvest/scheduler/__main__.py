"""`harvest serve scheduler` / `python -m harvest.scheduler`: run the scheduler service."""

from __future__ import annotations

import sys

from harvest.common.server import run_service
from harvest.scheduler.servicer import register_scheduler


def main() -> int:
    return run_service("scheduler", register_scheduler())


if __name__ == "__main__":
    sys.exit(main())
