"""image and snapshot index

Revision ID: s0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("image_id", sa.String(64), primary_key=True),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("thumbnail_key", sa.String(1024), nullable=False, server_default=""),
        sa.Column("thumbnail_offset", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("thumbnail_length", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("thumbnail_type", sa.String(16), nullable=False, server_default=""),
        sa.Column("thumbnail_width", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("thumbnail_height", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("original_name", sa.String(1024), nullable=False, server_default=""),
        sa.Column("suggested_label", sa.String(128), nullable=False, server_default=""),
        sa.Column("upload_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("external", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("source_bucket", sa.String(255), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_images_upload_id", "images", ["upload_id"])
    op.create_index("ix_images_project_created", "images", ["project_id", "created_at", "image_id"])
    op.create_table(
        "snapshots",
        sa.Column("snapshot_id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("manifest_key", sa.String(1024), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("labeled_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("unlabeled_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("validation_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("noisy_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_snapshots_project_id", "snapshots", ["project_id"])


def downgrade() -> None:
    op.drop_table("snapshots")
    op.drop_index("ix_images_project_created", "images")
    op.drop_index("ix_images_upload_id", "images")
    op.drop_table("images")
