"""`harvest serve ui`: run the Streamlit app on the configured host and port."""

from __future__ import annotations

import sys
from pathlib import Path

from harvest.common.settings import EndpointSettings

APP = Path(__file__).resolve().parent / "app.py"


def main() -> int:
    from streamlit.web import cli as streamlit_cli

    endpoints = EndpointSettings()
    sys.argv = [
        "streamlit", "run", str(APP),
        "--server.port", str(endpoints.ui_port),
        "--server.address", endpoints.bind_host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
    ]
    return int(streamlit_cli.main() or 0)


if __name__ == "__main__":
    sys.exit(main())
