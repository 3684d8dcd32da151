"""The `tiktok-ads` command: migrate, keys create, status, --help with env vars."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiktok_ads.adapters.clock import SystemClock
from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.config import Settings
from tiktok_ads.entrypoints.cli import main
from tiktok_ads.entrypoints.schema import migrate_apart
from tiktok_ads.errors import ConfigurationError
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


def test_a_server_migrates_apart_and_never_loads_alembic(tmp_path: Path) -> None:
    """`serve` and `worker` bring a SQLite schema up to date in a child process: the server
    then finds it current and never imports Alembic (~6 MB it would keep for its life)."""
    url = f"sqlite:///{tmp_path}/apart.db"
    check = (
        "import sys\n"
        "from tiktok_ads.config import Settings\n"
        "from tiktok_ads.entrypoints.schema import migrate_apart\n"
        f"migrate_apart(Settings(database_url={url!r}))\n"
        "migrate_apart(Settings(database_url={url!r}))  # current now: nothing to do\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    ).replace("{url!r}", repr(url))
    done = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert 0 == done.returncode, done.stderr
    assert "[]" == done.stdout.strip()
    assert _schema_is_current(url)


def test_a_failed_migration_apart_is_a_clear_error(tmp_path: Path) -> None:
    """The child's reason reaches the operator (not SQLAlchemy's link line); no server starts."""
    broken = tmp_path / "unknown-revision.db"
    with sqlite3.connect(broken) as db:  # a schema from a revision this code does not know
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    with pytest.raises(ConfigurationError, match=r"migrating the database failed: .*9999"):
        migrate_apart(Settings(database_url=f"sqlite:///{broken}"))
    (tmp_path / "not-a-db").write_text("this is not SQLite")
    unreadable = r"cannot read the database: DatabaseError: .*file is not a database"
    with pytest.raises(ConfigurationError, match=unreadable):
        migrate_apart(Settings(database_url=f"sqlite:///{tmp_path}/not-a-db"))


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_serve_and_worker_never_load_alembic(tmp_path: Path, command: list[str]) -> None:
    """A real `serve` / `worker` on a new database: the schema is made before it starts (in a
    child), so the server itself never imports Alembic. Python's import log (-X importtime, on
    stderr) shows what it loaded; without the migration apart, its own start-up migrated."""
    url = f"sqlite:///{tmp_path}/real.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DATABASE_"))},
        "DATABASE_URL": url,
        "TIKTOK_ADS_SECRET_KEY": "s",
        "PYTHONPROFILEIMPORTTIME": "1",
    }
    log_file = tmp_path / "stderr.log"  # a file, not a pipe: the import log outgrows a pipe
    with log_file.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tiktok_ads", *command],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while not _started(proc, url):
            assert proc.poll() is None, "it exited"
            assert time.monotonic() < deadline, "no schema after 60 s"
            time.sleep(0.2)
        time.sleep(1.0)  # the container's own start-up (where it would have migrated) runs on
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = log_file.read_text()
    imported = re.findall(r"\|\s+([\w.]+)\s*$", log, re.MULTILINE)
    assert "sqlalchemy" in imported  # the import log is there
    assert [] == [name for name in imported if name.split(".")[0] in ("alembic", "mako")]


def _started(proc: subprocess.Popen[bytes], url: str) -> bool:
    return proc.poll() is None and _schema_is_current(url)


def _schema_is_current(url: str) -> bool:
    async def current() -> bool:
        store = SqlStore(url)
        try:
            return await store.schema_is_current()
        finally:
            await store.close()

    return asyncio.run(current())
