"""`harvest worker`: the Celery worker (one task at a time; tasks are short) with the embedded beat that
schedules the periodic poll."""

from __future__ import annotations

import sys

from harvest.common.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    configure_logging("worker")
    from harvest.scheduler.celery_app import app

    args = ["worker", "--pool=solo", "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle",
            "--beat"]
    app.worker_main([*args, *(argv if argv is not None else [])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
