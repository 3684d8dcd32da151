"""Delivery against TikTok's failures: retries, bisection, held connections, caps."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.service.conftest import PIXEL, SEED_EVENT, Service, ServiceFactory

from tiktok_ads.adapters.clock import FrozenClock

NEW_TOKEN = "fedcba9876543210fedcba9876543210fedcba98"
# Pinned by hand: the test never feeds the code's own reset time back to it.
EVENING = dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC).timestamp()
MIDNIGHT = dt.datetime(2026, 11, 27, tzinfo=dt.UTC).timestamp()


async def until(
    service: Service, condition: Callable[[dict[str, Any]], bool], within: float = 10.0
) -> None:
    """Until /stats satisfies `condition` (the dispatcher works meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        stats = (await service.get("/stats")).json()
        if condition(stats):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met; stats: {stats}")


def view_events(n: int, prefix: str = "v", name: str = "ViewContent") -> list[dict[str, object]]:
    return [
        {
            "event_type": name,
            "event_id": f"{prefix}{i}",
            "context": {"page_url": "https://shop.example/e"},
        }
        for i in range(n)
    ]


async def test_gateway_errors_and_rate_limits_are_retried_with_the_same_event_id(
    service: Service,
) -> None:
    """503 (HTML), 500, 40100 and 50000 in a row: retried until delivered, same event_id."""
    for kind in ("http_503", "http_500", "code_40100", "code_50000"):
        service.tiktok.faults.add(kind, count=1)
    await service.post("/events", SEED_EVENT)
    await service.settle()
    view = (await service.get("/events/order_123")).json()
    assert ("delivered", 5) == (view["status"], view["attempts"])
    assert ["order_123"] == [e.event_id for e in service.tiktok.delivered_events()]
    verdicts = [d["verdict"] for d in (await service.get("/deliveries")).json()["deliveries"]]
    assert ["delivered", "retry", "retry", "retry", "retry"] == verdicts


async def test_one_bad_event_in_1000_fails_alone(service: Service) -> None:
    """TikTok rejects the whole batch for one event; only that event fails (index named)."""
    service.tiktok.faults.reject_events({"event_id": "v777"}, name_index=True)
    response = await service.post("/events/batch", {"events": view_events(1000)})
    assert 1000 == response.json()["accepted"]
    await service.settle(within=30)
    stats = (await service.get("/stats")).json()["by_status"]
    assert {"delivered": 999, "failed": 1} == stats
    failed = (await service.get("/events/v777")).json()
    assert (40002, "failed") == (failed["tiktok"]["code"], failed["status"])
    assert 999 == len({e.event_id for e in service.tiktok.delivered_events()})


async def test_bisection_isolates_bad_events_when_tiktok_names_no_index(service: Service) -> None:
    """Without an index in the message, halves are resent until the bad events stand alone."""
    service.tiktok.faults.reject_events({"event_id": "v3"}, name_index=False)
    service.tiktok.faults.reject_events({"event_id": "v60"}, name_index=False)
    await service.post("/events/batch", {"events": view_events(64)})
    await service.settle(within=30)
    stats = (await service.get("/stats")).json()["by_status"]
    assert {"delivered": 62, "failed": 2} == stats


async def test_revoked_token_holds_the_queue_until_connect_replaces_it(service: Service) -> None:
    """40105 marks the connection unhealthy and keeps the events; a new token delivers them."""
    service.tiktok.config.revoked_tokens.add(service.container.settings.tiktok_access_token)
    await service.post("/events", SEED_EVENT)
    for _ in range(200):
        connection = (await service.get("/connection")).json()
        if not connection["healthy"]:
            break
        await asyncio.sleep(0.02)
    assert (False, 40105) == (connection["connected"], connection["health"]["code"])
    assert "queued" == (await service.get("/events/order_123")).json()["status"]
    assert (
        200
        == (
            await service.post("/connect", {"pixel_id": PIXEL, "access_token": NEW_TOKEN})
        ).status_code
    )
    await service.settle()
    assert "delivered" == (await service.get("/events/order_123")).json()["status"]
    assert (await service.get("/connection")).json()["connected"]


async def test_daily_cap_sends_purchases_first_and_the_rest_after_utc_midnight(
    make_service: ServiceFactory,
) -> None:
    """Cap 100, 150 page views and 30 purchases waiting: today all 30 purchases and 70 page
    views go; the other 80 page views wait, shown per pixel, and go after UTC midnight."""
    clock = FrozenClock(EVENING)
    service = await make_service(clock=clock, tiktok_daily_event_limit=100, tiktok_batch_size=10)
    events = view_events(150) + view_events(30, prefix="p", name="CompletePayment")
    assert 180 == (await service.post("/events/batch", {"events": events})).json()["accepted"]
    await until(service, lambda stats: {"delivered": 100, "queued": 80} == stats["by_status"])
    sent = service.sent_counts()
    assert {"CompletePayment": 30, "ViewContent": 70} == Counter(
        "CompletePayment" if event_id.startswith("p") else "ViewContent" for event_id in sent
    )
    assert {1} == set(sent.values())
    requests_today = len(service.tiktok.requests)
    assert 0 == await service.container.dispatcher.run_once()  # the cap holds: nothing starts
    assert requests_today == len(service.tiktok.requests)
    connection = (await service.get("/connection")).json()
    expected_quota = {
        "limit": 100,
        "used": 100,
        "remaining": 0,
        "resets_at": "2026-11-27T00:00:00Z",
    }
    assert (expected_quota, 80) == (connection["daily_quota"], connection["held_by_daily_cap"])

    clock.advance(MIDNIGHT + 1 - clock.now())
    service.container.ingest.written.set()  # wake the dispatcher instead of waiting for its poll
    await service.settle()
    sent = service.sent_counts()
    assert ({1}, 180) == (set(sent.values()), len(sent))
    connection = (await service.get("/connection")).json()
    assert (80, 0) == (connection["daily_quota"]["used"], connection["held_by_daily_cap"])


async def test_failed_event_can_be_replayed(service: Service) -> None:
    """A failed event is kept with TikTok's message and goes out again on /retry."""
    service.tiktok.faults.reject_events({"event_id": "order_123"}, name_index=True)
    await service.post("/events", SEED_EVENT)
    await service.settle()
    failed = (await service.get("/events", params={"status": "failed"})).json()["events"]
    assert ["order_123"] == [e["event_id"] for e in failed]
    assert failed[0]["tiktok"]["message"]
    service.tiktok.faults.clear()
    assert 202 == (await service.post("/events/order_123/retry")).status_code
    await service.settle()
    assert "delivered" == (await service.get("/events/order_123")).json()["status"]
