"""The default connection from the environment, and what POST /connect changes, across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.service.conftest import PIXEL, SEED_EVENT, TOKEN, Service, ServiceFactory

from tiktok_ads.emulator import create_app as create_emulator
from tiktok_ads.errors import ConfigurationError

NEW_TOKEN = "fedcba9876543210fedcba9876543210fedcba98"


async def wait_held(service: Service) -> dict[str, object]:
    for _ in range(300):
        connection: dict[str, object] = (await service.get("/connection")).json()
        if not connection["healthy"]:
            return connection
        await asyncio.sleep(0.02)
    raise AssertionError("the connection was never held")


async def test_token_from_connect_survives_a_restart(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    """A token replaced by POST /connect is still used after a restart with the old env token."""
    emulator = create_emulator()
    db = f"sqlite:///{tmp_path}/restart.db"
    first = await make_service(db_url=db, emulator=emulator)
    answer = await first.post("/connect", {"pixel_id": PIXEL, "access_token": NEW_TOKEN})
    assert 200 == answer.status_code
    await first.stop()
    # The old env token is now revoked at TikTok: only the token from /connect works.
    first.tiktok.config.revoked_tokens.add(TOKEN)
    second = await make_service(db_url=db, emulator=emulator)
    await second.post("/events", SEED_EVENT)
    await second.settle()
    assert "delivered" == (await second.get("/events/order_123")).json()["status"]
    assert (await second.get("/connection")).json()["healthy"]


async def test_held_connection_stays_held_across_a_restart(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    """A revoked env token holds the queue; restarting with the same token does not unhold it."""
    emulator = create_emulator()
    emulator.state.emulator.config.revoked_tokens.add(TOKEN)
    db = f"sqlite:///{tmp_path}/held.db"
    first = await make_service(db_url=db, emulator=emulator)
    await first.post("/events", SEED_EVENT)
    await wait_held(first)
    await first.stop()
    second = await make_service(db_url=db, emulator=emulator)
    connection = (await second.get("/connection")).json()
    assert (False, 40105) == (connection["healthy"], connection["health"]["code"])
    assert "queued" == (await second.get("/events/order_123")).json()["status"]


async def test_rotated_env_token_replaces_the_one_it_gave(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    """A new TIKTOK_ACCESS_TOKEN replaces the env's old token and releases a held queue."""
    emulator = create_emulator()
    emulator.state.emulator.config.revoked_tokens.add(TOKEN)
    db = f"sqlite:///{tmp_path}/rotate.db"
    first = await make_service(db_url=db, emulator=emulator)
    await first.post("/events", SEED_EVENT)
    await wait_held(first)
    await first.stop()
    second = await make_service(db_url=db, emulator=emulator, tiktok_access_token=NEW_TOKEN)
    await second.settle()
    assert "delivered" == (await second.get("/events/order_123")).json()["status"]
    assert (await second.get("/connection")).json()["healthy"]


async def test_invalid_env_token_stops_start_up_naming_the_variable(
    make_service: ServiceFactory,
) -> None:
    """A TIKTOK_ACCESS_TOKEN that cannot be a header refuses to start, naming the variable."""
    with pytest.raises(ConfigurationError, match="TIKTOK_ACCESS_TOKEN"):
        await make_service(tiktok_access_token="line\nbreak")
