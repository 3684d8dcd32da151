"""The database failing under a running service: 503 with Retry-After, never a 500."""

from __future__ import annotations

import sqlite3

import psycopg
from tests.conftest import PG_ADMIN_URL
from tests.service.conftest import SEED_EVENT, ServiceFactory


def _break_sqlite(db_url: str) -> None:
    """Lose the table every ingest writes first (a botched restore of the database file)."""
    with sqlite3.connect(db_url.split("///", 1)[1], timeout=30) as outside:
        outside.execute("DROP TABLE dedup_keys")


def _break_postgres(db_url: str) -> None:
    """Fail over to a read-only standby: new sessions read-only, old ones terminated."""
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )


async def test_a_database_failing_mid_run_answers_503(
    db_url: str, make_service: ServiceFactory
) -> None:
    """Driver errors from the bulk statements of ingest become 503 + Retry-After, not 500."""
    service = await make_service(db_url=db_url)
    assert 202 == (await service.post("/events", SEED_EVENT)).status_code
    (_break_sqlite if db_url.startswith("sqlite") else _break_postgres)(db_url)
    response = await service.post("/events", {**SEED_EVENT, "event_id": "order_124"})
    assert (503, "5") == (response.status_code, response.headers.get("retry-after"))
    assert "database unavailable; nothing was accepted" == response.json()["message"]
