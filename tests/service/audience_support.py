"""Helpers for the audience tests: the service with an advertiser, rows, waiting for jobs."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from tests.service.conftest import Service

ADVERTISER = "7000000001"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def emails(count: int, prefix: str = "fan") -> list[str]:
    return [f"{prefix}{i}@example.com" for i in range(count)]


async def create(service: Service, name: str = "Ticket holders", **body: Any) -> dict[str, Any]:
    response = await service.post(
        "/audiences",
        {"advertiser_id": ADVERTISER, "custom_audience_name": name, **body},
    )
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def sync(
    service: Service, audience_id: str, action: str, schema: list[str], rows: list[list[str]]
) -> dict[str, Any]:
    body = {"action": action, "id_schema": schema, "members": rows}
    response = await service.post(f"/audiences/{audience_id}/sync", body)
    assert 202 == response.status_code, response.text
    result: dict[str, Any] = response.json()
    return result


async def settled(service: Service, audience_id: str, within: float = 20.0) -> dict[str, Any]:
    """The audience once no job of it is queued or running (the runner works meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        view: dict[str, Any] = (await service.get(f"/audiences/{audience_id}")).json()
        counts = view["jobs"]["counts"]
        if not counts.get("queued") and not counts.get("running") and view["status"] != "syncing":
            return view
        if loop.time() > deadline:
            raise AssertionError(f"audience jobs not settled: {view}")
        await asyncio.sleep(0.02)


def audience_calls(service: Service) -> list[str]:
    """The paths of TikTok's audience endpoints called so far, in order."""
    return [
        request.path.removeprefix("/open_api/v1.3/")
        for request in service.tiktok.requests
        if "/dmp/" in request.path or "/segment/" in request.path
    ]
