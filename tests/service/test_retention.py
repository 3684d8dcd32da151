"""Retention and /stats at scale: old settled rows deleted in batches, totals kept in counters,
and the periodic queries answered from indexes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text
from tests.service.conftest import PIXEL as SERVICE_PIXEL
from tests.service.conftest import SEED_EVENT, ServiceFactory
from tests.service.test_store import NOW, PIXEL, new_event

from tiktok_ads.adapters.clock import FrozenClock
from tiktok_ads.adapters.store import DeliveryRecord, SqlStore, event_reads, migrate, retention
from tiktok_ads.adapters.store.bulk import pinned
from tiktok_ads.domain.delivery import Outcome

DAY = 86400.0


async def deliver(store: SqlStore, count: int, now: float, *, failed: bool = False) -> None:
    """Claim `count` queued events and settle them (with one delivery-log row per claim)."""
    while count > 0:
        batch = await store.claim_batch(PIXEL, min(count, 1000), now, now + 60, False)
        pks = [e.pk for e in batch]
        record = DeliveryRecord(PIXEL, now, len(pks), 200, 0, "OK", None, 1.0, "delivered")
        fate = {"failed": tuple(pks)} if failed else {"delivered": tuple(pks)}
        await store.settle(Outcome(now, 0, "OK", delivery=record, **fate))
        count -= len(pks)


async def test_purge_expired_deletes_old_settled_rows_a_bounded_number_per_call(
    store: SqlStore,
) -> None:
    """Settled events and delivery rows past the cutoff go, at most `limit` per call; the queue
    and newer rows stay, and /stats counts the same before and after."""
    await store.add_events([new_event(f"old{i}") for i in range(2000)], NOW, DAY)
    skipped = new_event("skipped", status="skipped", payload=None, skip_reason="consent denied")
    await store.add_events([skipped, new_event("waiting")], NOW, DAY)
    await deliver(store, 2000, NOW)
    await store.add_events([new_event("recent")], NOW + 10 * DAY, DAY)
    await deliver(store, 2, NOW + 10 * DAY)  # "waiting" (old, still queued until now) and "recent"
    await store.add_events([new_event("queued")], NOW, DAY)
    before = await store.stats()

    first = await store.purge_expired(cutoff=NOW + DAY, limit=1500)
    second = await store.purge_expired(cutoff=NOW + DAY, limit=1500)
    third = await store.purge_expired(cutoff=NOW + DAY, limit=1500)

    assert {"events": 1500, "deliveries": 2} == first
    assert {"events": 501, "deliveries": 0} == second  # the rest, the skipped one included
    assert {"events": 0, "deliveries": 0} == third
    left = {r["event_id"] for r in await store.list_events(limit=1000)}
    assert {"waiting", "recent", "queued"} == left
    assert [NOW + 10 * DAY] == [r["sent_at"] for r in await store.recent_deliveries()]
    assert before == await store.stats()


async def test_stats_come_from_counters_and_live_queue(store: SqlStore) -> None:
    """Totals by outcome (received, duplicate, skipped, delivered, failed) and queue states now;
    a replayed failure leaves `failed` and is counted again when TikTok answers."""
    skipped = new_event("s", status="skipped", payload=None, skip_reason="consent denied")
    items = [new_event("a"), new_event("a"), new_event("b"), new_event("c"), skipped]
    items.append(new_event("v", name="ViewContent"))
    await store.add_events(items, NOW, DAY)
    await deliver(store, 1, NOW)  # "a"
    await deliver(store, 1, NOW, failed=True)  # "b"
    await store.claim_batch(PIXEL, 1, NOW, NOW + 60, False)  # "c" in flight

    stats = await store.stats()
    assert 6 == stats["received"]
    expected_status = {"delivered": 1, "failed": 1, "duplicate": 1, "skipped": 1, "sending": 1}
    assert {**expected_status, "queued": 1} == stats["by_status"]
    assert {"received": 1} == stats["by_event_type"]["ViewContent"]
    assert {PIXEL: 2} == await store.queue_depth()  # "v" waiting, "c" in flight
    assert {
        "received": 5,
        "delivered": 1,
        "failed": 1,
        "duplicate": 1,
        "skipped": 1,
    } == stats["by_event_type"]["CompletePayment"]

    failed = await store.get_event("b")
    assert failed is not None
    assert await store.replay_failed(failed["id"], NOW + 1)
    assert "failed" not in (await store.stats())["by_status"]
    lost = [pk for pk, _ in await store.expired_leases(NOW + 61)]
    await store.release_leases(NOW + 61, requeue=lost, give_up=[], reason="")  # "c" requeued
    await deliver(store, 3, NOW + 62)
    assert {"delivered": 4, "duplicate": 1, "skipped": 1} == (await store.stats())["by_status"]


def plan(store: SqlStore, sql: str, **params: Any) -> list[str]:
    with store.write_engine.connect() as conn:
        statement = pinned(sql, "sqlite")
        return [row[3] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {statement}"), params)]


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (event_reads.READY_BY_PIXEL, "ix_events_ready"),
        (event_reads.SENDING_BY_PIXEL, "ix_events_sending"),
        (event_reads.LIVE_BY_STATUS, "COVERING INDEX ix_events_status_id"),
        (retention.PURGE_PII, "ix_events_pii (updated_at<?)"),
        (retention.EXPIRED_EVENTS, "ix_events_settled (updated_at<?)"),
        (retention.EXPIRED_DELIVERIES, "ix_deliveries_sent_at (sent_at<?)"),
        (retention.PURGE_DEDUP_KEYS, "ix_dedup_keys_expires_at (expires_at<?)"),
        (retention.PURGE_CLICKS[0], "ix_click_ids_ttclid_at (ttclid_at<?)"),
        (retention.PURGE_CLICKS[1], "ix_click_ids_ttp_at (ttp_at<?)"),
    ],
)
async def test_periodic_queries_use_indexes_on_sqlite(
    sqlite_url: str, sql: str, index: str
) -> None:
    """Queue depth, live counts, the purges and retention search their index, never a table."""
    store = SqlStore(sqlite_url)
    await store.migrate()
    try:
        details = await asyncio.to_thread(plan, store, sql, cutoff=NOW, batch=1000, now=NOW)
        full_scans = [d for d in details if d.startswith("SCAN") and "INDEX" not in d]
        assert ([], True) == (full_scans, any(index in d for d in details))
    finally:
        await store.close()


async def test_maintenance_deletes_events_past_retention(
    make_service: ServiceFactory,
) -> None:
    """The worker's retention task applies TIKTOK_ADS_EVENT_RETENTION_DAYS; /stats still counts."""
    clock = FrozenClock(time.time())
    service = await make_service(clock=clock, tiktok_ads_event_retention_days=30)
    assert 202 == (await service.post("/events", SEED_EVENT)).status_code
    await service.settle()
    clock.advance(29 * DAY)
    await service.container.periodic.run_now("delete-past-retention")
    assert 200 == (await service.get("/events/order_123")).status_code
    clock.advance(2 * DAY)
    await service.container.periodic.run_now("delete-past-retention")
    assert 404 == (await service.get("/events/order_123")).status_code
    assert [] == (await service.get("/deliveries")).json()["deliveries"]
    stats = (await service.get("/stats")).json()
    assert ({"delivered": 1}, {SERVICE_PIXEL: {"delivered": 1, "received": 1}}) == (
        stats["by_status"],
        stats["by_pixel"],
    )


async def test_migration_0002_carries_existing_data(db_url: str) -> None:
    """Upgrading a 0001 database: counters backfilled from events, click times from seen_at."""
    store = SqlStore(db_url)
    try:
        await asyncio.to_thread(migrate.upgrade, store.write_engine, "0001")
        await asyncio.to_thread(_fill_0001, store)
        await store.migrate()
        stats = await store.stats()
        assert (7, {"delivered": 2, "failed": 1, "queued": 1, "duplicate": 3}) == (
            stats["received"],
            stats["by_status"],
        )
        recalled = new_event("later", identity_hashes=("h1",))
        await store.add_events([recalled], NOW + DAY, 28 * DAY)
        assert {"ttclid": "E.C.P.x"} == recalled.payload["user"]
    finally:
        await store.close()


def _fill_0001(store: SqlStore) -> None:
    with store.write_engine.begin() as conn:
        for i, status in enumerate(["delivered", "delivered", "failed", "queued"]):
            conn.execute(
                text(
                    "INSERT INTO events (pixel_id, event_name, event_id, event_time, status, "
                    "priority, received_at, next_attempt_at, deadline_at, updated_at) "
                    "VALUES (:p, 'CompletePayment', :e, 0, :s, 0, :t, :t, :t, :t)"
                ),
                {"p": PIXEL, "e": f"e{i}", "s": status, "t": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO ingest_counters (pixel_id, event_name, outcome, count) "
                "VALUES (:p, 'CompletePayment', 'duplicate', 3)"
            ),
            {"p": PIXEL},
        )
        conn.execute(
            text(
                "INSERT INTO click_ids (identity_hash, ttclid, ttp, seen_at) "
                "VALUES ('h1', 'E.C.P.x', NULL, :t)"
            ),
            {"t": NOW},
        )


async def test_counters_count_each_settled_event_once(store: SqlStore) -> None:
    """A stale verdict on an event already settled, and a lost claim given up, count once."""
    await store.add_events([new_event("x"), new_event("y")], NOW, DAY)
    x, y = await store.claim_batch(PIXEL, 2, NOW, NOW + 60, False)
    await store.settle(Outcome(NOW, 0, "OK", delivered=(x.pk,)))
    await store.settle(Outcome(NOW + 1, 0, "OK", delivered=(x.pk,)))  # a slow second worker
    await store.release_leases(NOW + 61, requeue=[], give_up=[y.pk], reason="past the deadline")
    by_status = (await store.stats())["by_status"]
    assert (1, 1) == (by_status["delivered"], by_status["failed"])


async def test_stats_and_queue_depth_narrowed_to_some_pixels(store: SqlStore) -> None:
    """A key limited to one pixel sees that pixel's totals and live queue only."""
    other = "COTHERPIXEL000000001"
    mine = [new_event("m1"), new_event("m2")]
    theirs = [new_event("t1", pixel_id=other), new_event("t2", pixel_id=other)]
    await store.add_events([*mine, *theirs], NOW, DAY)
    await deliver(store, 1, NOW)  # one of PIXEL's
    only_mine = frozenset({PIXEL})
    stats = await store.stats(only_mine)
    assert ({"delivered": 1, "queued": 1}, 2) == (stats["by_status"], stats["received"])
    assert [PIXEL] == list(stats["by_pixel"])
    assert {PIXEL: 1} == await store.queue_depth(only_mine)
    assert {PIXEL: 1, other: 2} == await store.queue_depth()
