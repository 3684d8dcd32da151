"""Events stored as TikTok items with `user` last, so a batch body is a join (events.user_last).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: no table rewrite on SQLite or PostgreSQL; rows already stored keep
    # false and are sent through the parse, as before.
    op.add_column(
        "events",
        sa.Column("user_last", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("user_last")
