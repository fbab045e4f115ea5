"""Settings of the labels service (`HARVEST_LABELS_*`), read once at start and passed down.

The database URL is `harvest.common.settings.DatabaseSettings` (`HARVEST_DB_URL`), shared with the CLI.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LabelsSettings(BaseSettings):
    """The annotation event feed."""

    model_config = SettingsConfigDict(env_prefix="HARVEST_LABELS_", extra="ignore", case_sensitive=False)

    watch_interval_s: float = Field(
        default=0.2, gt=0, le=60, description="How often WatchAnnotations looks for new events: the longest "
        "delay between a write and its event, and one small query per open stream each time.")
