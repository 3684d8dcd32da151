"""No failure loops a batch: broken connections hold with the reason, local errors back off
and fail at TikTok's 48 h deadline, lost claims respect it too."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
from tests.service.conftest import PIXEL, SEED_EVENT, Service, ServiceFactory

from tiktok_ads.adapters.clock import FrozenClock
from tiktok_ads.adapters.crypto import TokenCipher
from tiktok_ads.domain.retry import RetryPolicy

OTHER = "CPIXELBROKEN00000001"
START = dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC).timestamp()
DEADLINE = START + 48 * 3600  # TikTok deduplicates for 48 h after we accepted the event
PAGE = {"page_url": "https://shop.example/e"}


async def add_connection(service: Service, token_enc: bytes) -> None:
    """Straight into the store, as a token stored before /connect validated tokens would be."""
    await service.container.store.upsert_connection(
        pixel_id=OTHER,
        access_token_enc=token_enc,
        advertiser_id=None,
        test_mode=False,
        test_event_code=None,
        is_default=False,
        now=service.container.clock.now(),
    )


async def held_connection(service: Service, pixel: str) -> dict[str, Any]:
    """/connection of `pixel` once the dispatcher has marked it unhealthy."""
    for _ in range(250):
        connection: dict[str, Any] = (await service.get(f"/connection?pixel_id={pixel}")).json()
        if not connection["healthy"]:
            return connection
        await asyncio.sleep(0.02)
    raise AssertionError(f"{pixel} was never held: {connection}")


async def event_view(service: Service, event_id: str) -> dict[str, Any]:
    view: dict[str, Any] = (await service.get(f"/events/{event_id}")).json()
    return view


async def test_token_with_a_line_break_holds_the_pixel_with_the_reason(service: Service) -> None:
    """A token no HTTP header can carry holds the queue, says why, and sends nothing."""
    await add_connection(service, TokenCipher("test-secret").encrypt("0123abcd\n4567ef"))
    await service.post("/events", {**SEED_EVENT, "pixel_id": OTHER})
    connection = await held_connection(service, OTHER)
    assert "line break" in connection["health"]["message"]
    assert "0123abcd" not in str(connection)
    view = await event_view(service, "order_123")
    assert ("queued", 0) == (view["status"], view["attempts"])
    assert "line break" in view["last_error"]
    assert 0 == await service.container.dispatcher.run_once()  # held: no new claim, no loop
    assert [] == [r for r in service.tiktok.requests if r.path.endswith("event/track")]


async def test_token_that_cannot_be_decrypted_holds_the_pixel_with_the_reason(
    service: Service,
) -> None:
    """A token sealed with another secret holds the queue instead of failing every lease."""
    await add_connection(service, TokenCipher("another-secret").encrypt("0123456789abcdef"))
    await service.post("/events", {**SEED_EVENT, "pixel_id": OTHER})
    connection = await held_connection(service, OTHER)
    assert "cannot be decrypted" in connection["health"]["message"]
    assert "queued" == (await event_view(service, "order_123"))["status"]


def raising_transport(calls: list[int]) -> httpx.MockTransport:
    """A TikTok client transport failing inside the client, the way a library bug would."""

    def handler(_: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise RuntimeError("surprise")

    return httpx.MockTransport(handler)


async def test_unexpected_error_while_sending_backs_off_then_fails_at_the_deadline(
    make_service: ServiceFactory,
) -> None:
    """An exception in the client retries with growing delays, then fails at 48 h."""
    clock, calls = FrozenClock(START), []
    service = await make_service(
        clock=clock,
        transport=raising_transport(calls),
        policy=RetryPolicy(),
        run_dispatcher=False,
    )
    dispatcher = service.container.dispatcher
    await service.post("/events", SEED_EVENT)
    delays = []
    for _ in range(2):
        assert 1 == await dispatcher.run_once()
        await dispatcher.wait_idle()
        view = await event_view(service, "order_123")
        assert "retrying" == view["status"]
        assert "local error while sending: RuntimeError" == view["last_error"]
        delays.append(view["next_attempt_at"] - clock.now())
        clock.advance(view["next_attempt_at"] - clock.now())
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0  # base 1 s, doubling, jittered
    clock.advance(DEADLINE - 0.25 - clock.now())  # the next try would land past the deadline
    assert 1 == await dispatcher.run_once()
    await dispatcher.wait_idle()
    view = await event_view(service, "order_123")
    assert ("failed", 3, 3) == (view["status"], view["attempts"], len(calls))
    assert view["last_error"].startswith("gave up: TikTok's 48 h deduplication window")
    assert (await service.get("/connection")).json()["healthy"]


async def test_tiktok_errors_are_retried_until_the_deadline_then_failed(
    make_service: ServiceFactory,
) -> None:
    """50000 on every try: retried at each backoff time until 48 h, then failed, never after."""
    clock = FrozenClock(START)
    service = await make_service(
        clock=clock,
        policy=RetryPolicy(base_seconds=600, cap_seconds=3600),
        run_dispatcher=False,
    )
    service.tiktok.faults.add("code_50000", count=None)
    dispatcher = service.container.dispatcher
    await service.post("/events", SEED_EVENT)
    tries = 0
    view = await event_view(service, "order_123")
    while view["status"] != "failed":
        assert ("retrying" if tries else "queued") == view["status"]
        assert clock.now() < DEADLINE
        if tries:
            clock.advance(view["next_attempt_at"] - clock.now())
        assert 1 == await dispatcher.run_once()
        await dispatcher.wait_idle()
        tries += 1
        view = await event_view(service, "order_123")
    assert tries == service.sent_counts()["order_123"] == view["attempts"]
    assert DEADLINE - 3600 <= clock.now() < DEADLINE  # the last try came within the last hour
    assert (50000, "failed") == (view["tiktok"]["code"], view["status"])
    assert 0 == await dispatcher.run_once()


async def test_lost_claims_go_back_inside_the_window_and_fail_past_it(
    make_service: ServiceFactory,
) -> None:
    """A dead worker's claim is sent again within 48 h; past the deadline it fails, clearly."""
    clock = FrozenClock(START)
    service = await make_service(clock=clock, run_dispatcher=False)
    store = service.container.store
    await service.post("/events", {**SEED_EVENT, "event_id": "early"})
    claimed = await store.claim_batch(PIXEL, 10, START, START + 120, False)
    assert ["early"] == [e.event_id for e in claimed]  # then its worker dies
    clock.advance(47 * 3600)
    await service.post("/events", {**SEED_EVENT, "event_id": "late"})
    claimed = await store.claim_batch(PIXEL, 10, clock.now(), clock.now() + 120, False)
    assert ["late"] == [e.event_id for e in claimed]
    clock.advance(DEADLINE + 1 - clock.now())  # both leases expired; only `late` is in time
    await service.container.periodic.run_now("release-expired-leases")
    early_view, late_view = await event_view(service, "early"), await event_view(service, "late")
    assert ("failed", "retrying") == (early_view["status"], late_view["status"])
    assert "48 h deduplication window had ended" in early_view["last_error"]
