"""The dispatcher's queue queries stay on the partial indexes, however long the history.

Each dispatch pass asks how much is ready; with `status IN (?, ?)` bound, SQLite could not use
the partial index `ix_events_ready` and walked every event the pixel ever had, then sorted them:
30 ms per pass at 60,000 stored events, growing with retention. The plans are read with
EXPLAIN QUERY PLAN on the exact statements (and parameters) the store runs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.service.test_store import NOW, PIXEL, connect, new_event

from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.domain.events import NewEvent


def _event(n: int, status: str = "queued") -> NewEvent:
    return new_event(f"e{n}", status=status, payload=None if status == "skipped" else {"n": n})


async def _plans(store: SqlStore, verb: Callable[[], Coroutine[Any, Any, Any]]) -> list[str]:
    """The query plan of every statement on `events` that `verb` runs (SQLite's own trace,
    parameters written in: statements run on the raw cursor are seen too)."""
    seen: list[str] = []

    def record(statement: str) -> None:
        if " events" in statement and not statement.lstrip().upper().startswith("EXPLAIN"):
            seen.append(statement)

    traced: list[Any] = []

    def trace(connection: Any) -> None:  # each transaction (the store keeps its connections)
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.set_trace_callback(record)
        traced.append(dbapi_connection)

    engines = (store.write_engine, store.read_engine)
    for engine in engines:
        event.listen(engine, "begin", trace)
    try:
        await verb()
    finally:
        for engine in engines:
            event.remove(engine, "begin", trace)
        for dbapi_connection in traced:
            dbapi_connection.set_trace_callback(None)
    assert seen, "the verb ran no statement on events"

    def explain() -> list[str]:
        raw = store.write_engine.raw_connection()
        try:
            plans = []
            for statement in seen:
                rows = raw.cursor().execute("EXPLAIN QUERY PLAN " + statement)
                plans.append(" | ".join(str(row[-1]) for row in rows))
            return plans
        finally:
            raw.close()

    return await asyncio.to_thread(explain)


@pytest.fixture(params=["no statistics", "analyzed"])
async def busy_store(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    store = SqlStore(f"sqlite:///{tmp_path}/plans.db")
    await store.migrate()
    await connect(store)
    # A history: settled events far outnumber the ready ones, as in any service that ran a while.
    await store.add_events([_event(n, "skipped") for n in range(2000)], NOW, 86400)
    await store.add_events([_event(n) for n in range(2000, 2050)], NOW, 86400)
    if request.param == "analyzed":  # the service never runs ANALYZE, an operator might
        await asyncio.to_thread(_analyze, store)
    try:
        yield store
    finally:
        await store.close()


_UNINDEXED_SCAN = re.compile(r"SCAN events(?! USING (COVERING )?INDEX ix_events_(ready|sending))")
# Lost claims are few; (status, id) finds them in order as well as the partial index would.
_SENDING_INDEXES = ("ix_events_sending", "ix_events_status_id")


def _analyze(store: SqlStore) -> None:
    raw = store.write_engine.raw_connection()
    try:
        raw.cursor().execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _on_partial_index(plan: str, *indexes: str) -> None:
    """Every access to `events` goes through one of `indexes` (a scan of a partial index is
    fine: it holds only the rows the query wants); nothing is sorted."""
    assert any(f"INDEX {index}" in plan for index in indexes), plan
    assert _UNINDEXED_SCAN.search(plan) is None, plan
    assert "ix_events_pixel_time" not in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def test_readiness_reads_only_ready_events(busy_store: SqlStore) -> None:
    plans = await _plans(busy_store, lambda: busy_store.readiness(PIXEL, NOW + 1, 1000))
    for plan in plans:
        _on_partial_index(plan, "ix_events_ready")
    assert (50, NOW) == await busy_store.readiness(PIXEL, NOW + 1, 1000)


async def test_counting_past_the_quota_reads_only_ready_events(busy_store: SqlStore) -> None:
    plans = await _plans(busy_store, lambda: busy_store.ready_more_than(PIXEL, NOW + 1, 10))
    for plan in plans:
        _on_partial_index(plan, "ix_events_ready")
    assert await busy_store.ready_more_than(PIXEL, NOW + 1, 49)
    assert not await busy_store.ready_more_than(PIXEL, NOW + 1, 50)


async def test_waiting_by_pixel_reads_only_ready_events(busy_store: SqlStore) -> None:
    plans = await _plans(busy_store, busy_store.waiting_by_pixel)
    for plan in plans:
        _on_partial_index(plan, "ix_events_ready")
    assert {PIXEL: 50} == await busy_store.waiting_by_pixel()


async def test_lost_claims_are_found_through_the_sending_index(busy_store: SqlStore) -> None:
    await busy_store.claim_batch(PIXEL, 20, NOW + 1, NOW + 60, False)
    plans = await _plans(busy_store, lambda: busy_store.expired_leases(NOW + 120))
    for plan in plans:
        _on_partial_index(plan, *_SENDING_INDEXES)
    assert 20 == len(await busy_store.expired_leases(NOW + 120))


async def test_claims_take_ready_events_through_their_index(busy_store: SqlStore) -> None:
    plans = await _plans(
        busy_store, lambda: busy_store.claim_batch(PIXEL, 10, NOW + 1, NOW + 60, True)
    )
    assert any("ix_events_ready" in plan for plan in plans), plans
    for plan in plans:
        assert "TEMP B-TREE" not in plan, plan
