"""The Celery application of the scheduler's worker.

Tasks are short (submit, poll, cancel); the job state lives in our database, so the broker only carries
"look at job X now". Embedded default: Kombu's filesystem transport under the home (no server);
deployments: Redis. Delivery settings make a task survive a worker crash without running twice in
parallel: acknowledge after the task ran, re-deliver when the worker died, prefetch one at a time.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from harvest.common.settings import BrokerSettings, HomeSettings


def broker_options(settings: BrokerSettings, home: Path) -> tuple[str, dict[str, object]]:
    """The broker URL and transport options for these settings."""
    if settings.url:
        return settings.url, {"visibility_timeout": settings.visibility_timeout_s}
    folder = home / "broker"
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "polling_interval": 0.5,  # seconds between looks at the queue folder
    }


def create_app(settings: BrokerSettings | None = None, home: Path | None = None) -> Celery:
    settings = settings or BrokerSettings()
    home = home or HomeSettings().home
    url, transport_options = broker_options(settings, home)
    app = Celery("harvest", broker=url, backend=settings.result_backend, include=["harvest.scheduler.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport_options,
        result_backend_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        task_ignore_result=settings.result_backend is None,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        timezone="UTC",
        # Polling is the only periodic work; at most one poll waits in the queue (it expires otherwise).
        beat_schedule={"poll-jobs": {"task": "harvest.scheduler.poll", "schedule": settings.poll_interval_s,
                                     "options": {"expires": settings.poll_interval_s}}},
        beat_schedule_filename=str(home / "celerybeat-schedule"),
    )
    return app


app = create_app()
