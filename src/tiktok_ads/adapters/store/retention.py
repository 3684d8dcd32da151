"""Store verbs of retention: personal data, expired keys and old rows leave the database.

These run every few seconds against tables of millions of rows, so each searches an index
(named for SQLite, see `bulk.pinned`; statuses written out, not bound, so a partial index's
WHERE matches); tests/service/test_retention.py checks the plans.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import TextClause

from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.bulk import pinned

_SETTLED = "status IN ('delivered', 'failed', 'skipped')"

PURGE_PII = (
    "UPDATE events INDEXED BY ix_events_pii SET ip = NULL, user_agent = NULL "
    f"WHERE (ip IS NOT NULL OR user_agent IS NOT NULL) AND updated_at < :cutoff AND {_SETTLED}"
)
PURGE_DEDUP_KEYS = "DELETE FROM dedup_keys WHERE expires_at <= :now"
# A memory row goes when both of its values are past the window (a NULL value counts as past).
PURGE_CLICKS = (
    "DELETE FROM click_ids INDEXED BY ix_click_ids_ttclid_at "
    "WHERE ttclid_at < :cutoff AND (ttp_at IS NULL OR ttp_at < :cutoff)",
    "DELETE FROM click_ids INDEXED BY ix_click_ids_ttp_at "
    "WHERE ttp_at < :cutoff AND ttclid_at IS NULL",
)
# The outer condition is checked again on the row itself: on PostgreSQL a concurrent replay
# may have queued the event since the subquery chose it.
EXPIRED_EVENTS = (
    "DELETE FROM events WHERE id IN ("
    " SELECT id FROM events INDEXED BY ix_events_settled"
    f" WHERE {_SETTLED} AND updated_at < :cutoff LIMIT :batch)"
    f" AND {_SETTLED} AND updated_at < :cutoff"
)
EXPIRED_DELIVERIES = (
    "DELETE FROM deliveries WHERE id IN ("
    " SELECT id FROM deliveries INDEXED BY ix_deliveries_sent_at"
    " WHERE sent_at < :cutoff LIMIT :batch)"
)

# Rows per statement and transaction: short write locks between the ingest's group commits.
RETENTION_BATCH = 1000


class Retention(StoreBase):
    def _sql(self, sql: str) -> TextClause:
        return pinned(sql, self.dialect)

    async def purge(self, now: float, pii_cutoff: float, click_cutoff: float) -> dict[str, int]:
        """Drop IP/user agent of settled events past retention, expired dedup keys and clicks."""

        def run(conn: Connection) -> dict[str, int]:
            pii = conn.execute(self._sql(PURGE_PII), {"cutoff": pii_cutoff}).rowcount
            keys = conn.execute(self._sql(PURGE_DEDUP_KEYS), {"now": now}).rowcount
            clicks = sum(
                conn.execute(self._sql(sql), {"cutoff": click_cutoff}).rowcount
                for sql in PURGE_CLICKS
            )
            return {"pii": int(pii), "dedup_keys": int(keys), "click_ids": int(clicks)}

        return await self._write_tx(run)

    async def purge_expired(
        self, cutoff: float, limit: int = 10 * RETENTION_BATCH
    ) -> dict[str, int]:
        """Delete settled events (delivered, failed, skipped) last changed before `cutoff`, and
        delivery-log rows sent before it: batches of RETENTION_BATCH rows, each in its own
        transaction, at most `limit` rows of each per call (a backlog goes over several calls).
        /stats keeps counting them: its totals live in the event counters."""
        deleted = {"events": 0, "deliveries": 0}
        for table, sql in (("events", EXPIRED_EVENTS), ("deliveries", EXPIRED_DELIVERIES)):
            while deleted[table] < limit:
                batch = min(RETENTION_BATCH, limit - deleted[table])
                done = await self._write_tx(_delete_batch, self._sql(sql), cutoff, batch)
                deleted[table] += done
                if done < batch:
                    break
        return deleted


def _delete_batch(conn: Connection, sql: TextClause, cutoff: float, batch: int) -> int:
    return int(conn.execute(sql, {"cutoff": cutoff, "batch": batch}).rowcount)
