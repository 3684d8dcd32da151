"""Query and path parameters out of range: a 422 naming the parameter, never a 500 or 503."""

from __future__ import annotations

from typing import Any

import pytest
from tests.service.conftest import SEED_EVENT, ServiceFactory

TOO_BIG = "1259334153883831238656"  # past SQLite's 64-bit INTEGER (schemathesis found it)


def named(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/events?before_id={TOO_BIG}", "query.before_id"),
        ("/events?before_id=0", "query.before_id"),
        ("/events?limit=1001", "query.limit"),
        ("/events?limit=0", "query.limit"),
        ("/deliveries?limit=501", "query.limit"),
        ("/events?pixel_id=" + "P" * 65, "query.pixel_id"),
        ("/events/" + "e" * 129, "path.event_id"),
        ("/events/order_123?event_type=" + "E" * 101, "query.event_type"),
    ],
)
async def test_numbers_and_strings_out_of_range_are_422(
    make_service: ServiceFactory, path: str, field: str
) -> None:
    """A cursor past 2^63-1, a limit out of range or a string longer than its column: 422."""
    service = await make_service()
    response = await service.get(path)
    assert (422, [field]) == (response.status_code, named(response.json()))


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/events?pixel_id=P%00X", "query.pixel_id"),
        ("/events/order%00123", "path.event_id"),
        ("/events/order_123?pixel_id=P%00", "query.pixel_id"),
        ("/events/order_123?event_type=Complete%00Payment", "query.event_type"),
        ("/deliveries?pixel_id=%00", "query.pixel_id"),
        ("/connection?pixel_id=%00", "query.pixel_id"),
    ],
)
async def test_a_nul_byte_is_422_on_both_databases(
    db_url: str, make_service: ServiceFactory, path: str, field: str
) -> None:
    """A NUL byte (which PostgreSQL cannot store or compare) is refused by name, not a 503/500."""
    service = await make_service(db_url=db_url)
    assert 202 == (await service.post("/events", SEED_EVENT)).status_code
    response = await service.get(path)
    assert (422, [field]) == (response.status_code, named(response.json()))


async def test_openapi_declares_the_bounds(make_service: ServiceFactory) -> None:
    """/openapi.json tells clients (and schemathesis) the ranges the API enforces."""
    service = await make_service()
    spec = (await service.http.get("/openapi.json")).json()
    params = {
        p["name"]: p["schema"]
        for p in spec["paths"]["/api/integrations/tiktok-ads/events"]["get"]["parameters"]
    }
    before = params["before_id"]["anyOf"][0]
    assert (1, 2**63 - 1) == (before["minimum"], before["maximum"])
    assert 64 == params["pixel_id"]["anyOf"][0]["maxLength"]
