"""Accepted events: notes on odd data, test events kept apart, 48 h deduplication, recording."""

from __future__ import annotations

import httpx
from tests.emulator.emulator_support import (
    PIXEL,
    TOKEN,
    FakeClock,
    call,
    set_path,
    sha256,
    track_body,
    web_event,
)

from tiktok_ads.emulator import EmulatorConfig, EmulatorState, create_app

HOUR = 3600


async def test_accepted_event_is_stored_as_sent(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """The stored event keeps pixel, name, id, the raw dict and no notes when all is hashed."""
    event = web_event()
    await call(client, "event/track/", track_body(event))
    [stored] = state.events
    assert (PIXEL, "CompletePayment", "order-1") == (
        stored.pixel_code,
        stored.event,
        stored.event_id,
    )
    assert event == stored.raw
    assert (None, False, []) == (stored.test_event_code, stored.deduplicated, stored.notes)


async def test_plaintext_identifiers_are_accepted_but_noted(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Plaintext email/phone/external_id: code 0, with a note per field."""
    event = web_event(
        user={"email": "alice@example.com", "phone": ["+12133734253"], "external_id": sha256("u")}
    )
    assert 0 == (await call(client, "event/track/", track_body(event)))["code"]
    assert [
        "user.email looks like plaintext, not a SHA-256 hex",
        "user.phone.0 looks like plaintext, not a SHA-256 hex",
    ] == state.events[0].notes


async def test_value_without_currency_is_noted(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A value with no currency is accepted and noted."""
    event = set_path(web_event(), "properties.currency", None)
    await call(client, "event/track/", track_body(event))
    assert ["properties.value is set without properties.currency"] == state.events[0].notes


async def test_stale_and_future_event_times_are_noted(
    client: httpx.AsyncClient, state: EmulatorState, clock: FakeClock
) -> None:
    """Events older than 28 days or from the future are accepted with a note."""
    old = web_event(event_id="old", event_time=int(clock()) - 29 * 86_400)
    future = web_event(event_id="future", event_time=int(clock()) + 3600)
    await call(client, "event/track/", track_body(old, future))
    assert [
        ["event_time is more than 28 days old; TikTok will not attribute it"],
        ["event_time is in the future"],
    ] == [event.notes for event in state.events]


async def test_test_events_are_kept_apart(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """test_event_code marks the events; they are not counted as conversions."""
    await call(client, "event/track/", track_body(test_event_code="TEST04030"))
    await call(client, "event/track/", track_body(web_event(event_id="real")))
    assert ["TEST04030", None] == [event.test_event_code for event in state.events]
    assert 1 == state.event_count()
    assert 2 == state.event_count(include_test=True)
    assert ["real"] == [e.event_id for e in state.delivered_events(include_test=False)]
    assert ["order-1", "real"] == [e.event_id for e in state.delivered_events()]


async def test_repeat_within_48_hours_is_deduplicated(
    client: httpx.AsyncClient, state: EmulatorState, clock: FakeClock
) -> None:
    """Same pixel, event name and event_id within 48 h: code 0, recorded as a duplicate."""
    await call(client, "event/track/", track_body())
    clock.advance(48 * HOUR - 1)
    repeat = await call(client, "event/track/", track_body())
    assert 0 == repeat["code"]
    assert [False, True] == [event.deduplicated for event in state.events]
    assert 1 == state.event_count()
    assert 2 == state.event_count(include_duplicates=True)
    assert 1 == len(state.delivered_events())


async def test_repeat_after_48_hours_counts_again(
    client: httpx.AsyncClient, state: EmulatorState, clock: FakeClock
) -> None:
    """48 h after the first, the same key is a new conversion."""
    await call(client, "event/track/", track_body())
    clock.advance(48 * HOUR)
    await call(client, "event/track/", track_body())
    assert [False, False] == [event.deduplicated for event in state.events]
    assert 2 == state.event_count()


async def test_dedup_window_runs_from_the_first_event(
    client: httpx.AsyncClient, state: EmulatorState, clock: FakeClock
) -> None:
    """A duplicate at 47 h does not extend the window: at 48 h the key counts again."""
    await call(client, "event/track/", track_body())
    clock.advance(47 * HOUR)
    await call(client, "event/track/", track_body())
    clock.advance(1 * HOUR)
    await call(client, "event/track/", track_body())
    assert [False, True, False] == [event.deduplicated for event in state.events]


async def test_dedup_key_is_pixel_event_name_and_event_id(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Another event name, event_id or pixel is not a duplicate."""
    await call(client, "event/track/", track_body())
    await call(client, "event/track/", track_body(web_event(event="Purchase")))
    await call(client, "event/track/", track_body(web_event(event_id="order-2")))
    await call(client, "event/track/", track_body(event_source_id="OTHERPIXEL"))
    assert [False, False, False, False] == [event.deduplicated for event in state.events]


async def test_duplicates_inside_one_batch_are_caught(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """The second copy in the same request is the duplicate."""
    await call(client, "event/track/", track_body(web_event(), web_event()))
    assert [False, True] == [event.deduplicated for event in state.events]


async def test_events_without_event_id_are_never_deduplicated(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """No event_id, no dedup key."""
    event = web_event(event_id=None)
    await call(client, "event/track/", track_body(event, event))
    assert [False, False] == [e.deduplicated for e in state.events]


async def test_test_events_do_not_hide_real_ones(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A test event and a real one with the same key are both kept."""
    await call(client, "event/track/", track_body(test_event_code="TEST1"))
    await call(client, "event/track/", track_body())
    assert [False, False] == [event.deduplicated for event in state.events]
    assert 1 == state.event_count()


async def test_without_storing_events_counters_and_dedup_still_work(clock: FakeClock) -> None:
    """store_events=False keeps no events or bodies but still counts and deduplicates."""
    state = EmulatorState(EmulatorConfig(store_events=False), clock=clock)
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Access-Token": TOKEN}
    ) as http:
        await call(
            http, "event/track/", track_body(web_event(event_id="a"), web_event(event_id="b"))
        )
        await call(http, "event/track/", track_body(web_event(event_id="a")))
    assert ([], 2, 3) == (
        state.events,
        state.event_count(),
        state.event_count(include_duplicates=True),
    )
    assert [None, None] == [request.json for request in state.requests]


async def test_requests_are_recorded_without_the_token(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """The log keeps path, body, code and request id; the token only as a mask."""
    body = track_body()
    envelope = await call(client, "event/track/", body)
    [recorded] = state.requests
    assert ("POST", "/open_api/v1.3/event/track", body) == (
        recorded.method,
        recorded.path,
        recorded.json,
    )
    assert (200, 0, envelope["request_id"]) == (
        recorded.http_status,
        recorded.code,
        recorded.request_id,
    )
    assert (True, "***" + TOKEN[-4:]) == (recorded.token_present, recorded.token_mask)
    assert "access-token" not in recorded.headers
    assert TOKEN not in str(recorded.as_dict())
    assert envelope["request_id"] == state.events[0].request_id


async def test_reset_forgets_everything(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """reset() empties events, requests and dedup keys."""
    await call(client, "event/track/", track_body())
    state.reset()
    await call(client, "event/track/", track_body())
    assert ([False], 1, 1) == (
        [event.deduplicated for event in state.events],
        len(state.requests),
        state.event_count(),
    )
