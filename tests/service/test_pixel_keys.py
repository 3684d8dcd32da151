"""Organisers see their own data only: an API key limited to some pixels, in every route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from tests.service.conftest import PIXEL, TOKEN, Service, ServiceFactory
from tests.service.test_tiktok_answers import ScriptedTikTok

OTHER = "CPIXELTEST0000000002"
PAGE = {"page_url": "https://shop.example/e"}


def event(event_id: str, pixel_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"event_type": "ViewContent", "event_id": event_id, "context": PAGE}
    if pixel_id is not None:
        body["pixel_id"] = pixel_id
    return body


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def refuses_pixel(response: Any) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["errors"][0]["field"]


def answer(event_ids: list[str]) -> tuple[int, str]:
    """TikTok refuses the event "b-bad" alone and takes the rest."""
    if "b-bad" in event_ids:
        return 40002, f"Batch.{event_ids.index('b-bad')}.event: invalid"
    return 0, "OK"


@dataclass
class TwoPixels:
    service: Service
    only_a: dict[str, str]  # an events key limited to PIXEL (the default pixel)
    only_b: dict[str, str]  # an events key limited to OTHER


@pytest.fixture
async def two_pixels(make_service: ServiceFactory) -> TwoPixels:
    """Two organisers' pixels, each with a delivered event; OTHER also has a failed one."""
    service = await make_service(transport=ScriptedTikTok(answer).transport)
    assert (
        200
        == (await service.post("/connect", {"pixel_id": OTHER, "access_token": TOKEN})).status_code
    )
    batch = [event("a-1", PIXEL), event("b-1", OTHER), event("b-bad", OTHER)]
    assert 0 == (await service.post("/events/batch", {"events": batch})).json()["rejected"]
    await service.settle()
    keys = service.container.keys
    only_a = await keys.create("org-a", frozenset({"events"}), frozenset({PIXEL}))
    only_b = await keys.create("org-b", frozenset({"events"}), frozenset({OTHER}))
    return TwoPixels(service, bearer(only_a), bearer(only_b))


async def test_a_limited_key_sends_only_to_its_pixels(two_pixels: TwoPixels) -> None:
    """Another pixel, an unknown one, or none when the default is not its own: 403 40103."""
    service, only_a, only_b = two_pixels.service, two_pixels.only_a, two_pixels.only_b
    assert 202 == (await service.post("/events", event("a-2", PIXEL), headers=only_a)).status_code
    assert 202 == (await service.post("/events", event("a-3"), headers=only_a)).status_code
    to_b = await service.post("/events", event("x-1", OTHER), headers=only_a)
    assert (403, 40103, "pixel_id") == refuses_pixel(to_b)
    unknown = await service.post("/events", event("x-2", "CUNKNOWN"), headers=only_a)
    assert (403, 40103, "pixel_id") == refuses_pixel(unknown)
    no_pixel = await service.post("/events", event("x-3"), headers=only_b)
    assert (403, 40103, "pixel_id") == refuses_pixel(no_pixel)
    batch = await service.post(
        "/events/batch", {"events": [event("a-4"), event("x-4", OTHER)]}, headers=only_a
    )
    results = batch.json()["results"]
    assert ["queued", "rejected"] == [r["status"] for r in results]
    assert (40103, "pixel_id") == (results[1]["code"], results[1]["errors"][0]["field"])
    stored = (await service.get("/events", params={"limit": 100})).json()["events"]
    assert not [e for e in stored if e["event_id"].startswith("x-")]


async def test_a_limited_key_reads_only_its_pixels(two_pixels: TwoPixels) -> None:
    """Lists, stats, deliveries and connections show PIXEL only; naming OTHER is 403."""
    service, only_a = two_pixels.service, two_pixels.only_a
    listed = (await service.get("/events", headers=only_a)).json()["events"]
    assert ["a-1"] == [e["event_id"] for e in listed]
    failed = (await service.get("/events", params={"status": "failed"}, headers=only_a)).json()
    assert [] == failed["events"]
    stats = (await service.get("/stats", headers=only_a)).json()
    assert ({PIXEL}, {"delivered": 1}) == (set(stats["by_pixel"]), stats["by_status"])
    deliveries = (await service.get("/deliveries", headers=only_a)).json()["deliveries"]
    assert [PIXEL] == sorted({d["pixel_id"] for d in deliveries})
    connections = (await service.get("/connections", headers=only_a)).json()["connections"]
    assert [PIXEL] == [c["pixel_id"] for c in connections]
    assert PIXEL == (await service.get("/connection", headers=only_a)).json()["pixel_id"]
    for path in ("/events", "/deliveries", "/connection"):
        named = await service.get(path, params={"pixel_id": OTHER}, headers=only_a)
        assert (403, 40103, "pixel_id") == refuses_pixel(named), path


async def test_another_pixels_event_is_not_found_nor_replayable(two_pixels: TwoPixels) -> None:
    """GET /events/{id} and its retry answer 404 for OTHER's event, which stays failed."""
    service, only_a = two_pixels.service, two_pixels.only_a
    assert 200 == (await service.get("/events/a-1", headers=only_a)).status_code
    for params in ({}, {"pixel_id": OTHER}):
        read = await service.get("/events/b-1", params=params, headers=only_a)
        assert (404, False) == (read.status_code, read.json()["success"])
        assert OTHER not in read.text
    replay = await service.post("/events/b-bad/retry", headers=only_a)
    assert 404 == replay.status_code
    assert "failed" == (await service.get("/events/b-bad")).json()["status"]


async def test_a_key_for_other_pixels_gets_its_first_pixel_as_connection(
    two_pixels: TwoPixels,
) -> None:
    """/connection without pixel_id: the default pixel is PIXEL, so OTHER's key gets OTHER."""
    view = (await two_pixels.service.get("/connection", headers=two_pixels.only_b)).json()
    assert (OTHER, False) == (view["pixel_id"], view["default"])


async def test_an_unlimited_key_sees_both_pixels_and_replays(two_pixels: TwoPixels) -> None:
    """A key for every pixel reads both organisers' data and replays OTHER's failed event."""
    service = two_pixels.service
    everyone = bearer(await service.container.keys.create("platform", frozenset({"events"})))
    listed = (await service.get("/events", headers=everyone)).json()["events"]
    assert {"a-1", "b-1", "b-bad"} == {e["event_id"] for e in listed}
    stats = (await service.get("/stats", headers=everyone)).json()
    assert {PIXEL, OTHER} == set(stats["by_pixel"])
    deliveries = (await service.get("/deliveries", headers=everyone)).json()["deliveries"]
    assert {PIXEL, OTHER} == {d["pixel_id"] for d in deliveries}
    connections = (await service.get("/connections", headers=everyone)).json()["connections"]
    assert {PIXEL, OTHER} == {c["pixel_id"] for c in connections}
    assert 200 == (await service.get("/events/b-1", headers=everyone)).status_code
    assert 202 == (await service.post("/events/b-bad/retry", headers=everyone)).status_code


async def test_a_limited_admin_connects_only_its_pixels(two_pixels: TwoPixels) -> None:
    """POST /connect: its own pixel yes; another pixel, or making its own the default, 403."""
    service = two_pixels.service
    admin_b = await service.container.keys.create("org-b", frozenset({"admin"}), frozenset({OTHER}))
    connect = {"pixel_id": OTHER, "access_token": TOKEN}
    own = await service.post("/connect", connect, headers=bearer(admin_b))
    assert (200, OTHER) == (own.status_code, own.json()["pixel_id"])
    other = await service.post("/connect", {**connect, "pixel_id": PIXEL}, headers=bearer(admin_b))
    assert (403, 40103, "pixel_id") == refuses_pixel(other)
    default = await service.post("/connect", {**connect, "default": True}, headers=bearer(admin_b))
    assert 403 == default.status_code
    assert PIXEL == (await service.get("/connection")).json()["pixel_id"]
