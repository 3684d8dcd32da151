"""Store verbs of the console's reports: funnel, match keys, timeline, delivery latency.

Each reads a bounded range through an index: a pixel's events by event time
(ix_events_pixel_time), a pixel's requests by time sent (ix_deliveries_pixel_sent_at), every
pixel's requests since a time (ix_deliveries_sent_at).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from tiktok_ads.adapters.store.base import StoreBase, among
from tiktok_ads.adapters.store.schema import deliveries, events
from tiktok_ads.domain.events import Status

_IDENTITY_PATHS = ("external_id", "email", "phone")  # who a person is, best known first


class InsightReads(StoreBase):
    def _identity(self) -> ColumnElement[Any]:
        """The hashed identifier of the person behind an event, from its stored payload."""
        if self.is_postgres:
            parts = [f"(payload::jsonb) #>> '{{user,{p}}}'" for p in _IDENTITY_PATHS]
        else:
            parts = [f"json_extract(payload, '$.user.{p}')" for p in _IDENTITY_PATHS]
        return literal_column(f"COALESCE({', '.join(parts)})")

    async def funnel_counts(
        self, pixel_id: str, start: int, end: int, names: Sequence[str], revenue_event: str
    ) -> tuple[list[tuple[str, int, int]], list[tuple[str, float, int]]]:
        """(event name, events, distinct people) per name; (currency, sum, events) of the
        revenue event. By event time in [start, end)."""

        def read(conn: Connection) -> Any:
            in_range = (
                events.c.pixel_id == pixel_id,
                events.c.event_time >= start,
                events.c.event_time < end,
            )
            steps = conn.execute(
                select(events.c.event_name, func.count(), func.count(self._identity().distinct()))
                .where(*in_range, events.c.event_name.in_(list(names)))
                .group_by(events.c.event_name)
            ).all()
            revenue = conn.execute(
                select(events.c.currency, func.sum(events.c.value), func.count())
                .where(
                    *in_range,
                    events.c.event_name == revenue_event,
                    events.c.value.is_not(None),
                    events.c.currency.is_not(None),
                )
                .group_by(events.c.currency)
            ).all()
            return (
                [(n, int(c), int(p)) for n, c, p in steps],
                [(cur, float(total), int(c)) for cur, total, c in revenue],
            )

        return await self._read_tx(read)

    async def match_key_counts(
        self, pixel_id: str, start: int, end: int
    ) -> list[tuple[str, str, bool, int]]:
        """(event name, match_keys, event_id generated, events) of a pixel's events that go to
        TikTok (skipped ones carry no keys), by event time in [start, end)."""

        def read(conn: Connection) -> list[tuple[str, str, bool, int]]:
            query = (
                select(
                    events.c.event_name,
                    events.c.match_keys,
                    events.c.event_id_generated,
                    func.count(),
                )
                .where(
                    events.c.pixel_id == pixel_id,
                    events.c.event_time >= start,
                    events.c.event_time < end,
                    events.c.status != Status.SKIPPED.value,
                )
                .group_by(events.c.event_name, events.c.match_keys, events.c.event_id_generated)
            )
            return [(n, k, bool(g), int(c)) for n, k, g, c in conn.execute(query)]

        return await self._read_tx(read)

    async def timeline(
        self, start: int, bucket_s: int, pixels: frozenset[str]
    ) -> list[tuple[str, int, str, int]]:
        """(pixel, bucket index, status, events) of these pixels' events since `start`, by
        event time."""

        def read(conn: Connection) -> list[tuple[str, int, str, int]]:
            # Integer division on both databases (event_time is an integer): the bucket index.
            bucket = (events.c.event_time - start) / bucket_s
            query = (
                select(events.c.pixel_id, bucket, events.c.status, func.count())
                .where(events.c.pixel_id.in_(sorted(pixels)), events.c.event_time >= start)
                .group_by(events.c.pixel_id, bucket, events.c.status)
            )
            return [(p, int(b), s, int(c)) for p, b, s, c in conn.execute(query)]

        return await self._read_tx(read) if pixels else []

    async def latencies(self, pixel_id: str, since: float, limit: int) -> list[float]:
        """Latency (ms) of a pixel's newest requests to TikTok since `since`, at most `limit`."""

        def read(conn: Connection) -> list[float]:
            query = (
                select(deliveries.c.latency_ms)
                .where(deliveries.c.pixel_id == pixel_id, deliveries.c.sent_at >= since)
                .order_by(deliveries.c.sent_at.desc())
                .limit(limit)
            )
            return [float(ms) for (ms,) in conn.execute(query)]

        return await self._read_tx(read)

    async def answers_by_code(
        self, since: float, pixels: frozenset[str] | None = None
    ) -> list[dict[str, Any]]:
        """TikTok's answers since `since` per pixel, code and verdict: requests, events, and
        one of the messages."""

        def read(conn: Connection) -> list[dict[str, Any]]:
            query = select(
                deliveries.c.pixel_id,
                deliveries.c.code,
                deliveries.c.verdict,
                func.count(),
                func.sum(deliveries.c.event_count),
                func.max(deliveries.c.message),
            ).where(deliveries.c.sent_at >= since)
            query = among(query, deliveries.c.pixel_id, pixels)
            query = query.group_by(deliveries.c.pixel_id, deliveries.c.code, deliveries.c.verdict)
            return [
                {
                    "pixel_id": pixel,
                    "code": code,
                    "verdict": verdict,
                    "requests": int(requests),
                    "events": int(n or 0),
                    "message": message,
                }
                for pixel, code, verdict, requests, n, message in conn.execute(query)
            ]

        return await self._read_tx(read)
