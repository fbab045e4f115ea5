"""`harvest serve inference` / `python -m harvest.inference`: run the inference service."""

from __future__ import annotations

import sys

from harvest.common.server import run_service
from harvest.inference.servicer import register_inference


def main() -> int:
    return run_service("inference", register_inference())


if __name__ == "__main__":
    sys.exit(main())
