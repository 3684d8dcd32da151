"""Per-(token, pixel) limits on event/track: requests per second and events per UTC day."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.emulator.emulator_support import (
    TOKEN,
    FakeClock,
    call,
    track_body,
    web_event,
)

from tiktok_ads.emulator import EmulatorConfig, EmulatorState, create_app

LIMITED = (40100, "Too many requests. Please retry in some time.")
OTHER_TOKEN = "f" * 40


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(qps=2, daily_quota=5)


@pytest.fixture
async def other_client(state: EmulatorState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Access-Token": OTHER_TOKEN}
    ) as http:
        yield http


async def _codes(client: httpx.AsyncClient, *bodies: dict[str, object]) -> list[tuple[int, str]]:
    results = []
    for body in bodies:
        envelope = await call(client, "event/track/", body)
        results.append((envelope["code"], envelope["message"]))
    return results


def _one(event_id: str, pixel: str | None = None) -> dict[str, object]:
    body = track_body(web_event(event_id=event_id))
    if pixel:
        body["event_source_id"] = pixel
    return body


async def test_requests_beyond_qps_get_40100(
    client: httpx.AsyncClient, clock: FakeClock, state: EmulatorState
) -> None:
    """With qps=2 the third request in the same second is refused, and its events not kept."""
    results = await _codes(client, _one("a"), _one("b"), _one("c"))
    assert [(0, "OK"), (0, "OK"), LIMITED] == results
    assert ["a", "b"] == [event.event_id for event in state.events]


async def test_qps_recovers_as_time_passes(client: httpx.AsyncClient, clock: FakeClock) -> None:
    """Half a second at 2 QPS earns one more request."""
    await _codes(client, _one("a"), _one("b"))
    clock.advance(0.5)
    assert [(0, "OK"), LIMITED] == await _codes(client, _one("c"), _one("d"))


async def test_qps_is_per_token_and_pixel(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    """Another pixel or another token has its own allowance."""
    await _codes(client, _one("a"), _one("b"))
    assert [(0, "OK")] == await _codes(client, _one("c", pixel="OTHERPIXEL"))
    assert [(0, "OK")] == await _codes(other_client, _one("d"))


async def test_daily_quota_counts_events(client: httpx.AsyncClient, clock: FakeClock) -> None:
    """A batch that would pass 5 events today is refused whole; a smaller one still fits."""
    three = track_body(*[web_event(event_id=f"e{i}") for i in range(3)])
    clock.advance(1)
    assert [(0, "OK")] == await _codes(client, three)
    clock.advance(1)
    assert [LIMITED] == await _codes(
        client, track_body(*[web_event(event_id=f"f{i}") for i in range(3)])
    )
    clock.advance(1)
    assert [(0, "OK")] == await _codes(
        client, track_body(*[web_event(event_id=f"g{i}") for i in range(2)])
    )


async def test_daily_quota_resets_at_utc_midnight(
    client: httpx.AsyncClient, clock: FakeClock, state: EmulatorState
) -> None:
    """The next UTC day starts from zero."""
    five = track_body(*[web_event(event_id=f"e{i}") for i in range(5)])
    await _codes(client, five)
    clock.advance(1)
    assert [LIMITED] == await _codes(client, _one("late"))
    clock.now = (clock.now // 86_400 + 1) * 86_400
    assert [(0, "OK")] == await _codes(client, _one("tomorrow"))
    assert 6 == state.event_count()


async def test_no_limits_by_default(clock: FakeClock) -> None:
    """Without qps or daily_quota, 20 quick requests all pass."""
    state = EmulatorState(EmulatorConfig(), clock=clock)
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Access-Token": TOKEN}
    ) as http:
        results = await _codes(http, *[_one(str(i)) for i in range(20)])
    assert [(0, "OK")] * 20 == results
