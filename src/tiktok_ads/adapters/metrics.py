"""Prometheus metrics, in a registry of their own per service (never the global one)."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LIST_INDEX = re.compile(r"\.\d+(?=\.|$)")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.received = Counter(
            "tiktok_events_received_total",
            "Events taken by the API, by outcome (queued, duplicate, skipped, rejected)",
            ["pixel_id", "event_type", "outcome"],
            registry=self.registry,
        )
        self.delivered = Counter(
            "tiktok_events_delivered_total",
            "Events TikTok accepted",
            ["pixel_id", "event_type"],
            registry=self.registry,
        )
        self.failed = Counter(
            "tiktok_events_failed_total",
            "Events that failed for good (replayable)",
            ["pixel_id", "event_type"],
            registry=self.registry,
        )
        self.retried = Counter(
            "tiktok_events_retried_total",
            "Events scheduled for another attempt",
            ["pixel_id", "event_type"],
            registry=self.registry,
        )
        self.requests = Counter(
            "tiktok_requests_total",
            "Requests to TikTok by verdict and TikTok code",
            ["pixel_id", "verdict", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tiktok_request_seconds",
            "Latency of requests to TikTok's Events API",
            ["pixel_id"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.queue_depth = Gauge(
            "tiktok_queue_depth",
            "Events waiting or in flight",
            ["pixel_id"],
            registry=self.registry,
        )
        self.connection_healthy = Gauge(
            "tiktok_connection_healthy",
            "1 when the pixel's token works, 0 while held",
            ["pixel_id"],
            registry=self.registry,
        )
        self.dropped_fields = Counter(
            "tiktok_ads_dropped_fields_total",
            "Invalid optional details (personal identifiers, context) left out of accepted events",
            ["field"],
            registry=self.registry,
        )

    def count_dropped_field(self, field: str) -> None:
        """Count one dropped field; list indexes go (`user.email.3` → `user.email`), so the
        label keeps to the fixed set of field names the ingest checks."""
        self.dropped_fields.labels(_LIST_INDEX.sub("", field)).inc()

    def set_connection_gauges(self, healthy: dict[str, bool], depth: dict[str, int]) -> None:
        """Queue depth and health per pixel, from the database (shared by every process)."""
        for pixel_id, ok in healthy.items():
            self.queue_depth.labels(pixel_id).set(depth.get(pixel_id, 0))
            self.connection_healthy.labels(pixel_id).set(int(ok))

    def render(self) -> bytes:
        return generate_latest(self.registry)
