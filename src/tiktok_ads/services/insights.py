"""The console's reports, also served as JSON: the funnel, match quality with the dedup audit,
delivery latency and TikTok's answers, and the events timeline.

Plain views (counts and shares, never a payload). Every report takes `pixels`: the pixels the
caller's key may see (None: all); a pixel outside them reads as unknown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tiktok_ads.domain import match_quality
from tiktok_ads.domain.connections import ConnectionRow
from tiktok_ads.domain.events import READY_STATUSES, Status
from tiktok_ads.domain.funnel import FUNNEL_STEPS, REVENUE_EVENT, funnel_steps
from tiktok_ads.domain.time_range import TimeRange, parse_time_range
from tiktok_ads.errors import NotFound
from tiktok_ads.services.ports import Clock, InsightStore
from tiktok_ads.services.queries import iso

LATENCY_SAMPLE = 10_000  # percentiles of a pixel's newest requests, at most this many
DELIVERY_WINDOW_S = 86400
# span → (bucket seconds, buckets): hours of the last day, days of the last month
TIMELINE_SPANS = {"24h": (3600, 24), "30d": (86400, 30)}
_WAITING = frozenset({*READY_STATUSES, Status.SENDING.value})
SERIES = ("received", "delivered", "failed", "skipped", "waiting")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1) of sorted `values`; None for none."""
    if not values:
        return None
    return values[max(0, math.ceil(q * len(values)) - 1)]


class Insights:
    def __init__(self, store: InsightStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def pixel(self, pixel_id: str | None, pixels: frozenset[str] | None = None) -> str:
        """The pixel a report is about: the one named, else the default one (else the key's
        first); NotFound when it is unknown or not the caller's."""
        if pixel_id is None:
            default = await self._store.get_connection(None)
            if default is not None and (pixels is None or default.pixel_id in pixels):
                return default.pixel_id
            mine = sorted(r.pixel_id for r in await self._visible_connections(pixels))
            if mine:
                return mine[0]
            raise NotFound("no pixel is connected yet: POST /connect one first")
        row = await self._store.get_connection(pixel_id)
        if row is None or (pixels is not None and pixel_id not in pixels):
            raise NotFound(f"no connection for pixel {pixel_id!r}")
        return row.pixel_id

    def time_range(self, raw_from: str | None, raw_to: str | None) -> TimeRange:
        return parse_time_range(raw_from, raw_to, now=self._clock.now())

    async def funnel(
        self,
        pixel_id: str | None,
        raw_from: str | None = None,
        raw_to: str | None = None,
        pixels: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """ViewContent → AddToCart → InitiateCheckout → CompletePayment by event time, with
        drop-off (events and people) and revenue by currency."""
        span = self.time_range(raw_from, raw_to)
        pixel = await self.pixel(pixel_id, pixels)
        steps, revenue = await self._store.funnel_counts(
            pixel, span.start, span.end, FUNNEL_STEPS, REVENUE_EVENT
        )
        return {
            "pixel_id": pixel,
            "from": iso(span.start),
            "to": iso(span.end),
            "steps": funnel_steps({n: e for n, e, _ in steps}, {n: p for n, _, p in steps}),
            "revenue": {
                currency: {"value": round(total, 2), "events": n}
                for currency, total, n in sorted(revenue)
            },
        }

    async def match_quality(
        self,
        pixel_id: str | None,
        raw_from: str | None = None,
        raw_to: str | None = None,
        pixels: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Per event type: the share of events carrying each match key, the estimated score
        (see domain.match_quality) with advice; and the dedup audit (who made the event_ids)."""
        span = self.time_range(raw_from, raw_to)
        pixel = await self.pixel(pixel_id, pixels)
        rows = await self._store.match_key_counts(pixel, span.start, span.end)
        return {
            "pixel_id": pixel,
            "from": iso(span.start),
            "to": iso(span.end),
            "weights": match_quality.WEIGHTS,
            **match_quality.summarise(rows),
        }

    async def delivery(
        self, window_s: float = DELIVERY_WINDOW_S, pixels: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Per pixel over the window: request latency p50/p95 and TikTok's answers by code."""
        since = self._clock.now() - window_s
        answers = await self._store.answers_by_code(since, pixels)
        report = []
        for row in await self._visible_connections(pixels):
            latencies = sorted(await self._store.latencies(row.pixel_id, since, LATENCY_SAMPLE))
            mine = [a for a in answers if a["pixel_id"] == row.pixel_id]
            mine.sort(key=lambda a: (-a["requests"], a["code"] is None, a["code"] or 0))
            report.append(
                {
                    "pixel_id": row.pixel_id,
                    "requests": sum(a["requests"] for a in mine),
                    "latency_ms": {
                        "p50": _rounded(percentile(latencies, 0.5)),
                        "p95": _rounded(percentile(latencies, 0.95)),
                        "sample": len(latencies),
                    },
                    "answers": [{k: v for k, v in a.items() if k != "pixel_id"} for a in mine],
                }
            )
        return {"window_hours": round(window_s / 3600, 2), "pixels": report}

    async def timeline(
        self, span: str = "24h", pixels: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Events per hour (24h) or day (30d) of their event time (the time of receipt when
        the shop gave none) and per pixel, by what became of them: delivered, failed, skipped
        or still waiting."""
        if span not in TIMELINE_SPANS:
            span = "24h"
        bucket_s, count = TIMELINE_SPANS[span]
        start = (int(self._clock.now()) // bucket_s - (count - 1)) * bucket_s
        visible = [row.pixel_id for row in await self._visible_connections(pixels)]
        series = {pixel: {name: [0] * count for name in SERIES} for pixel in visible}
        for pixel, bucket, status, n in await self._store.timeline(
            start, bucket_s, frozenset(visible)
        ):
            if pixel in series and 0 <= bucket < count:
                series[pixel]["received"][bucket] += n
                series[pixel]["waiting" if status in _WAITING else status][bucket] += n
        return {
            "span": span,
            "bucket_seconds": bucket_s,
            "buckets": [iso(start + i * bucket_s) for i in range(count)],
            "pixels": series,
        }

    async def _visible_connections(self, pixels: frozenset[str] | None) -> list[ConnectionRow]:
        rows = await self._store.list_connections()
        return [r for r in rows if pixels is None or r.pixel_id in pixels]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
