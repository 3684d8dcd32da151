"""Store verbs of the queue: how much is ready, claims (never shared), and expired leases."""

from __future__ import annotations

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import events
from tiktok_ads.domain.events import READY_STATUSES, ClaimedEvent, Status


class Claims(StoreBase):
    async def readiness(self, pixel_id: str, now: float, limit: int) -> tuple[int, float | None]:
        """(events ready to send, capped at `limit`; receipt time of the oldest of them)."""

        def read(conn: Connection) -> tuple[int, float | None]:
            ready = (
                select(events.c.received_at)
                .where(
                    events.c.pixel_id == pixel_id,
                    events.c.status.in_(READY_STATUSES),
                    events.c.next_attempt_at <= now,
                )
                .order_by(events.c.id)
                .limit(limit)
                .subquery()
            )
            count, oldest = conn.execute(select(func.count(), func.min(ready.c.received_at))).one()
            return int(count), oldest

        return await self._read_tx(read)

    async def claim_batch(
        self, pixel_id: str, limit: int, now: float, lease_until: float, by_priority: bool
    ) -> list[ClaimedEvent]:
        """Take up to `limit` ready events of a pixel; concurrent claimers never share one."""
        order = "priority, id" if by_priority else "id"
        lock = "FOR UPDATE SKIP LOCKED" if self.is_postgres else ""
        sql = text(
            f"""
            UPDATE events SET status = 'sending', lease_until = :lease_until,
                   attempts = attempts + 1, updated_at = :now
            WHERE id IN (
                SELECT id FROM events
                WHERE pixel_id = :pixel_id AND status IN ('queued', 'retrying')
                  AND next_attempt_at <= :now
                ORDER BY {order} LIMIT :limit {lock})
            RETURNING id, event_id, event_name, payload, ip, user_agent, attempts, received_at,
                      priority
            """
        )

        def claim(conn: Connection) -> list[ClaimedEvent]:
            params = {"pixel_id": pixel_id, "limit": limit, "now": now, "lease_until": lease_until}
            rows = list(conn.execute(sql, params).all())
            rows.sort(key=(lambda r: (r.priority, r.id)) if by_priority else (lambda r: r.id))
            return [
                ClaimedEvent(
                    r.id,
                    r.event_id,
                    r.event_name,
                    r.payload,
                    r.ip,
                    r.user_agent,
                    r.attempts,
                    r.received_at,
                )
                for r in rows
            ]

        return await self._write_tx(claim)

    async def release_expired_leases(self, now: float) -> int:
        """Claims whose worker died (kill -9) go back to the queue with the same event_id."""

        def release(conn: Connection) -> int:
            stmt = (
                update(events)
                .where(events.c.status == Status.SENDING.value, events.c.lease_until < now)
                .values(
                    status=Status.RETRYING.value,
                    lease_until=None,
                    next_attempt_at=now,
                    updated_at=now,
                    last_error="claim lease expired (worker stopped)",
                )
            )
            return int(conn.execute(stmt).rowcount)

        return await self._write_tx(release)
