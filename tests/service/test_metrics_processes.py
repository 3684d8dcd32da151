"""`serve --workers 2`: /metrics counts the events of every process, whichever one answers."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from tests.service.processes import (
    BIN,
    free_port,
    processes,
    service_env,
    start_emulator,
    wait_http,
)

from tiktok_ads.entrypoints.api.app import PREFIX

pytestmark = pytest.mark.slow
__all__ = ["processes"]  # the fixture, shared with the crash tests

PIXEL = "CPIXELMETRICS0000001"
KEY = "metrics-key"
EVENTS = 60


def _sample(metrics: str, name: str, labels: str) -> float | None:
    found = re.findall(rf"^{name}\{{{re.escape(labels)}\}} (\S+)$", metrics, re.MULTILINE)
    assert len(found) <= 1, f"{name}{{{labels}}} appears {len(found)} times"
    return float(found[0]) if found else None


def test_metrics_count_every_process(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """60 events over fresh connections to 2 processes: every scrape counts all 60."""
    tiktok, port = start_emulator(processes), free_port()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = service_env(
        tmp_path / "metrics.db",
        tiktok,
        pixel=PIXEL,
        key=KEY,
        TMPDIR=str(scratch),  # where the parent makes its metrics directory
        TIKTOK_RATE_LIMIT_RPS="1000",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [str(BIN), "serve", "--workers", "2", "--port", str(port), "--log-level", "warning"]
    serve = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(serve)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz")
    auth = {"Authorization": f"Bearer {KEY}"}
    page = {"page_url": "https://shop.example/e"}
    for i in range(EVENTS):  # a fresh connection each: the kernel spreads them over both
        event = {"event_type": "ViewContent", "event_id": f"v{i}", "context": page}
        response = httpx.post(f"{base}{PREFIX}/events", json=event, headers=auth)
        assert 202 == response.status_code

    received = f'event_type="ViewContent",outcome="queued",pixel_id="{PIXEL}"'
    delivered = f'event_type="ViewContent",pixel_id="{PIXEL}"'
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{base}/metrics").text
        if _sample(metrics, "tiktok_events_delivered_total", delivered) == EVENTS:
            break
        time.sleep(0.1)
    scrapes = [httpx.get(f"{base}/metrics").text for _ in range(8)]
    assert [(EVENTS, EVENTS, 0.0)] * 8 == [
        (
            _sample(m, "tiktok_events_received_total", received),
            _sample(m, "tiktok_events_delivered_total", delivered),
            _sample(m, "tiktok_queue_depth", f'pixel_id="{PIXEL}"'),
        )
        for m in scrapes
    ]
    serve.send_signal(signal.SIGTERM)
    assert 0 == serve.wait(timeout=30)
    assert [] == list(scratch.iterdir())  # the metrics directory goes with the parent
