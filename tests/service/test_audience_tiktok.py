"""Audience jobs under TikTok's rules: failures retried, a lost create adopted by name, the
1,000-user floor of file updates, deletion, and the Marketing API token."""

from __future__ import annotations

import asyncio

import httpx
from tests.service.audience_support import (
    ADVERTISER,
    audience_calls,
    create,
    emails,
    settled,
    sync,
)
from tests.service.conftest import TOKEN, ServiceFactory

from tiktok_ads.domain.normalize import hash_email
from tiktok_ads.emulator import create_app as create_emulator


async def test_tiktok_failing_the_first_audience_calls_is_retried_to_done(
    make_service: ServiceFactory,
) -> None:
    """A 503 page, then code 50000, on the audience API: the job retries and ends done."""
    emulator = create_emulator()
    emulator.state.emulator.faults.add("http_503", 1, path="dmp/custom_audience")
    emulator.state.emulator.faults.add("code_50000", 1, path="dmp/custom_audience")
    service = await make_service(emulator=emulator, tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    await sync(service, audience["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(5)])
    view = await settled(service, audience["id"])
    job = view["jobs"]["recent"][0]
    assert ("ready", "done", 3) == (view["status"], job["status"], job["attempts"])
    assert {hash_email(e) for e in emails(5)} == service.tiktok.audience_members(
        view["tiktok_audience_id"]
    )
    assert [503, 200, 200] == [r.http_status for r in service.tiktok.requests][:3]


class LosesFirstCreateAnswer(httpx.AsyncBaseTransport):
    """The network between us and TikTok: the first create/ reaches TikTok, its answer is lost."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/dmp/custom_audience/create/") and not self.lost:
            self.lost += 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


async def test_a_create_whose_answer_was_lost_adopts_the_audience_tiktok_made(
    db_url: str, make_service: ServiceFactory
) -> None:
    """TikTok created the audience but we never heard: the retry finds it by name, no second."""
    emulator = create_emulator()
    transport = LosesFirstCreateAnswer(httpx.ASGITransport(app=emulator))
    service = await make_service(
        db_url, emulator, transport=transport, tiktok_advertiser_id=ADVERTISER
    )
    audience = await create(service, "Festival buyers")
    await sync(service, audience["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(4)])
    view = await settled(service, audience["id"])
    assert 1 == transport.lost
    assert [view["tiktok_audience_id"]] == service.tiktok.audience_ids(name="Festival buyers")
    assert ("ready", 4) == (view["status"], view["member_count"])
    assert ["dmp/custom_audience/create", "dmp/custom_audience/list"] == [
        call for call in audience_calls(service) if call.endswith(("create", "list"))
    ]


async def test_an_update_under_tiktoks_1000_user_floor_fails_clearly_and_changes_nothing(
    make_service: ServiceFactory,
) -> None:
    """A REMOVE leaving 999 users fails before anything is sent, saying why; members stay."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    await sync(service, audience["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(1000)])
    tiktok_id = (await settled(service, audience["id"]))["tiktok_audience_id"]
    calls = len(audience_calls(service))
    await sync(service, audience["id"], "REMOVE", ["EMAIL_SHA256"], [[emails(1)[0]]])
    view = await settled(service, audience["id"])
    job = view["jobs"]["recent"][0]
    assert ("failed", "failed", 1000) == (view["status"], job["status"], view["member_count"])
    assert "fewer than 1,000 users" in view["last_sync"]["message"]
    assert "would hold 999" in job["tiktok"]["message"]
    assert calls == len(audience_calls(service))
    assert 1000 == len(service.tiktok.audience_members(tiktok_id))


async def test_delete_removes_the_audience_at_tiktok_then_here(
    db_url: str, make_service: ServiceFactory
) -> None:
    """DELETE answers 202; once done TikTok has no such audience and ours answers 404."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    await sync(service, audience["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(3)])
    await settled(service, audience["id"])
    response = await service.http.delete(
        f"/api/integrations/tiktok-ads/audiences/{audience['id']}",
        headers={"Authorization": "Bearer test-admin-key"},
    )
    assert (202, "deleting") == (response.status_code, response.json()["status"])
    again = await service.post(f"/audiences/{audience['id']}/sync", {"action": "APPEND"})
    assert 409 == again.status_code
    for _ in range(500):
        if (await service.get(f"/audiences/{audience['id']}")).status_code == 404:
            break
        await asyncio.sleep(0.02)
    assert 404 == (await service.get(f"/audiences/{audience['id']}")).status_code
    assert [] == service.tiktok.audience_ids(advertiser_id=ADVERTISER)
    recreated = await create(service)
    assert "pending" == recreated["status"]


async def test_audience_calls_use_the_marketing_token_from_connect(
    make_service: ServiceFactory,
) -> None:
    """marketing_access_token on POST /connect: audience calls carry it, events keep theirs;
    it is never shown."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    marketing = "f" * 40
    connected = await service.post(
        "/connect",
        {
            "pixel_id": "CPIXELTEST0000000001",
            "access_token": TOKEN,
            "advertiser_id": ADVERTISER,
            "marketing_access_token": marketing,
        },
    )
    assert 200 == connected.status_code
    assert marketing not in connected.text
    audience = await create(service)
    await sync(service, audience["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(2)])
    await settled(service, audience["id"])
    masks = {r.token_mask for r in service.tiktok.requests if "/dmp/" in r.path}
    assert {"***ffff"} == masks


async def test_an_advertiser_without_a_connection_is_refused(make_service: ServiceFactory) -> None:
    """POST /audiences for an advertiser no connection has: 422, code 40001, advertiser_id."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    response = await service.post(
        "/audiences", {"advertiser_id": "999", "custom_audience_name": "X"}
    )
    body = response.json()
    assert (422, 40001, "advertiser_id") == (
        response.status_code,
        body["code"],
        body["errors"][0]["field"],
    )
