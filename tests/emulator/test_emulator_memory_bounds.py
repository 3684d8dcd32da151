"""Bounded memory: stored events are capped, dedup keys expire after 48 h and are capped too."""

from __future__ import annotations

import httpx
import pytest
from tests.emulator.emulator_support import FakeClock, call, track_body, web_event

from tiktok_ads.emulator import EmulatorConfig, EmulatorState

HOUR = 3600


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(max_stored_events=4, max_dedup_keys=1_000, max_recorded_requests=3)


def _events(*event_ids: str) -> dict[str, object]:
    return track_body(*[web_event(event_id=event_id) for event_id in event_ids])


def _dedup_keys(state: EmulatorState) -> int:
    keys: int = state.stats()["events"]["dedup_keys"]
    return keys


async def test_stored_events_keep_only_the_newest(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Past max_stored_events the oldest events are dropped; counters still see every one."""
    await call(client, "event/track/", _events("a", "b", "c"))
    await call(client, "event/track/", _events("d", "e", "f"))
    assert ["c", "d", "e", "f"] == [event.event_id for event in state.events]
    assert 6 == state.event_count()
    view = (await client.get("/_emulator/events")).json()
    assert (4, ["c", "d", "e", "f"]) == (view["count"], [e["event_id"] for e in view["events"]])


async def test_dedup_keys_expire_once_their_48_hours_have_passed(
    client: httpx.AsyncClient, state: EmulatorState, clock: FakeClock
) -> None:
    """Keys older than 48 h are forgotten when time has moved on; younger ones stay."""
    await call(client, "event/track/", _events("a", "b", "c"))
    clock.advance(24 * HOUR)
    await call(client, "event/track/", _events("d"))
    assert 4 == _dedup_keys(state)
    clock.advance(24 * HOUR)
    await call(client, "event/track/", _events("e"))
    assert 2 == _dedup_keys(state)


async def test_dedup_still_works_within_48_hours_after_pruning(
    client: httpx.AsyncClient, state: EmulatorState, clock: FakeClock
) -> None:
    """At 48 h, `a` (sent at 0 h) counts again while `b` (sent at 24 h) is still a duplicate."""
    await call(client, "event/track/", _events("a"))
    clock.advance(24 * HOUR)
    await call(client, "event/track/", _events("b"))
    clock.advance(24 * HOUR)
    await call(client, "event/track/", _events("a", "b"))
    assert [("a", False), ("b", False), ("a", False), ("b", True)] == [
        (event.event_id, event.deduplicated) for event in state.events
    ]


async def test_dedup_key_count_is_capped_oldest_first(
    client: httpx.AsyncClient, state: EmulatorState, config: EmulatorConfig
) -> None:
    """Beyond max_dedup_keys the oldest key goes: its repeat counts, a kept key's does not."""
    config.max_dedup_keys = 3
    await call(client, "event/track/", _events("a", "b", "c", "d"))
    assert 3 == _dedup_keys(state)
    await call(client, "event/track/", _events("d", "a"))
    assert [True, False] == [event.deduplicated for event in state.events[-2:]]
    assert 3 == _dedup_keys(state)


async def test_memory_stays_bounded_over_days_of_traffic(
    client: httpx.AsyncClient, state: EmulatorState, clock: FakeClock
) -> None:
    """Five days of 10 new events an hour: at most 48 h of keys and 4 events are ever held."""
    most_keys = most_events = 0
    for hour in range(120):
        await call(client, "event/track/", _events(*[f"h{hour}-{i}" for i in range(10)]))
        most_keys = max(most_keys, _dedup_keys(state))
        most_events = max(most_events, len(state.events))
        clock.advance(HOUR)
    assert (480, 4, 1200) == (most_keys, most_events, state.event_count())
    assert 480 == _dedup_keys(state)


async def test_recorded_requests_keep_only_the_newest(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Past max_recorded_requests the oldest recorded calls (and their bodies) are dropped."""
    for event_id in ("a", "b", "c", "d", "e"):
        await call(client, "event/track/", _events(event_id))
    kept = [request.json["data"][0]["event_id"] for request in state.requests]
    assert ["c", "d", "e"] == kept


def test_recorded_requests_cap_is_read_from_the_environment() -> None:
    """TIKTOK_EMULATOR_MAX_RECORDED_REQUESTS sets the cap (serve --sandbox reads it too)."""
    config = EmulatorConfig.from_env({"TIKTOK_EMULATOR_MAX_RECORDED_REQUESTS": "7"})
    assert 7 == EmulatorState(config).requests.maxlen
