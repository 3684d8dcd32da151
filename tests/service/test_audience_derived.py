"""Lookalikes, exclusion lists applied to ad groups, partner segments, and bad requests."""

from __future__ import annotations

from typing import Any

from tests.service.audience_support import (
    ADVERTISER,
    audience_calls,
    create,
    emails,
    settled,
    sync,
)
from tests.service.conftest import ServiceFactory

from tiktok_ads.domain.normalize import hash_email, hash_phone
from tiktok_ads.entrypoints.api.app import PREFIX

LOOKALIKE = {"custom_audience_name": "Like holders", "location_ids": ["6252001"]}


def field_of(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["field"])


async def test_a_lookalike_of_a_synced_audience_is_made_at_tiktok(
    make_service: ServiceFactory,
) -> None:
    """201 with our id; TikTok gets lookalike/create/ naming the source's TikTok id."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    source = await create(service)
    await sync(service, source["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(120)])
    source_view = await settled(service, source["id"])
    body = {**LOOKALIKE, "audience_size": "narrow", "include_source": True}
    response = await service.post(f"/audiences/{source['id']}/lookalike", body)
    assert 201 == response.status_code, response.text
    view = await settled(service, response.json()["id"])
    assert ("ready", "LOOKALIKE", source["id"]) == (
        view["status"],
        view["audience_type"],
        view["lookalike"]["source_id"],
    )
    [request] = [r for r in service.tiktok.requests if r.path.endswith("lookalike/create")]
    spec = request.json["lookalike_spec"]
    assert (source_view["tiktok_audience_id"], "NARROW", True) == (
        spec["source_audience_id"],
        spec["audience_size"],
        spec["include_source"],
    )
    assert 120 * 10 + 120 == view["cover_num"]  # the emulator's reach for NARROW + source
    again = await service.post(f"/audiences/{source['id']}/lookalike", body)
    assert (200, view["id"]) == (again.status_code, again.json()["id"])


async def test_lookalikes_need_a_source_of_100_that_is_no_lookalike(
    make_service: ServiceFactory,
) -> None:
    """A source under 100 users or not at TikTok, or a lookalike as source: 422 before TikTok."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    small = await create(service, "Small")
    too_early = await service.post(f"/audiences/{small['id']}/lookalike", LOOKALIKE)
    await sync(service, small["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(99)])
    await settled(service, small["id"])
    too_small = await service.post(f"/audiences/{small['id']}/lookalike", LOOKALIKE)
    assert [(422, "id"), (422, "id")] == [
        (r.status_code, field_of(r.json())) for r in (too_early, too_small)
    ]
    assert "holds 99" in too_small.json()["message"]
    big = await create(service, "Big")
    await sync(service, big["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(100)])
    await settled(service, big["id"])
    lookalike = (await service.post(f"/audiences/{big['id']}/lookalike", LOOKALIKE)).json()
    await settled(service, lookalike["id"])
    second = await service.post(
        f"/audiences/{lookalike['id']}/lookalike", {**LOOKALIKE, "custom_audience_name": "L2"}
    )
    assert (422, "id") == (second.status_code, field_of(second.json()))
    assert "lookalike" in second.json()["message"]
    calls = [c for c in audience_calls(service) if c.endswith("lookalike/create")]
    assert 1 == len(calls)


async def test_an_audience_applied_as_exclusion_to_ad_groups(make_service: ServiceFactory) -> None:
    """apply Exclude queued right after the first sync: applied once the audience exists."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    holders = await create(service)
    await sync(service, holders["id"], "APPEND", ["EMAIL_SHA256"], [[e] for e in emails(3)])
    body = {"adgroup_ids": ["1800001", "1800002"], "usage_mode": "Exclude"}
    response = await service.post(f"/audiences/{holders['id']}/apply", body)
    assert 202 == response.status_code, response.text
    view = await settled(service, holders["id"])
    audience = service.tiktok.audiences.audiences[view["tiktok_audience_id"]]
    assert {"1800001": "Exclude", "1800002": "Exclude"} == audience.usages
    off = {"adgroup_ids": ["1800001"], "action_mode": "Disconnect"}
    await service.post(f"/audiences/{holders['id']}/apply", off)
    await settled(service, holders["id"])
    assert {"1800002": "Exclude"} == audience.usages
    missing_mode = await service.post(f"/audiences/{holders['id']}/apply", {"adgroup_ids": ["1"]})
    assert (422, "usage_mode") == (missing_mode.status_code, field_of(missing_mode.json()))


async def test_a_segment_audience_is_kept_with_mappings_of_at_most_1000_users(
    db_url: str, make_service: ServiceFactory
) -> None:
    """backend "segment": created with segment/audience/, ids added and deleted in requests of
    ≤1,000 users, one id per user; TikTok ends with exactly the ids."""
    service = await make_service(db_url, tiktok_advertiser_id=ADVERTISER)
    row, _ = await service.container.store.create_audience(
        advertiser_id=ADVERTISER,
        name="Segment",
        audience_type="CUSTOMER_FILE",
        source="list",
        backend="segment",
        status="pending",
        now=0.0,
    )
    first, second = emails(1500), [*emails(1400), "+40721234567"]
    schema = ["EMAIL_SHA256", "PHONE_SHA256"]
    await sync(service, str(row.id), "APPEND", schema, [[e, ""] for e in first])
    tiktok_id = (await settled(service, str(row.id)))["tiktok_audience_id"]
    rows = [[e, ""] for e in second[:-1]] + [["", second[-1]]]
    await sync(service, str(row.id), "REPLACE", schema, rows)
    view = await settled(service, str(row.id))
    mappings = [r.json for r in service.tiktok.requests if r.path.endswith("segment/mapping")]
    assert [("add", 1000), ("add", 500), ("add", 1), ("delete", 100)] == [
        (m["action"], len(m["batch_data"])) for m in mappings
    ]
    expected = {hash_email(e) for e in second[:-1]} | {hash_phone("+40721234567", None)}
    held = service.tiktok.audience_members(tiktok_id)
    assert expected == held
    assert (1401, 1401) == (view["member_count"], len(held))


async def test_bad_sync_bodies_are_refused_naming_the_field(make_service: ServiceFactory) -> None:
    """Unknown or repeated id types, rows of the wrong length, unknown audience: 422/404."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    path = f"/audiences/{audience['id']}/sync"

    async def refused(body: object, where: str = path) -> tuple[int, str]:
        response = await service.post(where, body)
        return response.status_code, field_of(response.json())

    base = {"action": "APPEND", "id_schema": ["EMAIL_SHA256"], "members": [["a@b.co"]]}
    assert (422, "id_schema.1") == await refused(
        {**base, "id_schema": ["EMAIL_SHA256", "FAX_SHA256"]}
    )
    assert (422, "id_schema.1") == await refused(
        {**base, "id_schema": ["email_sha256", "EMAIL_SHA256"]}
    )
    assert (422, "members.1") == await refused({**base, "members": [["a@b.co"], ["x", "y"]]})
    assert (422, "action") == await refused({**base, "action": "MERGE"})
    assert (422, "body") == await refused([1, 2])
    missing = await service.post("/audiences/999/sync", base)
    assert 404 == missing.status_code
    assert 404 == (await service.get("/audiences/nope")).status_code


async def test_tiktoks_cap_of_400_audiences_is_checked_here_first(
    make_service: ServiceFactory,
) -> None:
    """At 400 audiences a new name is refused naming advertiser_id; an existing one is still
    answered (200)."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    for i in range(400):
        await service.container.store.create_audience(
            advertiser_id=ADVERTISER,
            name=f"A{i}",
            audience_type="CUSTOMER_FILE",
            source="list",
            backend="file",
            status="pending",
            now=0.0,
        )
    new = await service.post(
        "/audiences", {"advertiser_id": ADVERTISER, "custom_audience_name": "B"}
    )
    old = await service.post(
        "/audiences", {"advertiser_id": ADVERTISER, "custom_audience_name": "A7"}
    )
    assert [(422, "advertiser_id"), 200] == [
        (new.status_code, field_of(new.json())),
        old.status_code,
    ]


async def test_reads_need_the_events_right_writes_admin_and_openapi_shows_it_all(
    make_service: ServiceFactory,
) -> None:
    """An events key reads audiences but may not change them (403); every route and body is
    in the OpenAPI document."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    reader = {
        "Authorization": f"Bearer {await service.container.keys.create('r', frozenset({'events'}))}"
    }
    read = await service.get(f"/audiences/{audience['id']}", headers=reader)
    write = await service.post(f"/audiences/{audience['id']}/apply", {}, headers=reader)
    assert (200, 403) == (read.status_code, write.status_code)
    spec = (await service.http.get("/openapi.json")).json()
    paths = {p.removeprefix(PREFIX) for p in spec["paths"] if "audiences" in p}
    assert {
        "/audiences",
        "/audiences/{audience_id}",
        "/audiences/{audience_id}/sync",
        "/audiences/{audience_id}/upload",
        "/audiences/{audience_id}/lookalike",
        "/audiences/{audience_id}/apply",
        "/audiences/{audience_id}/refresh",
    } == paths
    assert {"AudienceIn", "SyncIn", "LookalikeIn", "ApplyIn"} <= set(spec["components"]["schemas"])
    upload = spec["paths"][PREFIX + "/audiences/{audience_id}/upload"]["post"]["requestBody"]
    assert {"text/csv", "multipart/form-data"} == set(upload["content"])
