"""Erasure: a person's hashes leave every audience at TikTok and every row of our store; their
queued events are still delivered, without who they were."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.service.audience_support import ADVERTISER, create, emails, settled, sync
from tests.service.conftest import Service, ServiceFactory
from tests.service.test_rule_audiences import eventually, purchase, track

from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.adapters.store.schema import metadata
from tiktok_ads.domain.normalize import hash_email, hash_external_id, hash_phone

PERSON = {"email": "pat@example.com", "phone": "+40721000009", "external_id": "u-pat"}
PAGE = {"page_url": "https://shop.example/checkout?ttclid=E.C.P.pat", "ip": "203.0.113.9"}


def stored_text(service: Service) -> str:
    """Every row of every table, as text."""
    with service.container.store.write_engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in conn.execute(select(table))
        )


def track_calls(service: Service) -> int:
    return sum(1 for r in service.tiktok.requests if r.path.endswith("event/track"))


async def test_an_erased_person_leaves_tiktok_and_our_store(
    db_url: str, make_service: ServiceFactory
) -> None:
    """Rule and list audiences lose the person at TikTok (REMOVE jobs); no row holds their
    hashes, click id or IP; their queued event is delivered without them; others stay."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    quinn = {"email": "quinn@example.com"}
    pat_event = {"user": PERSON, "context": PAGE}
    await track(
        service,
        {**purchase("p1", PERSON), **pat_event},
        {**purchase("p2", {"phone": PERSON["phone"]}), "context": PAGE},
        purchase("q1", quinn),
    )
    await service.settle()
    rule = await create(service, "Buyers", rule={"event_type": "CompletePayment"})
    listed = await create(service, "Holders")
    rows = [[e] for e in [PERSON["email"], *emails(1000)]]
    await sync(service, listed["id"], "APPEND", ["EMAIL_SHA256"], rows)
    tiktok_ids = [(await settled(service, a["id"]))["tiktok_audience_id"] for a in (rule, listed)]
    service.tiktok.faults.add("http_503", None)  # TikTok down: the next event stays queued
    await track(service, {**purchase("p3", PERSON), **pat_event})
    await eventually(
        lambda: track_calls(service) > 0 and service.tiktok.requests[-1].http_status == 503
    )

    response = await service.post("/privacy/erase", {"email": " PAT@example.com"})
    assert 202 == response.status_code, response.text
    assert {"identifiers": 3, "events": 3, "click_ids": 2, "audiences": 2} == response.json()[
        "removed"
    ]
    tried = track_calls(service)
    await eventually(lambda: track_calls(service) >= tried + 2)  # retried since: stripped
    service.tiktok.faults.clear()
    await service.settle()
    for audience in (rule, listed):
        await settled(service, audience["id"])

    pat = {hash_email(PERSON["email"]), hash_phone(PERSON["phone"], None)}
    assert {hash_email(quinn["email"])} == service.tiktok.audience_members(tiktok_ids[0])
    held = service.tiktok.audience_members(tiktok_ids[1])
    assert (1000, set()) == (len(held), pat & held)
    [late] = [e for e in service.tiktok.delivered_events() if e.event_id == "p3"]
    assert ({}, "https://shop.example/checkout") == (
        {k: v for k, v in late.raw.get("user", {}).items() if k != "locale"},
        late.raw["page"]["url"],
    )
    text = stored_text(service)
    gone = [*pat, hash_external_id(PERSON["external_id"]), "E.C.P.pat", "203.0.113.9"]
    assert [] == [value for value in gone if value in text]
    assert hash_email(quinn["email"]) in text  # the others' events are untouched
    refresh = await service.post(f"/audiences/{rule['id']}/refresh")
    assert 1 == refresh.json()["segment"]["people"]


async def test_erasure_requests_are_checked(make_service: ServiceFactory) -> None:
    """Unknown fields, a bad email, nobody named: 422 naming the field; an events key: 403;
    somebody we never saw: 202 with nothing removed."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)

    async def erase(body: Any, **kw: Any) -> tuple[int, Any]:
        response = await service.post("/privacy/erase", body, **kw)
        return response.status_code, response.json()

    assert (422, "name") == _field(await erase({"name": "Pat"}))
    assert (422, "email") == _field(await erase({"email": "not-an-email"}))
    assert (422, "body") == _field(await erase({}))
    status, body = await erase({"external_id": "u-nobody", "phone": "+40721000000"})
    assert (202, {"identifiers": 2, "events": 0, "click_ids": 0, "audiences": 0}) == (
        status,
        body["removed"],
    )
    key = await service.container.keys.create("shop", frozenset({"events"}))
    headers = {"Authorization": f"Bearer {key}"}
    assert 403 == (await erase({"email": "pat@example.com"}, headers=headers))[0]


def _field(answer: tuple[int, Any]) -> tuple[int, str]:
    status, body = answer
    return status, body["errors"][0]["field"]


class EraseDuringScan(SqlStore):
    """The real store; an erasure may be slipped in right after a refresh read the events."""

    erase: Any = None

    async def scan_rule_events(self, *args: Any, **kw: Any) -> int:
        read = await super().scan_rule_events(*args, **kw)
        erase, self.erase = self.erase, None
        if erase is not None:
            await erase()
        return read


async def test_a_refresh_that_read_an_erased_person_does_not_bring_them_back(
    db_url: str, make_service: ServiceFactory
) -> None:
    """The erasure lands between a refresh's reading and its queueing: the refresh is computed
    again from the stripped events, so TikTok ends without the person."""
    service = await make_service(
        db_url, tiktok_advertiser_id=ADVERTISER, store_class=EraseDuringScan
    )
    quinn = {"email": "quinn@example.com"}
    await track(service, purchase("p1", PERSON), purchase("q1", quinn))
    rule = await create(service, "Buyers", rule={"event_type": "CompletePayment"})
    tiktok_id = (await settled(service, rule["id"]))["tiktok_audience_id"]
    store = service.container.store
    assert isinstance(store, EraseDuringScan)
    store.erase = lambda: service.container.erasure.erase({"phone": PERSON["phone"]})
    refresh = await service.post(f"/audiences/{rule['id']}/refresh")
    assert (202, 1) == (refresh.status_code, refresh.json()["segment"]["people"])
    await settled(service, rule["id"])
    assert {hash_email(quinn["email"])} == service.tiktok.audience_members(tiktok_id)
