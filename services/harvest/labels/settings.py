"""Settings of the labels service (`HARVEST_LABELS_*`), read once at start and passed down.

The database URL is `harvest.common.settings.DatabaseSettings` (`HARVEST_DB_URL`), shared with the CLI.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LabelsSettings(BaseSettings):
    """The annotation event feed and the label write path."""

    model_config = SettingsConfigDict(env_prefix="HARVEST_LABELS_", extra="ignore", case_sensitive=False)

    watch_interval_s: float = Field(
        default=0.2, gt=0, le=60, description="How often WatchAnnotations looks for new events: the longest "
        "delay between a write and its event, and one small query per open stream each time.")
    max_watch_streams: int = Field(
        default=4, ge=1, le=1000, description="Open WatchAnnotations streams this server serves at once; each "
        "holds a serving thread, so it is kept below HARVEST_SERVER_MAX_WORKERS (at most half of them).")
    max_watch_streams_per_user: int = Field(default=2, ge=1, le=1000,
                                            description="Open WatchAnnotations streams of one user.")
    max_sessions: int = Field(
        default=256, ge=1, le=10000, description="Open AnnotateStream labeling sessions this server serves at "
        "once (they run on the server's event loop and hold no thread).")
    max_sessions_per_user: int = Field(default=4, ge=1, le=1000,
                                       description="Open AnnotateStream labeling sessions of one user.")
    write_batch: int = Field(
        default=64, ge=1, le=1000, description="PostgreSQL: most label writes group-committed in one statement "
        "(the writes that arrive while one is in flight go together); 1 sends each write alone.")
    processes: int = Field(
        default=1, ge=1, le=64, description="Serving processes on the labels port (SO_REUSEPORT; the kernel "
        "spreads connections over them). One Python process serves about one core's worth of calls; use up "
        "to the cores the service may use. Needs a fixed HARVEST_LABELS_PORT.")
    pin_processes: bool = Field(
        default=False, description="With HARVEST_LABELS_PROCESSES > 1, run each process on a CPU of its own "
        "(round robin over the CPUs the service may use): for a host given to the service; leave it off on a "
        "host shared with other busy programs.")
