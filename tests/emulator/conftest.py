"""Fixtures for the emulator's tests: a movable clock and the app served in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.emulator.emulator_support import TOKEN, FakeClock

from tiktok_ads.emulator import EmulatorConfig, EmulatorState, create_app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig()


@pytest.fixture
def state(config: EmulatorConfig, clock: FakeClock) -> EmulatorState:
    return EmulatorState(config, clock=clock)


@pytest.fixture
async def client(state: EmulatorState) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the emulator in-process, sending TOKEN."""
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://tiktok.test", headers={"Access-Token": TOKEN}
    ) as http:
        yield http
