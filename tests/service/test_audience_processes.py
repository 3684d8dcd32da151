"""Audiences with a real `serve` process: killed with SIGKILL mid-sync it loses nothing and
makes no duplicate; the CLI streams a CSV into it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.test_crash import BIN, free_port, processes, wait_http

from tiktok_ads.domain.normalize import hash_email
from tiktok_ads.emulator import EmulatorConfig, RunningEmulator, run_in_thread

pytestmark = pytest.mark.slow
__all__ = ["processes"]  # the fixture, shared with test_crash

TOKEN = "0123456789abcdef0123456789abcdef01234567"
KEY = "audience-key"
ADVERTISER = "7000000002"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def tiktok() -> Iterator[RunningEmulator]:
    with run_in_thread(EmulatorConfig()) as running:
        yield running


def serve_env(tmp_path: Path, tiktok: RunningEmulator) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/audiences.db",
        "TIKTOK_PIXEL_ID": "CPIXELAUDIENCE000001",
        "TIKTOK_ACCESS_TOKEN": TOKEN,
        "TIKTOK_ADVERTISER_ID": ADVERTISER,
        "TIKTOK_ADS_API_KEY": KEY,
        "TIKTOK_API_BASE_URL": tiktok.base_url,
        "TIKTOK_ADS_CLAIM_LEASE_SECONDS": "1",
        "TIKTOK_AUDIENCE_HASH_WORKERS": "0",
    }


def start(env: dict[str, str], port: int, started: list[subprocess.Popen[bytes]]) -> str:
    cmd = [str(BIN), "serve", "--port", str(port), "--log-level", "warning"]
    started.append(subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz")
    return f"{base}/api/integrations/tiktok-ads"


def until(condition: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return value


def settled(api: str, audience_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        view: dict[str, Any] = httpx.get(f"{api}/audiences/{audience_id}", headers=AUTH).json()
        counts = view["jobs"]["counts"]
        idle = not counts.get("queued") and not counts.get("running")
        return view if idle and view["status"] != "syncing" else None

    result: dict[str, Any] = until(done)
    return result


def sync(api: str, audience_id: str, action: str, people: list[str]) -> None:
    body = {"action": action, "id_schema": ["EMAIL_SHA256"], "members": [[p] for p in people]}
    response = httpx.post(f"{api}/audiences/{audience_id}/sync", json=body, headers=AUTH)
    assert 202 == response.status_code, response.text


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_kill_9_mid_sync_loses_nothing_and_makes_no_duplicate(
    tmp_path: Path, tiktok: RunningEmulator, processes: list[subprocess.Popen[bytes]]
) -> None:
    """Killed after TikTok created the audience but before we heard, then after TikTok applied
    an update but before we heard: after each restart TikTok holds one audience with exactly
    the right members."""
    env, port = serve_env(tmp_path, tiktok), free_port()
    api = start(env, port, processes)
    body = {"advertiser_id": ADVERTISER, "custom_audience_name": "Crash"}
    audience_id = httpx.post(f"{api}/audiences", json=body, headers=AUTH).json()["id"]
    first = [f"fan{i}@example.com" for i in range(1200)]
    tiktok.state.faults.add("late_answer", path="dmp/custom_audience/create", ms=30_000)
    sync(api, audience_id, "APPEND", first)
    until(lambda: tiktok.state.audience_ids(name="Crash"))
    kill(processes[-1])
    api = start(env, port, processes)
    view = settled(api, audience_id)
    assert [view["tiktok_audience_id"]] == tiktok.state.audience_ids(name="Crash")
    held = tiktok.state.audience_members(view["tiktok_audience_id"])
    assert ({hash_email(p) for p in first}, 1200) == (held, view["member_count"])

    second = first[100:] + [f"new{i}@example.com" for i in range(50)]
    tiktok.state.faults.add("late_answer", path="dmp/custom_audience/update", ms=30_000)
    sync(api, audience_id, "REPLACE", second)
    until(lambda: len(tiktok.state.audience_members(view["tiktok_audience_id"])) == 1250)
    kill(processes[-1])
    api = start(env, port, processes)
    view = settled(api, audience_id)
    assert ("ready", 1150) == (view["status"], view["member_count"])
    assert {hash_email(p) for p in second} == tiktok.state.audience_members(
        view["tiktok_audience_id"]
    )
    assert 1 == len(tiktok.state.audience_ids(advertiser_id=ADVERTISER))


def test_cli_upload_streams_a_csv_and_prints_the_job_and_bad_lines(
    tmp_path: Path, tiktok: RunningEmulator, processes: list[subprocess.Popen[bytes]]
) -> None:
    """`tiktok-ads audiences upload` sends the file to a running service; the job id and the
    refused lines are printed; TikTok ends up with the good ids."""
    env = serve_env(tmp_path, tiktok)
    api = start(env, free_port(), processes)
    body = {"advertiser_id": ADVERTISER, "custom_audience_name": "From CLI"}
    audience_id = httpx.post(f"{api}/audiences", json=body, headers=AUTH).json()["id"]
    people = [f"cli{i}@example.com" for i in range(3000)]
    csv = tmp_path / "fans.csv"
    csv.write_text(
        "email,external_id\n"
        + "\n".join(f"{p},u{i}" for i, p in enumerate(people))
        + "\nnot-an-email,u-bad\n"
    )
    cli_env = {
        **os.environ,
        "TIKTOK_ADS_URL": api.removesuffix("/api/integrations/tiktok-ads"),
        "TIKTOK_ADS_API_KEY": KEY,
    }
    result = subprocess.run(
        [str(BIN), "audiences", "upload", str(csv), "--audience", audience_id],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert 0 == result.returncode, result.stderr
    assert "3001 rows, 3000 ids, 1 invalid" in result.stdout
    assert "line 3002, email: not an email address" in result.stdout
    assert "columns skipped (not audience ids): external_id" in result.stdout
    view = settled(api, audience_id)
    assert {hash_email(p) for p in people} == tiktok.state.audience_members(
        view["tiktok_audience_id"]
    )
