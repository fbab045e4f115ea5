"""`harvest serve inference` / `python -m harvest.inference`: run the inference service."""

from __future__ import annotations

import sys

from harvest.common.server import ServerConfig, run_service
from harvest.common.settings import HomeSettings
from harvest.inference.service import build_inference
from harvest.inference.servicer import register_inference


def main() -> int:
    config = ServerConfig()
    service = build_inference(HomeSettings().home, endpoints=config.endpoints, tls=config.tls)
    try:
        return run_service("inference", register_inference(service.core), config)
    finally:
        service.close()


if __name__ == "__main__":
    sys.exit(main())
