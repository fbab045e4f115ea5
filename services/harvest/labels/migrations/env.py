"""Alembic environment of the labels database."""

from harvest.common.database import run_alembic_env
from harvest.labels.models import Base

run_alembic_env(Base.metadata)
