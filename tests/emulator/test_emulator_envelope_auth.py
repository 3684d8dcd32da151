"""TikTok's envelope, request ids, paths with and without the trailing slash, and token checks."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from tests.emulator.emulator_support import (
    ADVERTISER,
    API,
    PIXEL,
    TOKEN,
    FakeClock,
    call,
    track_body,
)

from tiktok_ads.emulator import EmulatorConfig, EmulatorState, TokenGrant, create_app

REQUEST_ID = re.compile(r"\d{14}[0-9A-F]{20}")
OTHER_TOKEN = "f" * 40


async def _track(
    app_state: EmulatorState, token: str | None, pixel: str = PIXEL
) -> dict[str, object]:
    headers = {} if token is None else {"Access-Token": token}
    transport = httpx.ASGITransport(app=create_app(state=app_state))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post(
            f"{API}/event/track/", json=track_body(event_source_id=pixel), headers=headers
        )
    assert 200 == response.status_code
    envelope: dict[str, object] = response.json()
    return envelope


async def test_success_is_tiktoks_envelope(client: httpx.AsyncClient) -> None:
    """Success: HTTP 200, code 0, message OK, empty data, a 34-char request_id."""
    response = await client.post(f"{API}/event/track/", json=track_body())
    body = response.json()
    assert 200 == response.status_code
    assert "application/json" == response.headers["content-type"]
    assert ["code", "message", "request_id", "data"] == list(body)
    assert (0, "OK", {}) == (body["code"], body["message"], body["data"])
    assert REQUEST_ID.fullmatch(body["request_id"])


async def test_request_id_starts_with_the_utc_time_of_the_clock(client: httpx.AsyncClient) -> None:
    """The request id's 14 leading digits are the (injected) clock's UTC time."""
    body = await call(client, "event/track/", track_body())
    assert "20240115135000" == body["request_id"][:14]


async def test_trailing_slash_is_optional(client: httpx.AsyncClient) -> None:
    """`event/track/` and `event/track` reach the same endpoint, no redirect."""
    with_slash = await client.post(f"{API}/event/track/", json=track_body())
    without = await client.post(f"{API}/event/track", json=track_body())
    assert (200, 0) == (with_slash.status_code, with_slash.json()["code"])
    assert (200, 0) == (without.status_code, without.json()["code"])


async def test_missing_token_is_40104(state: EmulatorState) -> None:
    """No Access-Token header: code 40104, nothing stored."""
    envelope = await _track(state, None)
    assert 40104 == envelope["code"]
    assert str(envelope["message"]).startswith("Access token is null")
    assert [] == state.events


async def test_empty_token_is_40104(state: EmulatorState) -> None:
    """An empty Access-Token is the same as none."""
    assert 40104 == (await _track(state, ""))["code"]


async def test_bearer_style_token_is_not_accepted(state: EmulatorState) -> None:
    """TikTok takes the bare token; "Bearer <token>" is an unknown token (40105)."""
    envelope = await _track(state, f"Bearer {TOKEN}")
    assert (40105, "Access token is incorrect or has been revoked.") == (
        envelope["code"],
        envelope["message"],
    )


async def test_revoked_token_is_40105(clock: FakeClock) -> None:
    """A revoked token answers 40105 even though it looks valid."""
    state = EmulatorState(EmulatorConfig(revoked_tokens={TOKEN}), clock=clock)
    envelope = await _track(state, TOKEN)
    assert (40105, "Access token is incorrect or has been revoked.") == (
        envelope["code"],
        envelope["message"],
    )


async def test_any_hex_token_works_only_when_allowed(clock: FakeClock) -> None:
    """With accept_any_token off, only configured tokens work."""
    state = EmulatorState(
        EmulatorConfig(accept_any_token=False, tokens={"my-token": TokenGrant()}), clock=clock
    )
    assert 40105 == (await _track(state, OTHER_TOKEN))["code"]
    assert 0 == (await _track(state, "my-token"))["code"]


async def test_non_hex_token_is_unknown_by_default(state: EmulatorState) -> None:
    """accept_any_token covers 40-hex tokens only."""
    assert 40105 == (await _track(state, "not-a-real-token"))["code"]


async def test_token_limited_to_other_pixels_gets_40001(clock: FakeClock) -> None:
    """A token granted pixel A is refused on pixel B with 40001 naming B."""
    grant = TokenGrant(pixels={"PIXELA"})
    state = EmulatorState(EmulatorConfig(tokens={TOKEN: grant}), clock=clock)
    refused = await _track(state, TOKEN, pixel="PIXELB")
    assert 40001 == refused["code"]
    assert str(refused["message"]).startswith("No permission to operate pixel code: PIXELB.")
    assert 0 == (await _track(state, TOKEN, pixel="PIXELA"))["code"]


async def test_token_limited_to_other_advertisers_gets_40001(clock: FakeClock) -> None:
    """Audience calls for an advertiser outside the grant answer 40001."""
    state = EmulatorState(
        EmulatorConfig(tokens={TOKEN: TokenGrant(advertisers={"111"})}), clock=clock
    )
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Access-Token": TOKEN}
    ) as http:
        refused = await call(http, "pixel/list/", params={"advertiser_id": ADVERTISER})
        allowed = await call(http, "pixel/list/", params={"advertiser_id": "111"})
    assert 40001 == refused["code"]
    assert str(refused["message"]).startswith(
        f"No permission to operate advertiser_id: {ADVERTISER}."
    )
    assert 0 == allowed["code"]


async def test_auth_is_checked_before_the_body(state: EmulatorState) -> None:
    """A missing token wins over an invalid body, as at TikTok's gateway."""
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post(f"{API}/event/track/", content=b"garbage")
    assert 40104 == response.json()["code"]


async def test_unknown_api_path_is_http_404(client: httpx.AsyncClient) -> None:
    """Paths TikTok does not have are not answered with an envelope."""
    assert 404 == (await client.post(f"{API}/event/nothing/", json={})).status_code


def test_config_and_state_together_must_agree() -> None:
    """create_app refuses a config that is not the state's own."""
    state = EmulatorState(EmulatorConfig())
    with pytest.raises(ValueError, match="EmulatorState"):
        create_app(EmulatorConfig(), state)
    assert state is create_app(state.config, state).state.emulator


async def test_mounted_under_a_prefix_it_still_records_and_faults(state: EmulatorState) -> None:
    """Mounted inside another app, paths, faults and rejection rules work as at the root."""
    parent = FastAPI()
    parent.mount("/tiktok", create_app(state=state))
    state.faults.add("code_40100")
    state.faults.reject_events({"event_id": "order-1"})
    transport = httpx.ASGITransport(app=parent)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t/tiktok", headers={"Access-Token": TOKEN}
    ) as http:
        limited = await call(http, "event/track/", track_body())
        rejected = await call(http, "event/track/", track_body())
    assert (40100, 40002) == (limited["code"], rejected["code"])
    assert ["/open_api/v1.3/event/track"] * 2 == [r.path for r in state.requests]
