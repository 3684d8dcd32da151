"""Store verbs of the queue: how much is ready, claims (never shared), and lost claims."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import bulk
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.bulk import pinned
from tiktok_ads.adapters.store.counters import count_outcomes
from tiktok_ads.adapters.store.schema import events
from tiktok_ads.domain.events import ClaimedEvent, Status

# The dispatcher asks these on every pass: statuses written out, not bound, and the index named
# for SQLite (bulk.pinned). With `status IN (?, ?)` bound SQLite cannot use a partial index, and
# left to itself it walked every event the pixel ever had (ix_events_pixel_time) and sorted
# them: 30 ms a pass at 60,000 stored events, growing with retention
# (tests/service/test_query_plans.py checks the plans).
_READINESS = (
    "SELECT count(*), min(received_at) FROM (SELECT received_at "
    "FROM events INDEXED BY ix_events_ready "
    "WHERE pixel_id = :pixel_id AND status IN ('queued', 'retrying') AND next_attempt_at <= :now "
    "ORDER BY id LIMIT :limit) AS ready"
)
_READY_UP_TO = (
    "SELECT count(*) FROM (SELECT id FROM events INDEXED BY ix_events_ready "
    "WHERE pixel_id = :pixel_id AND status IN ('queued', 'retrying') AND next_attempt_at <= :now "
    "LIMIT :limit) AS ready"
)
_WAITING_BY_PIXEL = (
    "SELECT pixel_id, count(*) FROM events INDEXED BY ix_events_ready "
    "WHERE status IN ('queued', 'retrying') GROUP BY pixel_id"
)
_CLAIM = """
    UPDATE events SET status = 'sending', lease_until = {ph}, attempts = attempts + 1,
                      updated_at = {ph}
    WHERE id IN (
        SELECT id FROM events
        WHERE pixel_id = {ph} AND status IN ('queued', 'retrying') AND next_attempt_at <= {ph}
        ORDER BY {order} LIMIT {ph} {lock})
    RETURNING id, event_id, event_name, payload, user_last, ip, user_agent, attempts,
              received_at, deadline_at, priority
"""
_SENDING = text(f"events.status = '{Status.SENDING.value}'")


def chunks(pks: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    """IN lists a statement can take on every database."""
    return [pks[i : i + size] for i in range(0, len(pks), size)]


class Claims(StoreBase):
    async def readiness(self, pixel_id: str, now: float, limit: int) -> tuple[int, float | None]:
        """(events ready to send, capped at `limit`; receipt time of the oldest of them)."""

        def read(conn: Connection) -> tuple[int, float | None]:
            params = {"pixel_id": pixel_id, "now": now, "limit": limit}
            count, oldest = conn.execute(pinned(_READINESS, self.dialect), params).one()
            return int(count), oldest

        return await self._read_tx(read)

    async def ready_more_than(self, pixel_id: str, now: float, n: int) -> bool:
        """Whether more than `n` events of the pixel are ready (counts at most n + 1)."""

        def read(conn: Connection) -> bool:
            params = {"pixel_id": pixel_id, "now": now, "limit": n + 1}
            return int(conn.execute(pinned(_READY_UP_TO, self.dialect), params).scalar_one()) > n

        return await self._read_tx(read)

    async def waiting_by_pixel(self) -> dict[str, int]:
        """Events queued or retrying (not in flight), per pixel."""

        def read(conn: Connection) -> dict[str, int]:
            rows = conn.execute(pinned(_WAITING_BY_PIXEL, self.dialect))
            return {p: int(c) for p, c in rows}

        return await self._read_tx(read)

    async def claim_batch(
        self, pixel_id: str, limit: int, now: float, lease_until: float, by_priority: bool
    ) -> list[ClaimedEvent]:
        """Take up to `limit` ready events of a pixel; concurrent claimers never share one."""
        order = "priority, id" if by_priority else "id"
        lock = "FOR UPDATE SKIP LOCKED" if self.is_postgres else ""

        def claim(conn: Connection) -> list[ClaimedEvent]:
            ph = bulk.placeholder(conn)
            # On the driver's cursor: plain tuples back (SQLAlchemy's rows cost more than the
            # UPDATE itself for 1,000 of them).
            rows = bulk.raw_query(
                conn,
                _CLAIM.format(ph=ph, order=order, lock=lock),
                (lease_until, now, pixel_id, now, limit),
            )
            rows.sort(key=(lambda r: (r[-1], r[0])) if by_priority else (lambda r: r[0]))
            return [
                ClaimedEvent(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7], r[8], r[9])
                for r in rows
            ]

        return await self._write_tx(claim)

    async def expired_leases(self, now: float, limit: int = 5000) -> list[tuple[int, float]]:
        """(pk, deadline) of claims whose worker died (kill -9) or hung past its lease."""

        def read(conn: Connection) -> list[tuple[int, float]]:
            query = (
                select(events.c.id, events.c.deadline_at)
                .where(_SENDING, events.c.lease_until < now)
                .order_by(events.c.id)
                .limit(limit)
            )
            return [(int(pk), float(deadline)) for pk, deadline in conn.execute(query)]

        return await self._read_tx(read)

    async def release_leases(
        self, now: float, *, requeue: Sequence[int], give_up: Sequence[int], reason: str
    ) -> int:
        """Apply the decisions on lost claims: back to the queue (same event_id) or failed.

        Only claims still expired are touched: one another worker released and took meanwhile
        is its business now. Returns how many rows changed.
        """
        lost = (_SENDING, events.c.lease_until < now)

        def run(conn: Connection) -> int:
            changed = 0
            for chunk in chunks(list(requeue)):
                stmt = (
                    update(events)
                    .where(events.c.id.in_(chunk), *lost)
                    .values(
                        status=Status.RETRYING.value,
                        lease_until=None,
                        next_attempt_at=now,
                        updated_at=now,
                        last_error="claim lease expired (worker stopped); sending again",
                    )
                )
                changed += int(conn.execute(stmt).rowcount)
            failed: Counter[tuple[str, str, str]] = Counter()
            for chunk in chunks(list(give_up)):
                stmt = (
                    update(events)
                    .where(events.c.id.in_(chunk), *lost)
                    .values(
                        status=Status.FAILED.value,
                        lease_until=None,
                        updated_at=now,
                        last_error=reason,
                    )
                    .returning(events.c.pixel_id, events.c.event_name)
                )
                for pixel_id, event_name in conn.execute(stmt):
                    failed[(pixel_id, event_name, Status.FAILED.value)] += 1
                    changed += 1
            count_outcomes(conn, failed)
            return changed

        return await self._write_tx(run)
