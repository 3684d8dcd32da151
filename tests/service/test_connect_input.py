"""POST /connect refuses values that could never travel to TikTok, naming the field."""

from __future__ import annotations

import pytest
from tests.service.conftest import PIXEL, SEED_EVENT, TOKEN, Service


@pytest.mark.parametrize(
    "token",
    [
        "0123456789abcdef\n0123456789abcdef",
        "0123456789abcdef\x00",
        "tök\u00e9n-0123456789abcdef",
        "0123456789abcdef 0123456789abcdef",
        "a" * 513,
    ],
    ids=["newline", "nul", "non-ascii", "space", "too-long"],
)
async def test_connect_refuses_token_that_cannot_be_a_header(service: Service, token: str) -> None:
    """A token with a newline, control or non-ASCII character, space, or too long: 422."""
    response = await service.post("/connect", {"pixel_id": PIXEL, "access_token": token})
    assert (422, ["access_token"]) == (
        response.status_code,
        [e["field"] for e in response.json()["errors"]],
    )
    # The working token stays in place: events still reach TikTok.
    assert 202 == (await service.post("/events", SEED_EVENT)).status_code
    await service.settle()
    assert 1 == len(service.tiktok.delivered_events())


@pytest.mark.parametrize("field", ["advertiser_id", "test_event_code"])
@pytest.mark.parametrize(
    "value", ["12\n34", "12\x0734", "1" * 65], ids=["newline", "bell", "too-long"]
)
async def test_connect_refuses_control_characters_naming_the_field(
    service: Service, field: str, value: str
) -> None:
    """advertiser_id / test_event_code with control characters or too long: 422 naming it."""
    body = {"pixel_id": PIXEL, "access_token": TOKEN, field: value}
    response = await service.post("/connect", body)
    assert (422, [field]) == (
        response.status_code,
        [e["field"] for e in response.json()["errors"]],
    )


async def test_connect_accepts_a_real_looking_token(service: Service) -> None:
    """A 40-character hex token with an advertiser id and test code is accepted."""
    body = {
        "pixel_id": PIXEL,
        "access_token": TOKEN,
        "advertiser_id": "7012345678901234567",
        "test_event_code": "TEST12345",
    }
    response = await service.post("/connect", body)
    assert (200, "7012345678901234567") == (
        response.status_code,
        response.json()["advertiser_id"],
    )
