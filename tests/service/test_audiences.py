"""Audiences end to end against the emulator: one audience per name, members hashed as events
are, exactly the difference sent, invalid rows reported."""

from __future__ import annotations

import asyncio

from tests.service.audience_support import (
    ADVERTISER,
    audience_calls,
    create,
    emails,
    settled,
    sha256,
    sync,
)
from tests.service.conftest import ServiceFactory

from tiktok_ads.domain.normalize import hash_email, hash_phone


async def test_creating_a_name_twice_gives_one_audience_here_and_at_tiktok(
    db_url: str, make_service: ServiceFactory
) -> None:
    """201 then 200 with the same id; after a sync TikTok holds one audience of that name."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    first = await service.post(
        "/audiences", {"advertiser_id": ADVERTISER, "custom_audience_name": "Holders"}
    )
    again = await service.post(
        "/audiences", {"advertiser_id": ADVERTISER, "custom_audience_name": "Holders"}
    )
    assert (201, 200) == (first.status_code, again.status_code)
    assert first.json()["id"] == again.json()["id"]
    await sync(service, first.json()["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(3)])
    view = await settled(service, first.json()["id"])
    assert ["ready"] == [view["status"]]
    assert [view["tiktok_audience_id"]] == service.tiktok.audience_ids(name="Holders")


async def test_parallel_creates_make_one_audience(
    db_url: str, make_service: ServiceFactory
) -> None:
    """Five creates of one name at once: one 201, four 200, all the same id."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    body = {"advertiser_id": ADVERTISER, "custom_audience_name": "Racing"}
    answers = await asyncio.gather(*(service.post("/audiences", body) for _ in range(5)))
    assert [200, 200, 200, 200, 201] == sorted(a.status_code for a in answers)
    assert 1 == len({a.json()["id"] for a in answers})
    listed = (await service.get("/audiences")).json()["audiences"]
    assert ["Racing"] == [a["custom_audience_name"] for a in listed]


async def test_append_hashes_raw_rows_as_events_do_and_passes_hashes_through(
    db_url: str, make_service: ServiceFactory
) -> None:
    """Raw emails and phones arrive at TikTok hashed exactly as for events; a SHA-256 stays."""
    service = await make_service(
        db_url, tiktok_advertiser_id=ADVERTISER, tiktok_default_phone_region="RO"
    )
    audience = await create(service)
    hashed = sha256("already@example.com").upper()
    rows = [
        [" Alice@Example.COM ", "0721 234 567"],
        [hashed, ""],
        ["", "+1 (213) 373-4253"],
    ]
    accepted = await sync(service, audience["id"], "append", ["email_sha256", "PHONE_SHA256"], rows)
    assert (3, 4, 0) == (accepted["rows"], accepted["accepted_ids"], accepted["invalid"])
    view = await settled(service, audience["id"])
    expected = {
        hash_email("alice@example.com"),
        hash_phone("+40721234567", None),
        hashed.lower(),
        hash_phone("+12133734253", None),
    }
    assert expected == set(service.tiktok.audience_members(view["tiktok_audience_id"]))
    assert (4, 4, "ready") == (view["member_count"], view["cover_num"], view["status"])


async def test_invalid_values_are_reported_by_row_and_field_never_stored(
    make_service: ServiceFactory,
) -> None:
    """Bad ids are counted and named (row, field); the good ids of the same rows still go."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    rows = [["ok@example.com", "+40721234567"], ["not-an-email", "12"], ["", ""]]
    accepted = await sync(service, audience["id"], "APPEND", ["EMAIL_SHA256", "PHONE_SHA256"], rows)
    assert (3, 2, 3) == (accepted["rows"], accepted["accepted_ids"], accepted["invalid"])
    assert [("members.1.0", 1), ("members.1.1", 1), ("members.2", 2)] == [
        (problem["field"], problem["row"]) for problem in accepted["report"]
    ]
    view = await settled(service, audience["id"])
    assert 2 == view["member_count"]
    assert accepted["report"] == view["jobs"]["recent"][0]["report"]


async def test_replace_sends_exactly_the_difference_and_an_identical_one_sends_nothing(
    db_url: str, make_service: ServiceFactory
) -> None:
    """REPLACE adds what is new and removes what is gone; the same REPLACE again calls nobody."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    before, after = emails(1200), emails(1100) + emails(150, prefix="new")
    await sync(service, audience["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in before])
    tiktok_id = (await settled(service, audience["id"]))["tiktok_audience_id"]
    await sync(service, audience["id"], "REPLACE", ["EMAIL_SHA256"], [[e] for e in after])
    view = await settled(service, audience["id"])
    assert {hash_email(e) for e in after} == service.tiktok.audience_members(tiktok_id)
    job = view["jobs"]["recent"][0]
    assert (150, 100, "done") == (job["added"], job["removed"], job["status"])
    calls = len(audience_calls(service))
    await sync(service, audience["id"], "REPLACE", ["EMAIL_SHA256"], [[e] for e in after])
    view = await settled(service, audience["id"])
    assert ("done", calls) == (view["jobs"]["recent"][0]["status"], len(audience_calls(service)))
    assert 1250 == view["member_count"]
