"""Event counters, first-seen times of click ids and cookies, an index for retention.

- `event_counters` replaces `ingest_counters` (which counted duplicates only): totals by
  outcome, backfilled from the events and the duplicate counts.
- `click_ids.seen_at` (refreshed on every reuse) becomes `ttclid_at` and `ttp_at`; existing
  rows take their `seen_at`, the best time known.
- `ix_events_settled`: retention deletes settled events by age.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SETTLED = "status IN ('delivered', 'failed', 'skipped')"


def upgrade() -> None:
    with op.batch_alter_table("click_ids") as batch:
        batch.add_column(sa.Column("ttclid_at", sa.Float))
        batch.add_column(sa.Column("ttp_at", sa.Float))
    op.execute(
        "UPDATE click_ids SET "
        "ttclid_at = CASE WHEN ttclid IS NOT NULL THEN seen_at END, "
        "ttp_at = CASE WHEN ttp IS NOT NULL THEN seen_at END"
    )
    with op.batch_alter_table("click_ids") as batch:
        batch.drop_column("seen_at")
    op.create_index("ix_click_ids_ttclid_at", "click_ids", ["ttclid_at"])
    op.create_index("ix_click_ids_ttp_at", "click_ids", ["ttp_at"])

    op.create_table(
        "event_counters",
        sa.Column("pixel_id", sa.String(64), primary_key=True),
        sa.Column("event_name", sa.String(100), primary_key=True),
        sa.Column("outcome", sa.String(16), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    columns = "INSERT INTO event_counters (pixel_id, event_name, outcome, count) "
    op.execute(
        columns + "SELECT pixel_id, event_name, outcome, count FROM ingest_counters "
        "WHERE outcome = 'duplicate'"
    )
    op.execute(
        columns + "SELECT pixel_id, event_name, status, count(*) FROM events "
        f"WHERE {SETTLED} GROUP BY pixel_id, event_name, status"
    )
    op.execute(
        columns + "SELECT pixel_id, event_name, 'received', sum(n) FROM ("
        " SELECT pixel_id, event_name, count(*) AS n FROM events GROUP BY pixel_id, event_name"
        " UNION ALL"
        " SELECT pixel_id, event_name, count AS n FROM ingest_counters"
        " WHERE outcome = 'duplicate'"
        ") AS received GROUP BY pixel_id, event_name"
    )
    op.drop_table("ingest_counters")

    settled = sa.text(SETTLED)
    op.create_index(
        "ix_events_settled",
        "events",
        ["updated_at"],
        sqlite_where=settled,
        postgresql_where=settled,
    )


def downgrade() -> None:
    op.drop_index("ix_events_settled", "events")
    op.create_table(
        "ingest_counters",
        sa.Column("pixel_id", sa.String(64), primary_key=True),
        sa.Column("event_name", sa.String(100), primary_key=True),
        sa.Column("outcome", sa.String(16), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO ingest_counters (pixel_id, event_name, outcome, count) "
        "SELECT pixel_id, event_name, outcome, count FROM event_counters "
        "WHERE outcome = 'duplicate'"
    )
    op.drop_table("event_counters")
    op.drop_index("ix_click_ids_ttp_at", "click_ids")
    op.drop_index("ix_click_ids_ttclid_at", "click_ids")
    with op.batch_alter_table("click_ids") as batch:
        batch.add_column(sa.Column("seen_at", sa.Float, nullable=False, server_default="0"))
    op.execute(
        "UPDATE click_ids SET seen_at = CASE WHEN ttp_at IS NULL OR ttclid_at >= ttp_at "
        "THEN ttclid_at ELSE ttp_at END"
    )
    with op.batch_alter_table("click_ids") as batch:
        batch.alter_column("seen_at", server_default=None)
        batch.drop_column("ttclid_at")
        batch.drop_column("ttp_at")
