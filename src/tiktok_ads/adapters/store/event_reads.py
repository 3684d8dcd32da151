"""Store verbs for looking at events: status, the error log, statistics, queue depth, replay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, RowMapping

from tiktok_ads.adapters.store.base import StoreBase, among
from tiktok_ads.adapters.store.bulk import pinned
from tiktok_ads.adapters.store.counters import count_outcomes
from tiktok_ads.adapters.store.schema import deliveries, event_counters, events
from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, Status

# Read on every /stats, /metrics and maintenance pass: statuses written out, not bound (SQLite
# uses a partial index only for a WHERE it can match when preparing), the index named for
# SQLite (see bulk.pinned); tests/service/test_retention.py checks the plans.
READY_BY_PIXEL = (
    "SELECT pixel_id, count(*) FROM events INDEXED BY ix_events_ready "
    "WHERE status IN ('queued', 'retrying') GROUP BY pixel_id"
)
SENDING_BY_PIXEL = (
    "SELECT pixel_id, count(*) FROM events INDEXED BY ix_events_sending "
    "WHERE status = 'sending' GROUP BY pixel_id"
)
# The same per pixel and status, for a key limited to some pixels.
READY_BY_PIXEL_STATUS = (
    "SELECT pixel_id, status, count(*) FROM events INDEXED BY ix_events_ready "
    "WHERE status IN ('queued', 'retrying') GROUP BY pixel_id, status"
)
SENDING_BY_PIXEL_STATUS = (
    "SELECT pixel_id, status, count(*) FROM events INDEXED BY ix_events_sending "
    "WHERE status = 'sending' GROUP BY pixel_id, status"
)
LIVE_BY_STATUS = (
    "SELECT status, count(*) FROM events INDEXED BY ix_events_status_id "
    "WHERE status IN ('queued', 'retrying', 'sending') GROUP BY status"
)

_PUBLIC_COLUMNS = [
    events.c.id,
    events.c.pixel_id,
    events.c.event_name,
    events.c.event_id,
    events.c.event_time,
    events.c.status,
    events.c.attempts,
    events.c.match_keys,
    events.c.value,
    events.c.currency,
    events.c.skip_reason,
    events.c.received_at,
    events.c.next_attempt_at,
    events.c.updated_at,
    events.c.delivered_at,
    events.c.tiktok_code,
    events.c.tiktok_message,
    events.c.request_id,
    events.c.last_error,
]


class EventReads(StoreBase):
    async def get_event(
        self,
        event_id: str,
        pixel_id: str | None = None,
        event_name: str | None = None,
        pixels: frozenset[str] | None = None,
    ) -> RowMapping | None:
        """The latest record with that event_id, optionally narrowed by pixel and event name."""

        def read(conn: Connection) -> RowMapping | None:
            query = select(*_PUBLIC_COLUMNS).where(events.c.event_id == event_id)
            query = among(query, events.c.pixel_id, pixels)
            if pixel_id is not None:
                query = query.where(events.c.pixel_id == pixel_id)
            if event_name is not None:
                query = query.where(events.c.event_name == event_name)
            return conn.execute(query.order_by(events.c.id.desc()).limit(1)).mappings().first()

        return await self._read_tx(read)

    async def get_event_by_pk(self, pk: int) -> RowMapping | None:
        def read(conn: Connection) -> RowMapping | None:
            query = select(*_PUBLIC_COLUMNS).where(events.c.id == pk)
            return conn.execute(query).mappings().first()

        return await self._read_tx(read)

    async def list_events(
        self,
        *,
        status: str | None = None,
        pixel_id: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
        pixels: frozenset[str] | None = None,
    ) -> list[RowMapping]:
        """Newest first; `before_id` pages further back."""

        def read(conn: Connection) -> list[RowMapping]:
            query = among(select(*_PUBLIC_COLUMNS), events.c.pixel_id, pixels)
            if status is not None:
                query = query.where(events.c.status == status)
            if pixel_id is not None:
                query = query.where(events.c.pixel_id == pixel_id)
            if before_id is not None:
                query = query.where(events.c.id < before_id)
            query = query.order_by(events.c.id.desc()).limit(limit)
            return list(conn.execute(query).mappings().all())

        return await self._read_tx(read)

    async def replay_failed(self, pk: int, now: float) -> bool:
        """Queue a failed event again, with a fresh 48 h retry window; same event_id."""

        def run(conn: Connection) -> bool:
            stmt = (
                update(events)
                .where(events.c.id == pk, events.c.status == Status.FAILED.value)
                .values(
                    status=Status.QUEUED.value,
                    next_attempt_at=now,
                    deadline_at=now + DEDUP_WINDOW_SECONDS,
                    updated_at=now,
                    lease_until=None,
                )
                .returning(events.c.pixel_id, events.c.event_name)
            )
            row = conn.execute(stmt).first()
            if row is None:
                return False
            # No longer failed: settlement counts it again when TikTok answers.
            count_outcomes(conn, {(row.pixel_id, row.event_name, Status.FAILED.value): -1})
            return True

        return await self._write_tx(run)

    async def stats(self, pixels: frozenset[str] | None = None) -> dict[str, Any]:
        """Totals from the event counters and, for events not yet settled, live counts by
        status; no scan of the settled events (see `fold_stats` for the shape)."""

        def read(conn: Connection) -> dict[str, Any]:
            counters = among(select(event_counters), event_counters.c.pixel_id, pixels)
            counted = conn.execute(counters).all()
            if pixels is None:
                live = {s: int(n) for s, n in conn.execute(pinned(LIVE_BY_STATUS, self.dialect))}
            else:
                live = {}
                for sql in (READY_BY_PIXEL_STATUS, SENDING_BY_PIXEL_STATUS):
                    for pixel, status, n in conn.execute(pinned(sql, self.dialect)):
                        if pixel in pixels:
                            live[status] = live.get(status, 0) + int(n)
            return fold_stats(
                [(r.pixel_id, r.event_name, r.outcome, int(r._mapping["count"])) for r in counted],
                live,
            )

        return await self._read_tx(read)

    async def queue_depth(self, pixels: frozenset[str] | None = None) -> dict[str, int]:
        """Events waiting or in flight, per pixel (from the partial indexes of the queue)."""

        def read(conn: Connection) -> dict[str, int]:
            depth: dict[str, int] = {}
            for sql in (READY_BY_PIXEL, SENDING_BY_PIXEL):
                for pixel, n in conn.execute(pinned(sql, self.dialect)):
                    if pixels is None or pixel in pixels:
                        depth[pixel] = depth.get(pixel, 0) + int(n)
            return depth

        return await self._read_tx(read)

    async def recent_deliveries(
        self, limit: int = 50, pixel_id: str | None = None, pixels: frozenset[str] | None = None
    ) -> list[dict[str, Any]]:
        def read(conn: Connection) -> list[dict[str, Any]]:
            query = among(select(deliveries), deliveries.c.pixel_id, pixels)
            if pixel_id is not None:
                query = query.where(deliveries.c.pixel_id == pixel_id)
            query = query.order_by(deliveries.c.id.desc()).limit(limit)
            # Column names may be str subclasses (quoted_name), which orjson refuses as keys.
            return [{str(k): v for k, v in row._mapping.items()} for row in conn.execute(query)]

        return await self._read_tx(read)


def fold_stats(counted: list[tuple[str, str, str, int]], live: dict[str, int]) -> dict[str, Any]:
    """The /stats body.

    `by_status`: queued, sending, retrying are the events in that state now; delivered, failed,
    skipped, duplicate are totals (a replayed event leaves `failed`), kept after retention
    deletes the rows. `by_event_type` and `by_pixel`: those totals plus `received` (every event
    answered queued, skipped or duplicate). `received`: the grand total.
    """
    by_status: dict[str, int] = {s: n for s, n in live.items() if n}
    by_event: dict[str, dict[str, int]] = {}
    by_pixel: dict[str, dict[str, int]] = {}
    received = 0
    for pixel, name, outcome, count in counted:
        if not count:
            continue
        if outcome == "received":
            received += count
        else:
            by_status[outcome] = by_status.get(outcome, 0) + count
        event = by_event.setdefault(name, {})
        event[outcome] = event.get(outcome, 0) + count
        px = by_pixel.setdefault(pixel, {})
        px[outcome] = px.get(outcome, 0) + count
    return {
        "received": received,
        "by_status": by_status,
        "by_event_type": by_event,
        "by_pixel": by_pixel,
    }
