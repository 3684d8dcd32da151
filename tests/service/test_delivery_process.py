"""`serve --delivery-process yes`: the API in one process, delivery in a child of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
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
__all__ = ["processes"]

PIXEL = "CPIXELSPLIT000000001"
KEY = "split-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _forked(pid: int) -> list[int]:
    """Children of `pid` that are forks of it (its command line)."""
    own = _cmdline(pid)
    return [child for child in _children(pid) if _cmdline(child) == own]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(
    tmp_path: Path, tiktok: str, procs: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = service_env(tmp_path / "split.db", tiktok, pixel=PIXEL, key=KEY)
    cmd = [str(BIN), "serve", "--port", str(port), "--delivery-process", "yes"]
    serve = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(serve)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz")
    return serve, base


def _post(base: str, n: int) -> None:
    events = [
        {
            "event_type": "CompletePayment",
            "event_id": f"split-{i}",
            "context": {"page_url": "https://shop.example/checkout", "ip": "203.0.113.7"},
        }
        for i in range(n)
    ]
    answer = httpx.post(
        f"{base}/api/integrations/tiktok-ads/events/batch", json={"events": events}, headers=AUTH
    )
    assert (200, n) == (answer.status_code, answer.json()["accepted"])


def _wait_delivered(base: str, n: int) -> None:
    deadline = time.monotonic() + 30
    by_status: dict[str, int] = {}
    while time.monotonic() < deadline:
        stats = httpx.get(f"{base}/api/integrations/tiktok-ads/stats", headers=AUTH).json()
        by_status = stats["by_status"]
        if by_status.get("delivered") == n:
            return
        time.sleep(0.1)
    raise AssertionError(f"not all delivered: {by_status}")


@dataclass
class Split:
    tiktok: str
    serve: subprocess.Popen[bytes]
    base: str
    child: int


@pytest.fixture
def split(tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> Split:
    """A `serve --delivery-process yes` and its one child, delivering to an emulator."""
    tiktok = start_emulator(processes)
    serve, base = _start(tmp_path, tiktok, processes)
    (child,) = _children(serve.pid)
    return Split(tiktok, serve, base, child)


def test_a_child_delivers_and_the_api_reports_its_metrics(split: Split) -> None:
    tiktok, serve, base, child = split.tiktok, split.serve, split.base, split.child
    _post(base, 50)
    _wait_delivered(base, 50)
    received = httpx.get(f"{tiktok}/_emulator/events", params={"limit": 100}).json()["events"]
    assert 50 == len({e["event_id"] for e in received})
    assert all(e["raw"]["user"]["ip"] == "203.0.113.7" for e in received)
    # The requests to TikTok were made by the child; the API process's /metrics shows them.
    metrics = httpx.get(f"{base}/metrics", headers=AUTH).text
    delivered = [
        line
        for line in metrics.splitlines()
        if line.startswith("tiktok_requests_total{") and 'verdict="delivered"' in line
    ]
    assert delivered and float(delivered[0].rsplit(" ", 1)[1]) >= 1
    serve.send_signal(signal.SIGTERM)
    assert 0 == serve.wait(timeout=60)
    assert not _alive(child)


def test_the_child_dies_with_a_killed_parent_and_a_restart_delivers(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], split: Split
) -> None:
    serve, child = split.serve, split.child
    serve.send_signal(signal.SIGKILL)
    serve.wait(timeout=10)
    deadline = time.monotonic() + 40  # SIGTERM from the kernel; in-flight work may finish
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)
    _serve, base = _start(tmp_path, split.tiktok, processes)
    _post(base, 10)
    _wait_delivered(base, 10)


def test_a_child_that_dies_is_started_again(split: Split) -> None:
    serve, base, child = split.serve, split.base, split.child
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 20
    replacement: list[int] = []
    while time.monotonic() < deadline:
        replacement = [pid for pid in _children(serve.pid) if pid != child and _alive(pid)]
        if replacement:
            break
        time.sleep(0.1)
    assert replacement, "no new delivery process"
    _post(base, 10)
    _wait_delivered(base, 10)


def test_a_delivery_process_with_sandbox_or_workers_is_a_usage_error() -> None:
    for extra in (["--sandbox"], ["--workers", "2"], ["--no-worker"]):
        result = subprocess.run(
            [str(BIN), "serve", "--delivery-process", "yes", *extra],
            capture_output=True,
            timeout=60,
        )
        assert 2 == result.returncode, extra
        assert b"--delivery-process yes is for one serve" in result.stderr


@pytest.mark.parametrize("after_ms", [0, 3, 10, 30, 60, 120, 250])
def test_sigterm_while_starting_stops_it(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], after_ms: int
) -> None:
    """A SIGTERM before the API serves ends serve and its child, promptly, rather than being
    lost: sent at several moments after the fork (the parent releasing the child, the child
    importing and building its worker). Lost, it left the child delivering and serve waiting
    for it at exit, in about one start in four."""
    port = free_port()
    env = service_env(tmp_path / "early.db", "http://127.0.0.1:9", pixel=PIXEL, key=KEY)
    cmd = [str(BIN), "serve", "--port", str(port), "--delivery-process", "yes"]
    serve = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(serve)
    deadline = time.monotonic() + 30
    # Forked: handlers are next. (The schema is made first, by a child of another command line.)
    while not _forked(serve.pid) and time.monotonic() < deadline:
        time.sleep(0.002)
    (child,) = _forked(serve.pid)
    time.sleep(after_ms / 1000)
    serve.send_signal(signal.SIGTERM)
    # Well inside the child's grace period (STOP_GRACE_S): stopped, not killed after waiting.
    assert 0 == serve.wait(timeout=20)
    assert not _alive(child)


def test_a_child_told_to_stop_is_not_started_again(split: Split) -> None:
    """SIGTERM to the child alone (a service manager stopping the whole group reaches it before
    the parent): it stops in order and is not replaced while the parent stops too."""
    os.kill(split.child, signal.SIGTERM)
    deadline = time.monotonic() + 40
    while _alive(split.child) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3)  # the watcher looks every second and would restart within ~2 s
    assert [] == [pid for pid in _children(split.serve.pid) if _alive(pid)]
    split.serve.send_signal(signal.SIGTERM)
    assert 0 == split.serve.wait(timeout=60)


def test_a_stop_asked_while_the_worker_starts_is_kept(tmp_path: Path) -> None:
    """A SIGTERM noted before the event loop runs (the child's start-up: imports, building the
    worker) stops the worker as soon as it has started, in order, instead of being lost."""
    script = (
        "import asyncio, os, signal, sys\n"
        "from tiktok_ads.config import Settings\n"
        "from tiktok_ads.entrypoints import delivery_process as dp\n"
        "from tiktok_ads.entrypoints.schema import upgrade\n"
        "asyncio.run(upgrade(os.environ['DATABASE_URL']))\n"
        "asked = dp._keep_stop_requests()\n"
        "os.kill(os.getpid(), signal.SIGTERM)  # noted, not raised\n"
        "import tiktok_ads.bootstrap\n"
        "assert asked.is_set()\n"
        "dp.run_delivery(Settings(), asked)\n"
        "print('stopped in order')\n"
    )
    env = service_env(tmp_path / "asked.db", "http://127.0.0.1:9", pixel=PIXEL, key=KEY)
    env["TIKTOK_ADS_SECRET_KEY"] = "test-secret"
    out = subprocess.run(
        [str(BIN.with_name("python")), "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert 0 == out.returncode, out.stderr[-2000:]
    assert "stopped in order" == out.stdout.strip()
