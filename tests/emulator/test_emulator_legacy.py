"""Events API 1.0 (pixel/track, pixel/batch) and pixel/list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.emulator.emulator_support import (
    ADVERTISER,
    PIXEL,
    TOKEN,
    FakeClock,
    call,
    set_path,
    sha256,
    track_body,
)

from tiktok_ads.emulator import EmulatorConfig, EmulatorState, TokenGrant, create_app


def legacy_event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": "CompletePayment",
        "event_id": "order-1",
        "timestamp": "2024-01-15T13:49:00Z",
        "context": {
            "ad": {"callback": "E.C.P.abc"},
            "page": {"url": "https://shop.example/checkout"},
            "user": {
                "external_id": sha256("u1"),
                "email": sha256("a@x.com"),
                "phone_number": sha256("+1"),
            },
            "user_agent": "Mozilla/5.0",
            "ip": "13.57.97.131",
        },
        "properties": {"currency": "EUR", "value": 150.0, "contents": [{"content_id": "t1"}]},
    }
    event.update(fields)
    return event


async def test_pixel_track_accepts_one_event(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """pixel/track stores the event under its pixel_code."""
    body = {"pixel_code": PIXEL, **legacy_event()}
    envelope = await call(client, "pixel/track/", body)
    [stored] = state.events
    assert (0, "OK") == (envelope["code"], envelope["message"])
    assert (PIXEL, "CompletePayment", "order-1", "pixel/track") == (
        stored.pixel_code,
        stored.event,
        stored.event_id,
        stored.endpoint,
    )


async def test_pixel_track_notes_plaintext_context_user(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Plaintext context.user.email is accepted and noted."""
    event = set_path(legacy_event(), "context.user.email", "a@x.com")
    await call(client, "pixel/track/", {"pixel_code": PIXEL, **event})
    assert ["context.user.email looks like plaintext, not a SHA-256 hex"] == state.events[0].notes


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pixel_code", None, "Invalid value for pixel_code: missing data for required field."),
        ("event", 5, "Invalid value for event: not a valid string."),
        ("event_id", 42, "Invalid value for event_id: not a valid string."),
        ("timestamp", "15/01/2024", "Invalid value for timestamp: not a valid ISO-8601 datetime."),
        ("timestamp", 1705326540, "Invalid value for timestamp: not a valid ISO-8601 datetime."),
        ("context", "web", "Invalid value for context: not a valid object."),
        ("context.ad.callback", 5, "Invalid value for context.ad.callback: not a valid string."),
        ("context.page.url", 5, "Invalid value for context.page.url: not a valid string."),
        (
            "context.user.phone_number",
            5,
            "Invalid value for context.user.phone_number: not a valid string or list of strings.",
        ),
        (
            "properties.contents.0.content_id",
            1,
            "Invalid value for properties.contents.0.content_id: not a valid string.",
        ),
    ],
)
async def test_pixel_track_validation(
    client: httpx.AsyncClient, state: EmulatorState, field: str, value: Any, message: str
) -> None:
    """A bad 1.0 field answers 40002 naming it."""
    body = set_path({"pixel_code": PIXEL, **legacy_event()}, field, value)
    envelope = await call(client, "pixel/track/", body)
    assert (40002, message) == (envelope["code"], envelope["message"])
    assert [] == state.events


async def test_pixel_batch_accepts_up_to_fifty(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """pixel/batch takes 50 events; 51 are refused whole."""
    fifty = [legacy_event(event_id=f"e{i}") for i in range(50)]
    assert 0 == (await call(client, "pixel/batch/", {"pixel_code": PIXEL, "batch": fifty}))["code"]
    refused = await call(
        client, "pixel/batch/", {"pixel_code": PIXEL, "batch": [*fifty, legacy_event(event_id="x")]}
    )
    assert (40002, "Invalid value for batch: length must be between 1 and 50.") == (
        refused["code"],
        refused["message"],
    )
    assert 50 == state.event_count()


async def test_pixel_batch_names_the_bad_event(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A bad event in a 1.0 batch is named `batch.<i>` and refuses the batch."""
    batch = [legacy_event(event_id="a"), legacy_event(event_id="b", event=None)]
    envelope = await call(client, "pixel/batch/", {"pixel_code": PIXEL, "batch": batch})
    assert (40002, "Invalid value for batch.1.event: missing data for required field.") == (
        envelope["code"],
        envelope["message"],
    )
    assert [] == state.events


async def test_legacy_and_new_api_share_deduplication(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A 1.0 event and a later 2.0 event with the same key: the second is the duplicate."""
    await call(client, "pixel/track/", {"pixel_code": PIXEL, **legacy_event()})
    await call(client, "event/track/", track_body())
    assert [False, True] == [event.deduplicated for event in state.events]


async def test_legacy_test_events_are_flagged(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """test_event_code on pixel/batch marks the events as test events."""
    body = {"pixel_code": PIXEL, "test_event_code": "TEST1", "batch": [legacy_event()]}
    await call(client, "pixel/batch/", body)
    assert (["TEST1"], 0) == ([e.test_event_code for e in state.events], state.event_count())


async def test_pixel_list_shows_configured_and_used_pixels(clock: FakeClock) -> None:
    """pixel/list lists configured pixels plus pixels seen in traffic, with page_info."""
    state = EmulatorState(EmulatorConfig(pixel_codes={"PIXCONFIGURED"}), clock=clock)
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Access-Token": TOKEN}
    ) as http:
        await call(http, "pixel/track/", {"pixel_code": PIXEL, **legacy_event()})
        envelope = await call(http, "pixel/list/", params={"advertiser_id": ADVERTISER})
    data = envelope["data"]
    assert [(PIXEL, "ACTIVE"), ("PIXCONFIGURED", "INACTIVE")] == [
        (pixel["pixel_code"], pixel["activity_status"]) for pixel in data["pixels"]
    ]
    assert {"page": 1, "page_size": 20, "total_number": 2, "total_page": 1} == data["page_info"]


async def test_pixel_list_shows_only_granted_pixels(clock: FakeClock) -> None:
    """A token limited to some pixels sees exactly those."""
    grant = TokenGrant(pixels={"PIXA", "PIXB"})
    state = EmulatorState(EmulatorConfig(tokens={TOKEN: grant}, pixel_codes={"PIXC"}), clock=clock)
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Access-Token": TOKEN}
    ) as http:
        envelope = await call(http, "pixel/list/", params={"advertiser_id": ADVERTISER})
        one = await call(http, "pixel/list/", params={"advertiser_id": ADVERTISER, "code": "PIXB"})
    assert ["PIXA", "PIXB"] == [pixel["pixel_code"] for pixel in envelope["data"]["pixels"]]
    assert ["PIXB"] == [pixel["pixel_code"] for pixel in one["data"]["pixels"]]


async def test_pixel_list_needs_an_advertiser(client: httpx.AsyncClient) -> None:
    """Without advertiser_id pixel/list answers 40002."""
    envelope = await call(client, "pixel/list/")
    assert (40002, "Invalid value for advertiser_id: missing data for required field.") == (
        envelope["code"],
        envelope["message"],
    )
