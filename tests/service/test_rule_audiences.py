"""Rule audiences: segments from events ingested through the API, checked hash by hash at the
emulator; refreshes that send only the difference (or nothing); the periodic refresh."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.service.audience_support import ADVERTISER, create, settled
from tests.service.conftest import Service, ServiceFactory

from tiktok_ads.adapters.clock import FrozenClock
from tiktok_ads.domain.normalize import hash_email, hash_phone

START = 1_800_000_000.0


def purchase(
    event_id: str, user: dict[str, Any], value: float = 50.0, **content: str
) -> dict[str, Any]:
    item = {"content_id": content.get("content_id", "tkt_rock"), "quantity": 1, "price": value}
    if "category" in content:
        item["content_category"] = content["category"]
    return {
        "event_type": content.get("event_type", "CompletePayment"),
        "event_id": event_id,
        "user": user,
        "properties": {"value": value, "currency": "EUR", "contents": [item]},
    }


async def track(service: Service, *events: dict[str, Any]) -> None:
    response = await service.post("/events/batch", {"events": list(events)})
    assert (200, 0) == (response.status_code, response.json()["rejected"]), response.text


async def members_at_tiktok(service: Service, name: str, **rule: Any) -> frozenset[str]:
    """Create the rule audience, wait for its jobs, and read what TikTok holds."""
    view = await settled(service, (await create(service, name, rule=rule))["id"])
    assert ("ready", "segment") == (view["status"], view["backend"]), view
    return service.tiktok.audience_members(view["tiktok_audience_id"])


def email(name: str) -> str:
    return hash_email(f"{name}@example.com")


async def test_each_rule_kind_holds_exactly_its_people(
    db_url: str, make_service: ServiceFactory
) -> None:
    """Repeat buyers, big spenders, a category, content ids and cart abandoners: the exact
    hashes at TikTok; external_id links one person's events; LDU and denied consent never count."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    bob = {"phone": "+40721000001", "external_id": "u-bob"}
    cara = {"email": "cara@example.com", "phone": "+40721000002"}
    gus = {"email": "gus@example.com", "external_id": "u-gus"}
    await track(
        service,
        purchase("a1", {"email": "ana@example.com"}, 50, category="concert"),
        purchase("a2", {"email": "ANA@example.com "}, 50, category="concert"),
        purchase("b1", bob, 400, category="festival", content_id="tkt_fest"),
        # Logged in, no phone: still bob, through his external_id.
        purchase("b2", {"external_id": "u-bob"}, 10, content_id="tkt_jazz"),
        purchase("c1", cara, 80, event_type="AddToCart", content_id="tkt_fest"),
        purchase("d1", {"email": "dan@example.com"}, 80, event_type="AddToCart"),
        purchase("d2", {"email": "dan@example.com"}, 80, category="festival", content_id="x"),
        purchase("e1", {"external_id": "u-eve"}, 30),  # nobody TikTok could match
        {**purchase("f1", {"email": "fay@example.com"}), "limited_data_use": True},
        {**purchase("f2", {"email": "fay@example.com"}), "limited_data_use": True},
        {**purchase("h1", {"email": "hal@example.com"}), "consent": False},
        {**purchase("h2", {"email": "hal@example.com"}), "consent": False},
        purchase("g1", {"email": "gus@example.com"}, event_type="AddToCart"),
        purchase("g2", gus, event_type="AddToCart"),
        purchase("g3", {"phone": "+40721000003", "external_id": "u-gus"}, content_id="t"),
    )
    phone_bob, phone_cara = hash_phone(bob["phone"], None), hash_phone(cara["phone"], None)
    assert {email("ana"), phone_bob} == await members_at_tiktok(
        service, "Repeat buyers", event_type="CompletePayment", min_count=2
    )
    assert {phone_bob} == await members_at_tiktok(
        service, "Big spenders", event_type="CompletePayment", min_value=300
    )
    assert {phone_bob, email("dan")} == await members_at_tiktok(
        service, "Festival buyers", event_type="CompletePayment", content_category="Festival"
    )
    assert {email("ana")} == await members_at_tiktok(
        service, "Rock holders", event_type="CompletePayment", content_ids=["tkt_rock"]
    )
    assert {email("cara"), phone_cara} == await members_at_tiktok(
        service,
        "Cart abandoners",
        event_type="AddToCart",
        without_event_type="CompletePayment",
        within_days=30,
    )
    audiences = (await service.get("/audiences")).json()["audiences"]
    rock = next(a for a in audiences if a["custom_audience_name"] == "Rock holders")
    segment = {k: v for k, v in rock["segment"].items() if k.startswith(("people", "ids"))}
    assert {
        "people": 2,
        "people_with_email": 1,
        "people_with_phone": 0,
        "people_without_hashes": 1,
        "ids": 1,
    } == segment


async def test_a_refresh_sends_only_the_difference_and_an_unchanged_one_nothing(
    db_url: str, make_service: ServiceFactory
) -> None:
    """New buyers: one mapping add of just them; the same segment again: no call to TikTok."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    ana = {"email": "ana@example.com"}
    await track(service, purchase("a1", ana), purchase("a2", ana))
    rule = {"event_type": "CompletePayment", "min_count": 2}
    audience = await create(service, "Repeat buyers", rule=rule)
    tiktok_id = (await settled(service, audience["id"]))["tiktok_audience_id"]
    bob = {"email": "bob@example.com"}
    await track(service, purchase("b1", bob), purchase("b2", bob), purchase("c1", ana))
    response = await service.post(f"/audiences/{audience['id']}/refresh")
    assert (202, 2) == (response.status_code, response.json()["segment"]["people"])
    view = await settled(service, audience["id"])
    mappings = [r.json for r in service.tiktok.requests if r.path.endswith("segment/mapping")]
    assert [("add", [email("bob")])] == [
        (m["action"], [user[0]["id"] for user in m["batch_data"]]) for m in mappings[1:]
    ]
    assert {email("ana"), email("bob")} == service.tiktok.audience_members(tiktok_id)
    assert 2 == view["member_count"]
    calls = len(service.tiktok.requests)
    again = await service.post(f"/audiences/{audience['id']}/refresh")
    assert 202 == again.status_code
    job = (await settled(service, audience["id"]))["jobs"]["recent"][0]
    assert (again.json()["job_id"], "done", 0, 0) == (
        job["job_id"],
        job["status"],
        job["added"],
        job["removed"],
    )
    assert calls == len(service.tiktok.requests)


async def test_rule_audiences_refresh_on_their_schedule(
    db_url: str, make_service: ServiceFactory
) -> None:
    """TIKTOK_AUDIENCE_REFRESH_MINUTES later the periodic task sends the new members; before
    it, nothing; an unchanged due segment queues no job; people whose events left the window
    are deleted at TikTok."""
    clock = FrozenClock(START)
    service = await make_service(
        db_url, clock=clock, tiktok_advertiser_id=ADVERTISER, tiktok_audience_refresh_minutes=30
    )
    periodic = service.container.periodic
    ana, bob = {"email": "ana@example.com"}, {"email": "bob@example.com"}
    await track(service, purchase("a1", ana))
    rule = {"event_type": "CompletePayment", "within_days": 1}
    audience = await create(service, "Buyers", rule=rule)
    view = await settled(service, audience["id"])
    tiktok_id, jobs = view["tiktok_audience_id"], view["jobs"]["counts"]["done"]
    await track(service, purchase("b1", bob))
    clock.advance(29 * 60)
    await periodic.run_now("refresh-audiences")
    assert {email("ana")} == service.tiktok.audience_members(tiktok_id)
    clock.advance(60)
    await periodic.run_now("refresh-audiences")  # or the worker's own loop got there first
    await eventually(lambda: email("bob") in service.tiktok.audience_members(tiktok_id))
    view = await settled(service, audience["id"])
    assert ("2027-01-15T08:30:00Z", jobs + 1) == (
        view["segment"]["refreshed_at"],
        view["jobs"]["counts"]["done"],
    )
    clock.advance(30 * 60)
    await periodic.run_now("refresh-audiences")
    view = await settled(service, audience["id"])
    assert ("2027-01-15T09:00:00Z", jobs + 1) == (
        view["segment"]["refreshed_at"],
        view["jobs"]["counts"]["done"],
    )
    clock.advance(86400 - 3600 + 1)  # the purchases (at 08:00) are now older than a day
    await periodic.run_now("refresh-audiences")
    await eventually(lambda: not service.tiktok.audience_members(tiktok_id))
    deleted = [r.json for r in service.tiktok.requests if r.path.endswith("segment/mapping")]
    assert ("delete", 2) == (deleted[-1]["action"], len(deleted[-1]["batch_data"]))


async def eventually(check: Any, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_bad_rules_are_refused_naming_the_field(make_service: ServiceFactory) -> None:
    """Unknown fields, wrong types and ranges, a window past retention, a foreign pixel: 422
    naming rule.<field>; refreshing a list audience: 422; an unknown one: 404."""
    service = await make_service(
        tiktok_advertiser_id=ADVERTISER, tiktok_ads_event_retention_days=90
    )

    async def refused(rule: object) -> tuple[int, list[str]]:
        response = await service.post(
            "/audiences",
            {"advertiser_id": ADVERTISER, "custom_audience_name": "Bad", "rule": rule},
        )
        return response.status_code, [e["field"] for e in response.json()["errors"]]

    buy = {"event_type": "CompletePayment"}
    assert (422, ["rule.min_cout"]) == await refused({**buy, "min_cout": 2})
    assert (422, ["rule.event_type"]) == await refused({"min_count": 2})
    assert (422, ["rule.min_count"]) == await refused({**buy, "min_count": 0})
    assert (422, ["rule.min_value"]) == await refused({**buy, "min_value": "lots"})
    assert (422, ["rule.within_days"]) == await refused({**buy, "within_days": 91})
    assert (422, ["rule.content_ids.1"]) == await refused({**buy, "content_ids": ["t1", {}]})
    assert (422, ["rule.without_event_type"]) == await refused(
        {**buy, "without_event_type": "CompletePayment"}
    )
    assert (422, ["rule.pixel_id"]) == await refused({**buy, "pixel_id": "CSOMEBODYELSE"})
    assert (422, ["rule"]) == await refused(["CompletePayment"])
    listed = await create(service, "A list")
    response = await service.post(f"/audiences/{listed['id']}/refresh")
    assert (422, "id") == (response.status_code, response.json()["errors"][0]["field"])
    assert 404 == (await service.post("/audiences/999/refresh")).status_code
    renamed = await service.post(
        "/audiences",
        {"advertiser_id": ADVERTISER, "custom_audience_name": "A list", "rule": buy},
    )
    assert 409 == renamed.status_code
