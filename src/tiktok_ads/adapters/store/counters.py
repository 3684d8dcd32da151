"""Event counters: totals by (pixel, event name, outcome) that outlive the rows they count.

/stats reads these few rows instead of grouping millions of events. The ingest group commit
counts received, skipped and duplicate; settlement counts delivered and failed; a replay takes
a failed one back. Every write is inside the transaction that changes the events it counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import bulk

OutcomeCounts = Mapping[tuple[str, str, str], int]  # (pixel, event name, outcome) → n

_SETTLED_SQL = (
    "SELECT pixel_id, event_name, status, count(*) FROM events "
    "WHERE status IN ('delivered', 'failed') AND id IN"
)
_UPSERT_HEAD = "INSERT INTO event_counters (pixel_id, event_name, outcome, count)"
_UPSERT_TAIL = (
    "ON CONFLICT (pixel_id, event_name, outcome) "
    "DO UPDATE SET count = event_counters.count + excluded.count"
)


def count_outcomes(conn: Connection, counts: OutcomeCounts) -> None:
    """Add `counts` to the counters (negative numbers take back)."""
    # Sorted: concurrent PostgreSQL transactions lock counter rows in one order, no deadlock.
    rows = [(p, n, o, c) for (p, n, o), c in sorted(counts.items()) if c]
    if rows:
        bulk.run_values(conn, _UPSERT_HEAD, rows, _UPSERT_TAIL)


def count_settled(conn: Connection, pks: Sequence[int]) -> None:
    """Count the events among `pks` that are now delivered or failed; call it in the
    transaction that settled them, after the updates."""
    counts: Counter[tuple[str, str, str]] = Counter()
    ph = bulk.placeholder(conn)
    for start in range(0, len(pks), 900):
        chunk = bulk.padded(pks[start : start + 900])
        sql = bulk.in_list_sql(
            ph, _SETTLED_SQL, len(chunk), "GROUP BY pixel_id, event_name, status"
        )
        for pixel, name, status, n in bulk.raw_query(conn, sql, chunk):
            counts[(pixel, name, status)] += int(n)
    count_outcomes(conn, counts)
