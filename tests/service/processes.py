"""Real processes for tests: `tiktok-ads serve` and `tiktok-ads emulator` on free local ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).with_name("tiktok-ads")
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; killed (if still running) and reaped afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def start_emulator(processes: list[subprocess.Popen[bytes]]) -> str:
    """A `tiktok-ads emulator` on a free port; its base URL once it answers."""
    port = free_port()
    processes.append(
        subprocess.Popen(
            [str(BIN), "emulator", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/_emulator/stats")
    return url


def service_env(
    database: Path, tiktok: str, *, pixel: str, key: str, **extra: str
) -> dict[str, str]:
    """The environment of a `serve` on a SQLite file, delivering to the emulator at `tiktok`."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "TIKTOK_PIXEL_ID": pixel,
        "TIKTOK_ACCESS_TOKEN": TOKEN,
        "TIKTOK_ADS_API_KEY": key,
        "TIKTOK_API_BASE_URL": f"{tiktok}/open_api",
        "TIKTOK_BATCH_LINGER_MS": "0",
        **extra,
    }
