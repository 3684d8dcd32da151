"""Prometheus metrics, in a registry of their own per service (never the global one).

Under `serve --workers N` the parent sets PROMETHEUS_MULTIPROC_DIR: prometheus_client then
keeps every value in a file per process there, and a scrape sums all the processes' files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tiktok_ads.domain.events import STANDARD_EVENT_NAMES

CUSTOM_EVENT_LABEL = "custom"


def event_type_label(event_name: str) -> str:
    """The `event_type` label of an event: custom names are the caller's to invent, so they
    share one value; each would otherwise add time series to every scrape, without bound."""
    return event_name if event_name in STANDARD_EVENT_NAMES else CUSTOM_EVENT_LABEL


# Labelled children of `received` kept for reuse (by their labels: custom names share one).
_CHILDREN_KEPT = 4096
_LIST_INDEX = re.compile(r"\.\d+(?=\.|$)")


class Metrics:
    def __init__(self) -> None:
        # The variable prometheus_client itself reads to keep values in files.
        self._multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        self.registry = CollectorRegistry(auto_describe=True)
        self._received: dict[tuple[str, str, str], Counter] = {}
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
            # Read from the shared database by whichever process refreshed last: its value.
            multiprocess_mode="livemostrecent",
        )
        self.connection_healthy = Gauge(
            "tiktok_connection_healthy",
            "1 when the pixel's token works, 0 while held",
            ["pixel_id"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",
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

    def events_received(self, pixel_id: str, event_type: str, outcome: str, n: int = 1) -> None:
        # The labelled child kept: `labels()` checks and locks on every call, and this one is
        # counted for every request of the hot path. Children are never removed here.
        key = (pixel_id, event_type_label(event_type), outcome)
        child = self._received.get(key)
        if child is None:
            child = self.received.labels(*key)
            if len(self._received) < _CHILDREN_KEPT:
                self._received[key] = child
        child.inc(n)

    def request_answered(
        self, pixel_id: str, verdict: str, code: int | None, seconds: float
    ) -> None:
        self.latency.labels(pixel_id).observe(seconds)
        self.requests.labels(pixel_id, verdict, str(code)).inc()

    def events_settled(self, outcome: str, pixel_id: str, by_type: Mapping[str, int]) -> None:
        """`outcome`: delivered, retried or failed; `by_type`: events per event name."""
        counter = {"delivered": self.delivered, "retried": self.retried, "failed": self.failed}
        by_label: dict[str, int] = {}
        for event_type, n in by_type.items():
            label = event_type_label(event_type)
            by_label[label] = by_label.get(label, 0) + n
        for label, n in by_label.items():
            counter[outcome].labels(pixel_id, label).inc(n)

    def set_connection_gauges(self, healthy: dict[str, bool], depth: dict[str, int]) -> None:
        """Queue depth and health per pixel, from the database (shared by every process)."""
        for pixel_id, ok in healthy.items():
            self.queue_depth.labels(pixel_id).set(depth.get(pixel_id, 0))
            self.connection_healthy.labels(pixel_id).set(int(ok))

    def render(self) -> bytes:
        """The text a scrape gets: with several processes, their sum, whichever answers."""
        if self._multiprocess_dir is None:
            return generate_latest(self.registry)
        every_process = CollectorRegistry()
        MultiProcessCollector(every_process, path=self._multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(every_process)
