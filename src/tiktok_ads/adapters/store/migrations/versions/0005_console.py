"""The monitoring console: who made each event_id, and indexes for its time-range reads.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # False for rows that exist already: we cannot tell any more, and most shops send ids.
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column(
                "event_id_generated", sa.Boolean, nullable=False, server_default=sa.text("false")
            )
        )
    # The funnel, match quality, dedup audit and timeline read a pixel's events by event
    # time. One index only: each one on `events` slows every insert on the hot path.
    op.create_index("ix_events_pixel_time", "events", ["pixel_id", "event_time"])
    # Latency percentiles read a pixel's newest requests.
    op.create_index("ix_deliveries_pixel_sent_at", "deliveries", ["pixel_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_pixel_sent_at", table_name="deliveries")
    op.drop_index("ix_events_pixel_time", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("event_id_generated")
