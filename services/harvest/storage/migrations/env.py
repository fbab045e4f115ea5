"""Alembic environment of the storage index (its own version table, so it can share a database)."""

from harvest.common.database import run_alembic_env
from harvest.storage.index import Base

run_alembic_env(Base.metadata, version_table="alembic_version_storage")
