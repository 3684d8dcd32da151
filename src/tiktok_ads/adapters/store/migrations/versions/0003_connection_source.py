"""Connections remember where their token came from (the environment or POST /connect).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows that exist already were written from the environment at every start: call them so.
    with op.batch_alter_table("connections") as batch:
        batch.add_column(
            sa.Column("configured_from", sa.String(8), nullable=False, server_default="env")
        )
        batch.alter_column("configured_from", server_default="api")


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("configured_from")
