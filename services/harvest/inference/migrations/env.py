"""Alembic environment of the model registry (its own version table, so it can share a database)."""

from harvest.common.database import run_alembic_env
from harvest.inference.tables import Base

run_alembic_env(Base.metadata, version_table="alembic_version_inference")
