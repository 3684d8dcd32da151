"""Store verbs of the console's error log and event search: failed events by kind, every
record of an event_id, and replaying many failed events at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, RowMapping

from tiktok_ads.adapters.store.base import StoreBase, among
from tiktok_ads.adapters.store.event_reads import _PUBLIC_COLUMNS
from tiktok_ads.adapters.store.schema import events
from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, Status

_FAILED = Status.FAILED.value
# What the event views show, and who made the event_id (the events page says so).
_COLUMNS = [*_PUBLIC_COLUMNS, events.c.event_id_generated]


class FailureReads(StoreBase):
    async def failed_events(
        self,
        *,
        pixel_id: str | None = None,
        event_name: str | None = None,
        code: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
        pixels: frozenset[str] | None = None,
    ) -> list[RowMapping]:
        """Failed events, newest first, narrowed by pixel, event name and TikTok code."""

        def read(conn: Connection) -> list[RowMapping]:
            query = select(*_COLUMNS).where(events.c.status == _FAILED)
            if pixel_id is not None:
                query = query.where(events.c.pixel_id == pixel_id)
            if event_name is not None:
                query = query.where(events.c.event_name == event_name)
            if code is not None:
                query = query.where(events.c.tiktok_code == code)
            if before_id is not None:
                query = query.where(events.c.id < before_id)
            query = among(query, events.c.pixel_id, pixels)
            query = query.order_by(events.c.id.desc()).limit(limit)
            return list(conn.execute(query).mappings().all())

        return await self._read_tx(read)

    async def failure_kinds(
        self, pixels: frozenset[str] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Failed events grouped by pixel, event name and TikTok code, largest group first,
        each with one of its messages and its newest failure time."""

        def read(conn: Connection) -> list[dict[str, Any]]:
            query = select(
                events.c.pixel_id,
                events.c.event_name,
                events.c.tiktok_code,
                func.count(),
                func.max(events.c.tiktok_message),
                func.max(events.c.updated_at),
            ).where(events.c.status == _FAILED)
            query = among(query, events.c.pixel_id, pixels)
            query = query.group_by(events.c.pixel_id, events.c.event_name, events.c.tiktok_code)
            rows = [
                {
                    "pixel_id": pixel,
                    "event_type": name,
                    "code": code,
                    "events": int(n),
                    "message": message,
                    "last_failed_at": last,
                }
                for pixel, name, code, n, message, last in conn.execute(query)
            ]
            rows.sort(key=lambda r: (-r["events"], r["pixel_id"], r["event_type"]))
            return rows[:limit]

        return await self._read_tx(read)

    async def replay_failed_like(
        self, pixel_id: str, event_name: str, code: int | None, now: float, limit: int
    ) -> int:
        """Queue again up to `limit` failed events of this pixel and event name that TikTok
        answered with `code` (None: failed without a code), oldest first; same event_ids."""

        def run(conn: Connection) -> int:
            chosen = select(events.c.id).where(
                events.c.status == _FAILED,
                events.c.pixel_id == pixel_id,
                events.c.event_name == event_name,
                events.c.tiktok_code.is_(None) if code is None else events.c.tiktok_code == code,
            )
            pks = [pk for (pk,) in conn.execute(chosen.order_by(events.c.id).limit(limit))]
            if not pks:
                return 0
            stmt = (
                update(events)
                .where(events.c.id.in_(pks), events.c.status == _FAILED)
                .values(
                    status=Status.QUEUED.value,
                    next_attempt_at=now,
                    deadline_at=now + DEDUP_WINDOW_SECONDS,
                    updated_at=now,
                    lease_until=None,
                )
            )
            return int(conn.execute(stmt).rowcount)

        return await self._write_tx(run)

    async def events_with_id(
        self, event_id: str, pixels: frozenset[str] | None = None, limit: int = 20
    ) -> list[RowMapping]:
        """Every record with this event_id (each pixel and event name), newest first."""

        def read(conn: Connection) -> list[RowMapping]:
            query = select(*_COLUMNS).where(events.c.event_id == event_id)
            query = among(query, events.c.pixel_id, pixels)
            query = query.order_by(events.c.id.desc()).limit(limit)
            return list(conn.execute(query).mappings().all())

        return await self._read_tx(read)
