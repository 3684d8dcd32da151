"""Shared fixtures: real SQLite files and a fresh database on the machine's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test a stale build: Python imports a module compiled by mypyc (setup.py)
    before its source, so an edited source would go untested."""
    from tests.compiled import stale_builds

    stale = stale_builds(REPO)
    if stale:
        pytest.exit(
            f"compiled modules older than their source: {', '.join(stale)}; rebuild them with "
            "`make .venv/.installed-test` (or `pip install -e .`)",
            returncode=4,
        )


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:
        return f"no PostgreSQL answers at {PG_ADMIN_URL}: {exc}"


@pytest.fixture(scope="session")
def pg_admin() -> str:
    """The PostgreSQL admin URL. In CI (CI=true) a missing PostgreSQL fails the run; on a
    developer's machine without one, the PostgreSQL tests skip with the reason."""
    reason = _pg_available()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the PostgreSQL tests, but {reason}")
        pytest.skip(reason)
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    import psycopg

    name = f"tta_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/tiktok-ads.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/tiktok-ads.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[object]:
    from tiktok_ads.adapters.store import SqlStore

    s = SqlStore(db_url)
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()
