"""jobs and job events

Revision ID: j0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "j0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_jobs",
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("kind", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("preset", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(64), nullable=False),
        sa.Column("backbone", sa.String(64), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("training_args", sa.JSON(), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("init_model_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("display_name", sa.String(256), nullable=False, server_default=""),
        sa.Column("job_name", sa.String(64), nullable=False, unique=True),
        sa.Column("external_id", sa.String(256), nullable=False, server_default=""),
        sa.Column("state", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("restart_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error_message", sa.Text(), nullable=False, server_default=""),
        sa.Column("log_tail", sa.Text(), nullable=False, server_default=""),
        sa.Column("model_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("registration_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("registration_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("run_dir", sa.String(256), nullable=False),
        sa.Column("resolved_config", sa.Text(), nullable=False, server_default=""),
        sa.Column("rendered_spec", sa.Text(), nullable=False, server_default=""),
        sa.Column("total_steps", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("metric_steps", sa.JSON(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("cancel_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("submit_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("dispatched_at", sa.Float(), nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.Float(), nullable=False, server_default="0"),
        sa.Column("request_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False, server_default="0"),
        sa.UniqueConstraint("created_by", "request_id", name="uq_scheduler_jobs_request"),
    )
    op.create_index("ix_scheduler_jobs_project_created", "scheduler_jobs", ["project_id", "created_at"])
    op.create_index("ix_scheduler_jobs_state", "scheduler_jobs", ["state"])
    op.create_table(
        "scheduler_job_events",
        sa.Column("job_id", sa.String(32), sa.ForeignKey("scheduler_jobs.job_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("sequence", sa.BigInteger(), primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scheduler_job_events")
    op.drop_index("ix_scheduler_jobs_state", "scheduler_jobs")
    op.drop_index("ix_scheduler_jobs_project_created", "scheduler_jobs")
    op.drop_table("scheduler_jobs")
