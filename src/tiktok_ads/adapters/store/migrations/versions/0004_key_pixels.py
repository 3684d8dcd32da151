"""API keys may be limited to some pixels (an organiser sees its own data only).

`pixel_ids` holds the pixels comma-separated (pixel ids never contain a comma); NULL is every
pixel, as every key was before.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("pixel_ids", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("pixel_ids")
