"""annotation sequence numbers: a project-wide number on each annotation event, assigned after it commits

Existing events stay unnumbered (NULL) until the first WatchAnnotations of their project numbers them in id
order; the partial index finds unnumbered events without scanning the numbered ones.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.BigInteger(), nullable=True))
        batch_op.create_index("ux_annotations_project_sequence", ["project_id", "sequence"], unique=True)
        batch_op.create_index(
            "ix_annotations_unnumbered",
            ["project_id", "id"],
            unique=False,
            sqlite_where=sa.text("sequence IS NULL"),
            postgresql_where=sa.text("sequence IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index("ix_annotations_unnumbered")
        batch_op.drop_index("ux_annotations_project_sequence")
        batch_op.drop_column("sequence")
