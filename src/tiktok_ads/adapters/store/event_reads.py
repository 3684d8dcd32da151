"""Store verbs for looking at events: status, the error log, statistics, replay and purge."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from tiktok_ads.adapters.store.base import StoreBase, among
from tiktok_ads.adapters.store.schema import (
    click_ids,
    dedup_keys,
    deliveries,
    events,
    ingest_counters,
)
from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, READY_STATUSES, SETTLED_STATUSES, Status

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
            )
            return bool(conn.execute(stmt).rowcount)

        return await self._write_tx(run)

    async def stats(self, pixels: frozenset[str] | None = None) -> dict[str, Any]:
        """Counts by pixel, event name and status (duplicates come from the ingest counters)."""

        def read(conn: Connection) -> dict[str, Any]:
            counts = select(events.c.pixel_id, events.c.event_name, events.c.status, func.count())
            grouped = conn.execute(
                among(counts, events.c.pixel_id, pixels).group_by(
                    events.c.pixel_id, events.c.event_name, events.c.status
                )
            ).all()
            counted = conn.execute(
                among(select(ingest_counters), ingest_counters.c.pixel_id, pixels)
            ).all()
            rows = [(p, n, s, int(c)) for p, n, s, c in grouped]
            rows += [
                (r.pixel_id, r.event_name, r.outcome, int(r._mapping["count"])) for r in counted
            ]
            return _fold(rows)

        return await self._read_tx(read)

    async def queue_depth(self, pixels: frozenset[str] | None = None) -> dict[str, int]:
        """Events waiting or in flight, per pixel."""

        def read(conn: Connection) -> dict[str, int]:
            query = (
                among(select(events.c.pixel_id, func.count()), events.c.pixel_id, pixels)
                .where(events.c.status.in_((*READY_STATUSES, Status.SENDING.value)))
                .group_by(events.c.pixel_id)
            )
            return {p: int(c) for p, c in conn.execute(query)}

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

    async def purge(self, now: float, pii_cutoff: float, click_cutoff: float) -> dict[str, int]:
        """Drop IP/user agent of settled events past retention, expired dedup keys and clicks."""

        def run(conn: Connection) -> dict[str, int]:
            pii = conn.execute(
                update(events)
                .where(
                    or_(events.c.ip.is_not(None), events.c.user_agent.is_not(None)),
                    events.c.updated_at < pii_cutoff,
                    events.c.status.in_(SETTLED_STATUSES),
                )
                .values(ip=None, user_agent=None)
            ).rowcount
            keys = conn.execute(delete(dedup_keys).where(dedup_keys.c.expires_at <= now)).rowcount
            clicks = conn.execute(
                delete(click_ids).where(click_ids.c.seen_at < click_cutoff)
            ).rowcount
            return {"pii": int(pii), "dedup_keys": int(keys), "click_ids": int(clicks)}

        return await self._write_tx(run)


def _fold(rows: list[tuple[str, str, str, int]]) -> dict[str, Any]:
    by_status: dict[str, int] = {}
    by_event: dict[str, dict[str, int]] = {}
    by_pixel: dict[str, dict[str, int]] = {}
    for pixel, name, status, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        event = by_event.setdefault(name, {})
        event[status] = event.get(status, 0) + count
        px = by_pixel.setdefault(pixel, {})
        px[status] = px.get(status, 0) + count
    return {"by_status": by_status, "by_event_type": by_event, "by_pixel": by_pixel}
