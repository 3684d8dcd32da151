"""Prometheus metrics, in a registry of their own per service (never the global one)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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

    def events_received(self, pixel_id: str, event_type: str, outcome: str, n: int = 1) -> None:
        self.received.labels(pixel_id, event_type, outcome).inc(n)

    def request_answered(
        self, pixel_id: str, verdict: str, code: int | None, seconds: float
    ) -> None:
        self.latency.labels(pixel_id).observe(seconds)
        self.requests.labels(pixel_id, verdict, str(code)).inc()

    def events_settled(self, outcome: str, pixel_id: str, by_type: Mapping[str, int]) -> None:
        """`outcome`: delivered, retried or failed; `by_type`: events per event name."""
        counter = {"delivered": self.delivered, "retried": self.retried, "failed": self.failed}
        for event_type, n in by_type.items():
            counter[outcome].labels(pixel_id, event_type).inc(n)

    def set_connection_gauges(self, healthy: dict[str, bool], depth: dict[str, int]) -> None:
        """Queue depth and health per pixel, from the database (shared by every process)."""
        for pixel_id, ok in healthy.items():
            self.queue_depth.labels(pixel_id).set(depth.get(pixel_id, 0))
            self.connection_healthy.labels(pixel_id).set(int(ok))

    def render(self) -> bytes:
        return generate_latest(self.registry)
