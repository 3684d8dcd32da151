"""/stats, queue depth and the periodic purges on a SQLite database of 10,000,000 settled events.

Fills the database with one `INSERT … SELECT` from a recursive CTE (indexes built afterwards,
as a fresh `CREATE INDEX` sorts instead of inserting row by row), the event counters as the
service would have kept them, a queue of waiting and in-flight events, and recent settled
events still holding IP and user agent. Then times the store verbs and GET /stats through the
real app, shows what the old GROUP BY over every event cost, and prints each periodic
statement's query plan. Needs about 2.5 GB of disk and a few minutes.

Run: .venv/bin/python -m bench.bench_stats [--rows 10000000] [--dir DIR]  (asserts nothing)
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from tiktok_ads.adapters.store import SqlStore, event_reads, retention
from tiktok_ads.adapters.store.bulk import pinned
from tiktok_ads.adapters.store.schema import events
from tiktok_ads.bootstrap import build
from tiktok_ads.config import Settings
from tiktok_ads.entrypoints.api.app import PREFIX, create_api

NOW = 1_760_000_000.0
DAY = 86400.0
API_KEY = "bench-key"
# The newest 300,000 settled events (about 5 days at 10 M rows) still hold IP and user agent:
# the first PII purge catches up on those past 72 h, the second is the steady state.
QUEUED, SENDING, WITH_PII = 5_000, 1_000, 300_000

# Six pixels, five event names, 2% failed and 1% skipped; updated_at spread over 180 days so
# about half is past the 90-day retention.
_FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO events (pixel_id, event_name, event_id, event_time, status, priority, match_keys,
                    received_at, next_attempt_at, deadline_at, attempts, updated_at,
                    delivered_at, tiktok_code)
SELECT 'CBENCHPIXEL00000000' || (i % 6),
       CASE i % 5 WHEN 0 THEN 'CompletePayment' WHEN 1 THEN 'ViewContent'
            WHEN 2 THEN 'AddToCart' WHEN 3 THEN 'InitiateCheckout' ELSE 'CompleteRegistration' END,
       'order_' || i, CAST(:t AS INTEGER), s, 0, 'email,phone', u, u, u + 172800, 1, u,
       CASE s WHEN 'delivered' THEN u END,
       CASE s WHEN 'delivered' THEN 0 WHEN 'failed' THEN 40002 END
FROM (SELECT i, :t - 180 * 86400 + i * (180 * 86400.0 / :rows) AS u,
             CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 100 = 1 THEN 'skipped'
                  ELSE 'delivered' END AS s
      FROM n)
"""
_COUNTERS = """
INSERT INTO event_counters (pixel_id, event_name, outcome, count)
SELECT pixel_id, event_name, status, count(*) FROM events GROUP BY pixel_id, event_name, status
UNION ALL
SELECT pixel_id, event_name, 'received', count(*) FROM events GROUP BY pixel_id, event_name
"""
_OLD_STATS = "SELECT pixel_id, event_name, status, count(*) FROM events GROUP BY 1, 2, 3"


def fill(path: Path, rows: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-500000")
    indexes = [row[0] for row in db.execute(_INDEXES_SQL)]
    for name in indexes:
        db.execute(f"DROP INDEX {name}")
    db.execute("BEGIN")
    db.execute(_FILL, {"rows": rows, "t": NOW})
    # The live queue and recent settled events still holding IP and user agent.
    db.execute(
        "UPDATE events SET status = 'queued', updated_at = :t, delivered_at = NULL "
        "WHERE id > :last - :q",
        {"t": NOW, "last": rows, "q": QUEUED},
    )
    db.execute(
        "UPDATE events SET status = 'sending', lease_until = :t + 120 "
        "WHERE id > :last - :q - :s AND id <= :last - :q",
        {"t": NOW, "last": rows, "q": QUEUED, "s": SENDING},
    )
    db.execute(
        "UPDATE events SET ip = '203.0.113.7', user_agent = 'Mozilla/5.0' "
        "WHERE id > :last - :q - :s - :p AND id <= :last - :q - :s",
        {"last": rows, "q": QUEUED, "s": SENDING, "p": WITH_PII},
    )
    db.execute(_COUNTERS)
    db.execute("COMMIT")
    db.close()


_INDEXES_SQL = (
    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
    "AND name LIKE 'ix_%'"
)


def create_indexes(store: SqlStore) -> None:
    with store.write_engine.begin() as conn:
        for index in events.indexes:
            index.create(conn, checkfirst=True)


async def timed(label: str, fn: Callable[[], Awaitable[Any]], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(f"{label:<52} {median:9.2f} ms (median of {runs}, min {min(times):.2f})")
    return median


def plans(store: SqlStore) -> None:
    statements = {
        "queue depth, ready": event_reads.READY_BY_PIXEL,
        "queue depth, sending": event_reads.SENDING_BY_PIXEL,
        "stats, live by status": event_reads.LIVE_BY_STATUS,
        "PII purge": retention.PURGE_PII,
        "retention, events": retention.EXPIRED_EVENTS,
        "retention, deliveries": retention.EXPIRED_DELIVERIES,
    }
    params = {"cutoff": NOW, "batch": 1000, "now": NOW}
    with store.write_engine.connect() as conn:
        for label, sql in statements.items():
            query = text(f"EXPLAIN QUERY PLAN {pinned(sql, 'sqlite')}")
            details = [row[3] for row in conn.execute(query, params)]
            print(f"  {label:<24} {'; '.join(details)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="where the database goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "stats.db"
        url = f"sqlite:///{path}"
        store = SqlStore(url)
        await store.migrate()
        await store.close()
        start = time.perf_counter()
        await asyncio.to_thread(fill, path, args.rows)
        filled = time.perf_counter() - start
        store = SqlStore(url)
        await asyncio.to_thread(create_indexes, store)
        print(
            f"filled {args.rows:,} events in {filled:.0f} s, indexes in "
            f"{time.perf_counter() - start - filled:.0f} s; {path.stat().st_size / 1e9:.1f} GB"
        )
        container = build(
            Settings(
                database_url=url, tiktok_ads_api_key=API_KEY, tiktok_ads_secret_key="bench-key"
            )
        )
        await container.start(run_dispatcher=False)
        app = httpx.ASGITransport(app=create_api(container, run_dispatcher=False))
        async with httpx.AsyncClient(transport=app, base_url="http://bench") as client:
            try:
                await _measure(store, client)
            finally:
                await container.stop()
                await store.close()


async def _measure(store: SqlStore, client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}

    async def get_stats() -> None:
        (await client.get(f"{PREFIX}/stats", headers=headers)).raise_for_status()

    await timed("store.stats() (counters + live counts)", store.stats)
    await timed("store.queue_depth()", store.queue_depth)
    await timed("GET /stats through the app", get_stats)
    purge = _purge(store)
    await timed("store.purge(): first call, catching up on PII", purge, runs=1)
    await timed("store.purge(): steady state", purge)
    await timed(
        "store.purge_expired(): one call, 10 batches of 1,000",
        lambda: store.purge_expired(NOW - 90 * DAY),
        runs=3,
    )
    await timed("before: GROUP BY over every event", _old_stats(store), runs=1)
    print("query plans:")
    await asyncio.to_thread(plans, store)


def _purge(store: SqlStore) -> Callable[[], Awaitable[Any]]:
    return lambda: store.purge(NOW, pii_cutoff=NOW - 3 * DAY, click_cutoff=NOW - 28 * DAY)


def _old_stats(store: SqlStore) -> Callable[[], Awaitable[Any]]:
    def scan() -> int:
        with store.write_engine.connect() as conn:
            return len(conn.exec_driver_sql(_OLD_STATS).all())

    return lambda: asyncio.to_thread(scan)


if __name__ == "__main__":
    asyncio.run(main())
