"""Multi-row statements come in few shapes, whatever the size of a group commit or a settle.

SQLite compiles each statement it has not seen and keeps the last 128 per connection, the big
ones ~0.75 MB each: a statement per group size cost a fresh compilation almost every commit
and filled the server's memory (adapters/store/bulk.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from tests.service.test_store import NOW, PIXEL, connect, new_event

from tiktok_ads.adapters.store import SqlStore, bulk
from tiktok_ads.adapters.store.schema import click_ids, events
from tiktok_ads.domain.delivery import Outcome

ALLOWED_ROWS = set(bulk.STATEMENT_ROWS) | set(range(1, 32))


@given(st.integers(min_value=0, max_value=20_000))
def test_row_counts_cover_every_row_in_allowed_sizes(rows: int) -> None:
    counts = bulk.row_counts(rows)
    assert rows == sum(counts)
    assert set(counts) <= ALLOWED_ROWS
    assert counts == sorted(counts, reverse=True)  # the big statements first
    # At most one statement of each size below the largest.
    assert all(n == 1 for size, n in Counter(counts).items() if size != 500)


@given(st.lists(st.integers(), min_size=1, max_size=bulk.IN_LIST_MOST))
def test_padded_lists_keep_their_values_and_come_in_few_sizes(values: list[int]) -> None:
    out = bulk.padded(values)
    assert set(values) == set(out)
    assert values == out[: len(values)]
    assert len(out) <= 32 or len(out) in {64, 128, 256, 512, bulk.IN_LIST_MOST}
    assert len(out) < 2 * len(values) or len(values) <= 32


@pytest.fixture
def shapes(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, int]]:
    """Every (statement head, rows) that bulk builds, counted; the real builder still runs."""
    seen: Counter[tuple[str, int]] = Counter()
    real = bulk.values_sql

    def recording(placeholder: str, head: str, columns: int, rows: int, tail: str) -> str:
        seen[(head.split("(")[0].strip(), rows)] += 1
        return real(placeholder, head, columns, rows, tail)

    monkeypatch.setattr(bulk, "values_sql", recording)
    return seen


async def test_group_commits_of_any_size_store_every_event_in_few_shapes(
    store: SqlStore, shapes: Counter[tuple[str, int]]
) -> None:
    """Groups of 37 different sizes: each event stored under the id it was given back (ids are
    matched to rows across several statements), its click id remembered, and no statement with
    a row count outside bulk's sizes."""
    await connect(store)
    sizes = list(range(33, 1400, 37))
    serial = 0
    given_back: dict[str, int] = {}
    for size in sizes:
        group = []
        for _ in range(size):
            serial += 1
            group.append(
                new_event(
                    f"e{serial}",
                    identity_hashes=(f"h{serial}",),
                    has_ttclid=True,
                    payload={"event": "ViewContent", "user": {"ttclid": f"E.C.P.{serial}"}},
                )
            )
        # A repeat inside the group: the rows after it must still get their own ids.
        group.insert(size // 2, new_event(group[0].event_id))
        outcomes = await store.add_events(group, NOW, 86400)
        assert 1 == sum(o.status == "duplicate" for o in outcomes)
        for event, outcome in zip(group, outcomes, strict=True):
            if outcome.status != "duplicate":
                assert outcome.pk is not None
                given_back[event.event_id] = outcome.pk

    def stored() -> tuple[dict[str, int], int]:
        with store.write_engine.connect() as conn:
            rows = conn.execute(select(events.c.event_id, events.c.id)).all()
            remembered = conn.execute(select(click_ids.c.identity_hash)).all()
        return {event_id: pk for event_id, pk in rows}, len(remembered)

    by_event_id, remembered = await asyncio.to_thread(stored)
    assert serial == len(by_event_id) == len(given_back) == remembered
    assert given_back == by_event_id
    assert {rows for _, rows in shapes} <= ALLOWED_ROWS
    inserts_of_events = {rows for head, rows in shapes if head == "INSERT INTO events"}
    assert 500 in inserts_of_events
    # 37 group sizes, yet only the sizes bulk allows: 5 big ones and the rest under 32.
    assert len(inserts_of_events) <= 5 + 31


async def test_settling_batches_of_any_size_updates_exactly_their_events(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IN lists are padded with repeats of their last id: a settle of 33..999 events changes
    those events and no other, counts each once, and its lists come in bulk's sizes only."""
    lists: list[int] = []
    real = bulk.in_list_sql

    def recording(placeholder: str, head: str, count: int, tail: str = "") -> str:
        lists.append(count)
        return real(placeholder, head, count, tail)

    monkeypatch.setattr(bulk, "in_list_sql", recording)
    await connect(store)
    total = 0
    for size in (33, 65, 300, 513, 999):
        await store.add_events([new_event(f"s{size}-{i}") for i in range(size)], NOW, 86400)
        total += size
    delivered: set[int] = set()
    for size in (33, 65, 300, 513, 999):
        claimed = await store.claim_batch(PIXEL, size, NOW, NOW + 60, False)
        assert size == len(claimed)
        await store.settle(Outcome(NOW, 0, "OK", delivered=tuple(c.pk for c in claimed)))
        delivered.update(c.pk for c in claimed)

        def statuses() -> dict[int, str]:
            with store.write_engine.connect() as conn:
                return dict(conn.execute(select(events.c.id, events.c.status)).all())

        by_pk = await asyncio.to_thread(statuses)
        assert delivered == {pk for pk, status in by_pk.items() if status == "delivered"}
        stats = await store.stats()
        assert len(delivered) == stats["by_status"]["delivered"]
    assert total == len(delivered)
    assert lists and all(n <= 32 or n in {64, 128, 256, 512, bulk.IN_LIST_MOST} for n in lists)
    assert {1024, 128} <= set(lists)  # 999 ids: 900 and 99, padded
