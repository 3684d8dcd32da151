"""event/track validation: TikTok's 40002 and its wording, one bad event refuses the batch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.emulator.emulator_support import (
    API,
    DELETE,
    call,
    set_path,
    sha256,
    track_body,
    web_event,
)

from tiktok_ads.emulator import EmulatorState

TOP_LEVEL_CASES = [
    ("event_source", DELETE, "Invalid value for event_source: missing data for required field."),
    (
        "event_source",
        "email",
        "Invalid value for event_source: must be one of: web, app, offline, crm.",
    ),
    (
        "event_source_id",
        DELETE,
        "Invalid value for event_source_id: missing data for required field.",
    ),
    ("event_source_id", 123, "Invalid value for event_source_id: not a valid string."),
    ("event_source_id", "", "Invalid value for event_source_id: must not be empty."),
    ("test_event_code", 4030, "Invalid value for test_event_code: not a valid string."),
    ("data", DELETE, "Invalid value for data: missing data for required field."),
    ("data", {"event": "Purchase"}, "Invalid value for data: not a valid list."),
    ("data", [], "Invalid value for data: length must be between 1 and 1000."),
    ("data.0", "Purchase", "Invalid value for data.0: not a valid object."),
]

EVENT_CASES = [
    ("event", DELETE, "Invalid value for data.0.event: missing data for required field."),
    ("event", 7, "Invalid value for data.0.event: not a valid string."),
    ("event", "", "Invalid value for data.0.event: must not be empty."),
    ("event_time", DELETE, "Invalid value for data.0.event_time: missing data for required field."),
    ("event_time", "1705326540", "Invalid value for data.0.event_time: not a valid integer."),
    ("event_time", 1705326540.0, "Invalid value for data.0.event_time: not a valid integer."),
    ("event_time", True, "Invalid value for data.0.event_time: not a valid integer."),
    (
        "event_time",
        1705326540000,
        "Invalid value for data.0.event_time: 1705326540000 looks like milliseconds; "
        "event_time must be Unix seconds.",
    ),
    (
        "event_time",
        0,
        "Invalid value for data.0.event_time: not a valid Unix timestamp in seconds.",
    ),
    (
        "event_time",
        -5,
        "Invalid value for data.0.event_time: not a valid Unix timestamp in seconds.",
    ),
    ("event_id", 42, "Invalid value for data.0.event_id: not a valid string."),
    ("user", "alice", "Invalid value for data.0.user: not a valid object."),
    (
        "user.email",
        5,
        "Invalid value for data.0.user.email: not a valid string or list of strings.",
    ),
    ("user.phone", [sha256("+1"), 5], "Invalid value for data.0.user.phone.1: not a valid string."),
    ("user.ip", 1357, "Invalid value for data.0.user.ip: not a valid string."),
    ("user.ttp", ["x"], "Invalid value for data.0.user.ttp: not a valid string."),
    ("properties", "cheap", "Invalid value for data.0.properties: not a valid object."),
    (
        "properties.contents",
        {"content_id": "a"},
        "Invalid value for data.0.properties.contents: not a valid list.",
    ),
    (
        "properties.contents.0",
        "ticket",
        "Invalid value for data.0.properties.contents.0: not a valid object.",
    ),
    (
        "properties.contents.0.content_id",
        789,
        "Invalid value for data.0.properties.contents.0.content_id: not a valid string.",
    ),
    (
        "properties.contents.0.price",
        "75.00",
        "Invalid value for data.0.properties.contents.0.price: not a valid number.",
    ),
    (
        "properties.contents.0.price",
        True,
        "Invalid value for data.0.properties.contents.0.price: not a valid number.",
    ),
    (
        "properties.contents.0.quantity",
        2.0,
        "Invalid value for data.0.properties.contents.0.quantity: not a valid integer.",
    ),
    (
        "properties.contents.0.quantity",
        "2",
        "Invalid value for data.0.properties.contents.0.quantity: not a valid integer.",
    ),
    (
        "properties.contents.0.content_name",
        5,
        "Invalid value for data.0.properties.contents.0.content_name: not a valid string.",
    ),
    (
        "properties.value",
        "150.00",
        "Invalid value for data.0.properties.value: not a valid number.",
    ),
    (
        "properties.currency",
        "eur",
        "Invalid value for data.0.properties.currency: not a supported currency code.",
    ),
    (
        "properties.currency",
        "XYZ",
        "Invalid value for data.0.properties.currency: not a supported currency code.",
    ),
    (
        "properties.currency",
        ["EUR"],
        "Invalid value for data.0.properties.currency: not a supported currency code.",
    ),
    (
        "properties.content_type",
        "ticket",
        "Invalid value for data.0.properties.content_type: must be one of: product, product_group.",
    ),
    (
        "properties.order_id",
        123,
        "Invalid value for data.0.properties.order_id: not a valid string.",
    ),
    ("page", "https://shop.example", "Invalid value for data.0.page: not a valid object."),
    ("page.url", DELETE, "Invalid value for data.0.page.url: missing data for required field."),
    ("page.url", 5, "Invalid value for data.0.page.url: not a valid string."),
    ("limited_data_use", "yes", "Invalid value for data.0.limited_data_use: not a valid boolean."),
]


async def _refusal(client: httpx.AsyncClient, body: Any) -> tuple[int, str]:
    envelope = await call(client, "event/track/", body)
    return envelope["code"], envelope["message"]


@pytest.mark.parametrize(("field", "value", "message"), TOP_LEVEL_CASES)
async def test_top_level_fields_are_checked_with_tiktoks_wording(
    client: httpx.AsyncClient, state: EmulatorState, field: str, value: Any, message: str
) -> None:
    """A bad top-level field answers HTTP 200, code 40002, naming the field."""
    body = set_path(track_body(), field, value)
    assert (40002, message) == await _refusal(client, body)
    assert [] == state.events


@pytest.mark.parametrize(("field", "value", "message"), EVENT_CASES)
async def test_event_fields_are_checked_with_tiktoks_wording(
    client: httpx.AsyncClient, state: EmulatorState, field: str, value: Any, message: str
) -> None:
    """A bad event field answers 40002 naming `data.<i>.<field>`, and nothing is kept."""
    body = track_body(set_path(web_event(), field, value))
    assert (40002, message) == await _refusal(client, body)
    assert [] == state.events


async def test_more_than_a_thousand_events_refuse_the_whole_request(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """1,001 events are refused whole; 1,000 are accepted."""
    too_many = track_body(*[web_event(event_id=f"e{i}") for i in range(1001)])
    assert (40002, "Invalid value for data: length must be between 1 and 1000.") == await _refusal(
        client, too_many
    )
    assert 0 == state.event_count()
    just_enough = track_body(*[web_event(event_id=f"e{i}") for i in range(1000)])
    assert (0, "OK") == await _refusal(client, just_enough)
    assert 1000 == state.event_count()


async def test_one_bad_event_refuses_the_whole_batch_and_names_its_index(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """The third event's numeric content_id refuses all three; the message names data.2."""
    bad = set_path(web_event(event_id="c"), "properties.contents.0.content_id", 789)
    body = track_body(web_event(event_id="a"), web_event(event_id="b"), bad)
    expected = "Invalid value for data.2.properties.contents.0.content_id: not a valid string."
    assert (40002, expected) == await _refusal(client, body)
    assert [] == state.events


async def test_unparsable_and_non_object_bodies_are_refused(client: httpx.AsyncClient) -> None:
    """Broken JSON and a JSON array both answer 40002."""
    url = f"{API}/event/track/"
    broken = (await client.post(url, content=b"{not json")).json()
    array = (await client.post(url, json=[web_event()])).json()
    assert (40002, "Invalid request body: not valid JSON.") == (broken["code"], broken["message"])
    assert (40002, "Invalid request body: expected a JSON object.") == (
        array["code"],
        array["message"],
    )


async def test_page_is_optional_outside_web(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """App, offline and CRM events need no `page`."""
    for source in ("app", "offline", "crm"):
        body = track_body(set_path(web_event(), "page", DELETE), event_source=source)
        assert (0, "OK") == await _refusal(client, body)
    assert ["app", "offline", "crm"] == [event.event_source for event in state.events]


async def test_identifiers_may_be_arrays_of_hashes(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """user.email and user.phone accept arrays of strings."""
    event = set_path(web_event(), "user.email", [sha256("a@x.com"), sha256("b@x.com")])
    assert (0, "OK") == await _refusal(client, track_body(event))
    assert [] == state.events[0].notes


async def test_null_optional_fields_count_as_absent(client: httpx.AsyncClient) -> None:
    """JSON null in an optional field (event_id, user.ip, currency) is not an error."""
    event = set_path(
        set_path(web_event(event_id=None), "user.ip", None), "properties.currency", None
    )
    assert (0, "OK") == await _refusal(client, track_body(event))


@pytest.mark.parametrize("currency", ["AED", "EUR", "USD", "JPY", "VES", "ZAR", "PHP"])
async def test_supported_currencies_are_accepted(client: httpx.AsyncClient, currency: str) -> None:
    """Currencies from TikTok's list pass."""
    event = set_path(web_event(), "properties.currency", currency)
    assert (0, "OK") == await _refusal(client, track_body(event))
