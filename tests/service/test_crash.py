"""A real `serve` process killed with SIGKILL mid-delivery loses nothing."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
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

pytestmark = pytest.mark.slow
__all__ = ["BIN", "free_port", "processes", "wait_http"]  # used by other process tests

PIXEL = "CPIXELCRASH000000001"
KEY = "crash-key"


def test_kill_9_during_delivery_loses_nothing(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """Events in flight when serve is SIGKILLed are sent again, same event_id, after restart."""
    tiktok, port = start_emulator(processes), free_port()
    # The first request to TikTok takes 3 s: long enough to kill the sender mid-flight.
    httpx.post(f"{tiktok}/_emulator/faults", json={"kind": "latency", "ms": 3000, "count": 1})
    env = service_env(
        tmp_path / "crash.db", tiktok, pixel=PIXEL, key=KEY, TIKTOK_ADS_CLAIM_LEASE_SECONDS="2"
    )
    cmd = [str(BIN), "serve", "--port", str(port), "--log-level", "warning"]
    serve = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(serve)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz")
    auth = {"Authorization": f"Bearer {KEY}"}
    events = [
        {
            "event_type": "CompletePayment",
            "event_id": f"order-{i}",
            "context": {"page_url": "https://shop.example/checkout"},
        }
        for i in range(200)
    ]
    response = httpx.post(
        f"{base}/api/integrations/tiktok-ads/events/batch",
        json={"events": events},
        headers=auth,
        timeout=10,
    )
    assert (200, 200) == (response.status_code, response.json()["accepted"])
    # Wait until the batch is at TikTok (held there by the latency fault), then kill.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and httpx.get(f"{tiktok}/_emulator/faults").json()["faults"]:
        time.sleep(0.05)
    view = httpx.get(f"{base}/api/integrations/tiktok-ads/events/order-0", headers=auth)
    assert "sending" == view.json()["status"]
    serve.send_signal(signal.SIGKILL)
    serve.wait(timeout=10)

    restarted = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(restarted)
    wait_http(f"{base}/healthz")
    deadline = time.monotonic() + 30
    by_status: dict[str, int] = {}
    while time.monotonic() < deadline:
        stats = httpx.get(f"{base}/api/integrations/tiktok-ads/stats", headers=auth).json()
        by_status = stats["by_status"]
        if by_status.get("delivered") == 200:
            break
        time.sleep(0.1)
    assert {"delivered": 200} == by_status
    # Count every item TikTok received (its own store would hide a double send by deduplicating):
    # each event once in the request cut off by the kill, and exactly once more after restart.
    interrupted, after_restart = track_items_by_request(tiktok)
    expected = Counter(f"order-{i}" for i in range(200))
    assert (expected, expected) == (interrupted, after_restart)
    received = httpx.get(f"{tiktok}/_emulator/events", params={"limit": 1000}).json()["events"]
    kept = Counter(e["event_id"] for e in received if not e["deduplicated"])
    assert expected == kept  # TikTok counts each conversion once


def track_items_by_request(tiktok: str) -> tuple[Counter[str], Counter[str]]:
    """event_ids TikTok received in the interrupted request, and in all the others; waits for
    the interrupted one, which the emulator records when its delayed answer is done."""
    deadline = time.monotonic() + 10
    while True:
        requests = httpx.get(f"{tiktok}/_emulator/requests", params={"limit": 1000}).json()
        tracks = [r for r in requests["requests"] if r["path"].endswith("/event/track")]
        if any(r["fault"] == "latency" for r in tracks) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    interrupted: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for request in tracks:
        items = (request["json"] or {}).get("data", [])
        target = interrupted if request["fault"] == "latency" else others
        target.update(item["event_id"] for item in items)
    return interrupted, others


def test_serve_with_two_processes_shares_one_port_and_one_queue(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """`serve --workers 2`: both processes answer on the port; events stored once each."""
    port = free_port()
    env = service_env(tmp_path / "multi.db", "http://127.0.0.1:9", pixel=PIXEL, key=KEY)
    cmd = [str(BIN), "serve", "--no-worker", "--workers", "2", "--port", str(port)]
    serve = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(serve)
    base = f"http://127.0.0.1:{port}/api/integrations/tiktok-ads"
    wait_http(f"http://127.0.0.1:{port}/healthz")
    auth = {"Authorization": f"Bearer {KEY}"}
    page = {"page_url": "https://shop.example/e"}
    for i in range(40):  # fresh connections, spread by the kernel over both processes
        event = {"event_type": "ViewContent", "event_id": f"m{i % 20}", "context": page}
        assert httpx.post(f"{base}/events", json=event, headers=auth).status_code in (200, 202)
    stats = httpx.get(f"{base}/stats", headers=auth).json()
    assert {"queued": 20, "duplicate": 20} == stats["by_status"]
    serve.send_signal(signal.SIGTERM)
    assert 0 == serve.wait(timeout=20)


def test_sandbox_refuses_several_processes() -> None:
    """--sandbox keeps its emulator in one process, so --workers 2 is a usage error."""
    result = subprocess.run(
        [str(BIN), "serve", "--sandbox", "--workers", "2"], capture_output=True, timeout=30
    )
    assert 2 == result.returncode
    assert b"--sandbox runs in one process" in result.stderr
