"""Audiences belong to advertisers: a key limited to some pixels sees and changes only the
audiences of its pixels' advertisers."""

from __future__ import annotations

from tests.service.audience_support import ADVERTISER, create
from tests.service.conftest import PIXEL, TOKEN, ServiceFactory
from tests.service.test_console import log_in

OTHER_PIXEL = "CPIXELOTHER000000002"
OTHER_ADVERTISER = "7000000002"


async def test_a_pixel_limited_key_sees_only_its_advertisers_audiences(
    make_service: ServiceFactory,
) -> None:
    """Lists and reads narrow to the key's advertisers; another's audience is a 404; creating
    one for another advertiser is a 403 naming advertiser_id."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    await service.post(
        "/connect",
        {"pixel_id": OTHER_PIXEL, "access_token": TOKEN, "advertiser_id": OTHER_ADVERTISER},
    )
    mine = await create(service, "Mine")
    theirs = await create(service, "Theirs", advertiser_id=OTHER_ADVERTISER)
    keys = service.container.keys
    key = await keys.create("organiser", frozenset({"admin"}), frozenset({PIXEL}))
    auth = {"Authorization": f"Bearer {key}"}

    listed = (await service.get("/audiences", headers=auth)).json()["audiences"]
    assert [mine["id"]] == [a["id"] for a in listed]
    assert 200 == (await service.get(f"/audiences/{mine['id']}", headers=auth)).status_code
    assert 404 == (await service.get(f"/audiences/{theirs['id']}", headers=auth)).status_code
    sync = {"action": "APPEND", "id_schema": ["EMAIL_SHA256"], "members": [["a@b.co"]]}
    refused = await service.post(f"/audiences/{theirs['id']}/sync", sync, headers=auth)
    assert 404 == refused.status_code
    created = await service.post(
        "/audiences",
        {"advertiser_id": OTHER_ADVERTISER, "custom_audience_name": "Sneaky"},
        headers=auth,
    )
    assert (403, "advertiser_id") == (created.status_code, created.json()["errors"][0]["field"])
    everyone = (await service.get("/audiences")).json()["audiences"]
    assert {mine["id"], theirs["id"]} == {a["id"] for a in everyone}


async def test_the_console_lists_the_audiences_the_key_may_see(
    make_service: ServiceFactory,
) -> None:
    """The console's audiences page shows name, status and size of the key's audiences only."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    await service.post(
        "/connect",
        {"pixel_id": OTHER_PIXEL, "access_token": TOKEN, "advertiser_id": OTHER_ADVERTISER},
    )
    await create(service, "Festival buyers")
    await create(service, "Rival buyers", advertiser_id=OTHER_ADVERTISER)
    keys = service.container.keys
    key = await keys.create("organiser", frozenset({"events"}), frozenset({PIXEL}))
    async with service.client() as http:
        await log_in(http, key)
        page = await http.get("/console/audiences")
    assert 200 == page.status_code
    assert "Festival buyers" in page.text and "Rival buyers" not in page.text
