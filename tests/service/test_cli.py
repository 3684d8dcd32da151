"""The `tiktok-ads` command: migrate, keys create, status, --help with env vars."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiktok_ads.adapters.clock import SystemClock
from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.entrypoints.cli import main
from tiktok_ads.services.api_keys import ApiKeys, Principal


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "TIKTOK_ADS_SECRET_KEY": "s"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_migrate_then_status_reports_an_empty_service(env: dict[str, str]) -> None:
    """`migrate` creates the schema; `status --json` then reports no connections, no events."""
    runner = CliRunner()
    assert 0 == runner.invoke(main, ["migrate"]).exit_code
    result = runner.invoke(main, ["status", "--json"])
    assert 0 == result.exit_code, result.output
    report = json.loads(result.output)
    assert ([], {}) == (report["connections"], report["by_status"])


def test_status_refuses_an_unmigrated_database(env: dict[str, str]) -> None:
    """`status` on a fresh database says to run migrate instead of failing obscurely."""
    result = CliRunner().invoke(main, ["status"])
    assert 1 == result.exit_code
    assert "tiktok-ads migrate" in result.output


def test_keys_create_prints_a_working_key_once(env: dict[str, str]) -> None:
    """The printed key authenticates; only its hash is stored in the database."""
    result = CliRunner().invoke(main, ["keys", "create", "--name", "shop"])
    assert 0 == result.exit_code, result.output
    key = result.output.strip()
    assert key.startswith("tta_")
    database = Path(env["DATABASE_URL"].split("///", 1)[1])
    assert key.encode() not in database.read_bytes()

    async def authenticate() -> object:
        store = SqlStore(env["DATABASE_URL"])
        try:
            keys = ApiKeys(store, SystemClock(), None)
            return await keys.authenticate(key), await keys.authenticate(key + "x")
        finally:
            await store.close()

    assert (Principal("shop", frozenset({"events"})), None) == asyncio.run(authenticate())


def test_every_command_documents_its_env_vars() -> None:
    """--help of serve and emulator names the env var of each option."""
    runner = CliRunner()
    serve = runner.invoke(main, ["serve", "--help"]).output
    assert all(v in serve for v in ("TIKTOK_ADS_HOST", "TIKTOK_ADS_PORT", "TIKTOK_ADS_SANDBOX"))
    assert "TIKTOK_EMULATOR_PORT" in runner.invoke(main, ["emulator", "--help"]).output
