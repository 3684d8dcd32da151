"""The service on PostgreSQL: the same code path, and several workers sharing one queue."""

from __future__ import annotations

import pytest
from tests.service.conftest import PIXEL, SEED_EVENT, ServiceFactory

pytestmark = pytest.mark.postgres


async def test_events_are_delivered_on_postgres(make_service: ServiceFactory, pg_url: str) -> None:
    """POST /events on PostgreSQL: queued, delivered, duplicates caught."""
    service = await make_service(db_url=pg_url)
    assert 202 == (await service.post("/events", SEED_EVENT)).status_code
    assert "duplicate" == (await service.post("/events", SEED_EVENT)).json()["status"]
    await service.settle()
    assert "delivered" == (await service.get("/events/order_123")).json()["status"]


async def test_three_workers_share_one_queue_without_double_sends(
    make_service: ServiceFactory, pg_url: str
) -> None:
    """Three services on one database deliver 3,000 events, each exactly once."""
    first = await make_service(db_url=pg_url, tiktok_batch_size=100)
    others = [
        await make_service(db_url=pg_url, emulator=first.emulator_app, tiktok_batch_size=100)
        for _ in range(2)
    ]
    for chunk in range(3):
        events = [
            {
                "event_type": "ViewContent",
                "event_id": f"e{chunk}-{i}",
                "context": {"page_url": "https://shop.example/e"},
            }
            for i in range(1000)
        ]
        target = [first, *others][chunk]
        assert 1000 == (await target.post("/events/batch", {"events": events})).json()["accepted"]
    await first.settle(within=30)
    received = first.tiktok.delivered_events(pixel_code=PIXEL)
    assert 3000 == len(received)
    assert 3000 == len({e.event_id for e in received})
    assert not any(e.deduplicated for e in first.tiktok.events)
