"""`harvest serve storage` / `python -m harvest.storage`: run the storage service."""

from __future__ import annotations

import sys

from harvest.common.server import run_service
from harvest.storage.servicer import register_storage


def main() -> int:
    return run_service("storage", register_storage())


if __name__ == "__main__":
    sys.exit(main())
