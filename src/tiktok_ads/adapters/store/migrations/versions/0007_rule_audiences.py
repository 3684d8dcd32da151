"""Rule audiences: when each is refreshed, what its last refresh found; erasures seen.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audiences") as batch:
        batch.add_column(sa.Column("refresh_due_at", sa.Float))
        batch.add_column(sa.Column("refreshed_at", sa.Float))
        batch.add_column(sa.Column("segment_counts", sa.Text))
        batch.add_column(
            sa.Column("erasures", sa.BigInteger, nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("audiences") as batch:
        batch.drop_column("erasures")
        batch.drop_column("segment_counts")
        batch.drop_column("refreshed_at")
        batch.drop_column("refresh_due_at")
