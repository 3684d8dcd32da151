"""Reads for the API, the CLI and the monitoring page: plain views over the store.

Handlers ask this service; they never hold the store. Views are what callers see: hashes and
metadata only, never a payload or a token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tiktok_ads.domain import ratelimit
from tiktok_ads.domain.connections import ConnectionRow, check_pixel
from tiktok_ads.errors import NotFound
from tiktok_ads.services.ports import Clock, ReadModel


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_view(row: Any) -> dict[str, Any]:
    """An event as the API shows it (no payload: hashes are nobody's business)."""
    return {
        "event_id": row["event_id"],
        "pixel_id": row["pixel_id"],
        "event_type": row["event_name"],
        "status": row["status"],
        "event_time": row["event_time"],
        "attempts": row["attempts"],
        "match_keys": [k for k in (row["match_keys"] or "").split(",") if k],
        "value": row["value"],
        "currency": row["currency"],
        "reason": row["skip_reason"],
        "received_at": row["received_at"],
        "updated_at": row["updated_at"],
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "retrying" else None,
        "delivered_at": row["delivered_at"],
        "tiktok": {
            "code": row["tiktok_code"],
            "message": row["tiktok_message"],
            "request_id": row["request_id"],
        },
        "last_error": row["last_error"],
    }


def connection_view(
    row: ConnectionRow, queue_depth: int, quota: ratelimit.DailyQuota
) -> dict[str, Any]:
    """The product description's shape, plus health and today's quota; never the token."""
    return {
        "connected": row.healthy,
        "pixel_id": row.pixel_id,
        "advertiser_id": row.advertiser_id,
        "test_mode": row.test_mode,
        "test_event_code": row.test_event_code,
        "last_event_sent": iso(row.last_event_sent_at),
        "default": row.is_default,
        "healthy": row.healthy,
        "health": {
            "code": row.health_code,
            "message": row.health_message,
            "checked_at": iso(row.health_checked_at),
            "held": not row.healthy,
        },
        "queue_depth": queue_depth,
        "last_error": row.health_message,
        "daily_quota": {
            "limit": quota.limit,
            "used": quota.used,
            "remaining": quota.remaining,
            "resets_at": iso(quota.resets_at),
        },
        "held_by_daily_cap": quota.held,
    }


class Queries:
    """Every read takes `pixels`: the pixels of the asking API key (None: every pixel)."""

    def __init__(self, store: ReadModel, clock: Clock, daily_limit: int) -> None:
        self._store = store
        self._clock = clock
        self._daily_limit = daily_limit

    async def event(
        self,
        event_id: str,
        pixel_id: str | None = None,
        event_type: str | None = None,
        pixels: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """The latest event with that event_id (narrowed by pixel and type); NotFound if none.

        Another pixel's event is not found either: its existence is none of the caller's business.
        """
        row = await self._store.get_event(event_id, pixel_id, event_type, pixels)
        if row is None:
            raise NotFound(f"no event with event_id {event_id!r}")
        return event_view(row)

    async def event_by_pk(self, pk: int) -> dict[str, Any] | None:
        row = await self._store.get_event_by_pk(pk)
        return None if row is None else event_view(row)

    async def events(
        self,
        *,
        status: str | None = None,
        pixel_id: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
        pixels: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """A page of events, newest first, with the cursor of the next page."""
        check_pixel(pixel_id, pixels)
        rows = await self._store.list_events(
            status=status, pixel_id=pixel_id, limit=limit, before_id=before_id, pixels=pixels
        )
        cursor = rows[-1]["id"] if len(rows) == limit else None
        return {"events": [event_view(r) for r in rows], "cursor": cursor}

    async def stats(self, pixels: frozenset[str] | None = None) -> dict[str, Any]:
        body = await self._store.stats(pixels)
        body["queue_depth"] = await self._store.queue_depth(pixels)
        return body

    async def deliveries(
        self, limit: int = 50, pixel_id: str | None = None, pixels: frozenset[str] | None = None
    ) -> dict[str, Any]:
        check_pixel(pixel_id, pixels)
        return {"deliveries": await self._store.recent_deliveries(limit, pixel_id, pixels)}

    async def connection(
        self, pixel_id: str | None, pixels: frozenset[str] | None = None
    ) -> dict[str, Any] | None:
        """One connection's view: by default the default pixel, or for a key limited to other
        pixels, the first of its own connections."""
        check_pixel(pixel_id, pixels)
        if pixel_id is None and pixels is not None:
            own = await self._store.list_connections(pixels)
            rows = [r for r in own if r.is_default] or own[:1]
        else:
            row = await self._store.get_connection(pixel_id)
            rows = [] if row is None else [row]
        return (await self._connection_views(rows))[0] if rows else None

    async def connections(self, pixels: frozenset[str] | None = None) -> list[dict[str, Any]]:
        return await self._connection_views(await self._store.list_connections(pixels))

    async def _connection_views(self, rows: list[ConnectionRow]) -> list[dict[str, Any]]:
        depth = await self._store.queue_depth()
        waiting = await self._store.waiting_by_pixel()
        now = self._clock.now()
        return [
            connection_view(
                row,
                depth.get(row.pixel_id, 0),
                ratelimit.daily_quota(
                    row.quota_day,
                    row.quota_used,
                    now=now,
                    daily_limit=self._daily_limit,
                    waiting=waiting.get(row.pixel_id, 0),
                ),
            )
            for row in rows
        ]

    async def health_and_depth(self) -> tuple[dict[str, bool], dict[str, int]]:
        """Per pixel: healthy or held, and events waiting (for the gauges)."""
        rows = await self._store.list_connections()
        return {r.pixel_id: r.healthy for r in rows}, await self._store.queue_depth()

    async def database_ok(self) -> bool:
        return await self._store.ping()
