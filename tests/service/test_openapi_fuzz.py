"""Schemathesis fuzzes every operation of our own /openapi.json: no request a caller can send
gets a 5xx. Bounded (fixed seed, a few dozen cases per operation) to stay near 30 s."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from tests.service.test_crash import BIN, free_port, wait_http

pytestmark = pytest.mark.slow

KEY = "fuzz-admin-key"
EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def api_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `serve --sandbox` on SQLite: the API as users get it, with the emulator as TikTok."""
    folder = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder}/fuzz.db",
        "TIKTOK_ADS_API_KEY": KEY,
        "TIKTOK_BATCH_LINGER_MS": "50",
    }
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN), "serve", "--sandbox", "--port", str(port), "--log-level", "WARNING"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        errors = Path(log.name).read_text(errors="replace")
        assert "Traceback" not in errors, errors[-4000:]


def test_no_generated_request_gets_a_server_error(api_base_url: str) -> None:
    """Whatever schemathesis generates from our OpenAPI, no operation answers with a 5xx."""
    schema = schemathesis.openapi.from_url(api_base_url + "/openapi.json")
    auth = {"Authorization": f"Bearer {KEY}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the OpenAPI document lost its operations"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: Any) -> None:
            response = case.call(base_url=api_base_url, headers=auth)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} -> "
                    f"{response.status_code}: {response.text[:300]}"
                )

        call()
    assert [] == failures
