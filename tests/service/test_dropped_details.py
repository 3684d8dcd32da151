"""Events with a mistyped identifier or no page, end to end: accepted with warnings, delivered
to the emulator without what was dropped; TIKTOK_ADS_STRICT_USER_DATA refuses them instead."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from tests.service.conftest import PIXEL, SEED_EVENT, Service, ServiceFactory

from tiktok_ads.entrypoints.api.app import PREFIX

NOT_AN_EMAIL = "not an email address (expected name@domain.tld)"
NOT_A_URL = "not an absolute http(s) URL of at most 2048 characters"
TTP = "2F7h37YkS1j57AYSKTI7IHhJPYH"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def seed_integration_example() -> dict[str, Any]:
    """The body of the seed's PHP `TikTokEventService::trackPurchase`, as Laravel encodes it
    (decimals as strings, ids as integers): user data hashed, ttclid and ttp in context."""
    return {
        "event_type": "CompletePayment",
        "event_id": "purchase_1001",
        "event_time": int(time.time()),
        "user": {
            "email": sha("customer@example.com"),
            "phone": sha("+40721234567"),
            "external_id": sha("456"),
        },
        "properties": {
            "value": "150.00",
            "currency": "EUR",
            "contents": [
                {
                    "content_id": 789,
                    "content_name": "Concert VIP Pass",
                    "quantity": 2,
                    "price": "75.00",
                }
            ],
        },
        "context": {"ttclid": "E.C.P.fromphp", "ttp": TTP},
    }


async def test_seed_integration_example_is_delivered_with_click_id_and_cookie(
    service: Service,
) -> None:
    """The seed's own example (no page_url) answers 202 and reaches TikTok with user.ttclid and
    user.ttp, and no page."""
    response = await service.post("/events", seed_integration_example())
    assert (202, "queued") == (response.status_code, response.json()["status"])
    assert "warnings" not in response.json()
    await service.settle()
    (sent,) = service.tiktok.delivered_events(pixel_code=PIXEL)
    assert ("E.C.P.fromphp", TTP) == (sent.raw["user"]["ttclid"], sent.raw["user"]["ttp"])
    assert "page" not in sent.raw
    view = (await service.get("/events/purchase_1001")).json()
    expected = ("delivered", ["email", "phone", "external_id", "ttclid", "ttp"])
    assert expected == (view["status"], view["match_keys"])


async def test_mistyped_email_costs_only_the_email(service: Service) -> None:
    """A purchase with a mistyped email answers 202 with a warning naming user.email; TikTok
    gets it without the email, and the match keys say so."""
    event = {**SEED_EVENT, "user": {**SEED_EVENT["user"], "email": "customer@example"}}
    response = await service.post("/events", event)
    body = response.json()
    assert (202, "queued") == (response.status_code, body["status"])
    assert [{"field": "user.email", "message": NOT_AN_EMAIL}] == body["warnings"]
    await service.settle()
    (sent,) = service.tiktok.delivered_events(pixel_code=PIXEL)
    assert "email" not in sent.raw["user"]
    assert sha("+40721234567") == sent.raw["user"]["phone"]
    match_keys = (await service.get("/events/order_123")).json()["match_keys"]
    assert ["phone", "external_id", "ttclid", "ip", "user_agent"] == match_keys


async def test_page_url_that_is_no_web_address_is_not_sent(service: Service) -> None:
    """context.page_url "(" answers 202 with a warning naming it; TikTok gets no page."""
    event = {**SEED_EVENT, "context": {"page_url": "(", "ip": "203.0.113.7"}}
    body = (await service.post("/events", event)).json()
    assert [{"field": "context.page_url", "message": NOT_A_URL}] == body["warnings"]
    await service.settle()
    (sent,) = service.tiktok.delivered_events(pixel_code=PIXEL)
    assert "page" not in sent.raw


async def test_batch_results_carry_their_own_warnings(service: Service) -> None:
    """In /events/batch each result lists its own warnings; one without any has none."""
    typo = {**SEED_EVENT, "event_id": "b0", "user": {"email": ["a@b.co", "x@y", 5]}}
    clean = {**SEED_EVENT, "event_id": "b1"}
    response = await service.post("/events/batch", {"events": [typo, clean]})
    body = response.json()
    assert (200, True, 2) == (response.status_code, body["success"], body["accepted"])
    expected = [
        {"field": "user.email.1", "message": NOT_AN_EMAIL},
        {"field": "user.email.2", "message": "must be a string"},
    ]
    assert expected == body["results"][0]["warnings"]
    assert "warnings" not in body["results"][1]


async def test_dropped_fields_are_counted_without_list_indexes(service: Service) -> None:
    """tiktok_ads_dropped_fields_total counts by field name, list indexes stripped."""
    await service.post("/events", {**SEED_EVENT, "event_id": "m0", "user": {"email": "x"}})
    batch = [{**SEED_EVENT, "event_id": "m1", "user": {"email": ["a@b.co", "y", "z@"]}}]
    await service.post("/events/batch", {"events": batch})
    metrics = (await service.http.get("/metrics")).text
    assert 'tiktok_ads_dropped_fields_total{field="user.email"} 3.0' in metrics
    assert 'field="user.email.1"' not in metrics


async def test_strict_mode_refuses_bad_user_data_and_context(
    make_service: ServiceFactory,
) -> None:
    """TIKTOK_ADS_STRICT_USER_DATA=true: a mistyped email is 422 (40003), a bad page_url 422
    (40002), each naming the field; nothing is stored."""
    service = await make_service(tiktok_ads_strict_user_data=True)
    cases = [
        ({"user": {"email": "customer@example"}}, 40003, "user.email"),
        ({"context": {"page_url": "("}}, 40002, "context.page_url"),
    ]
    for change, code, field in cases:
        response = await service.post("/events", {**SEED_EVENT, **change})
        body = response.json()
        actual = (response.status_code, body["code"], body["errors"][0]["field"])
        assert (422, code, field) == actual
    assert {} == (await service.get("/stats")).json()["by_status"]


async def test_default_page_url_still_fills_a_missing_page(make_service: ServiceFactory) -> None:
    """TIKTOK_DEFAULT_PAGE_URL set: an event without page_url is sent with that page."""
    service = await make_service(tiktok_default_page_url="https://shop.example/box-office")
    await service.post("/events", seed_integration_example())
    await service.settle()
    (sent,) = service.tiktok.delivered_events(pixel_code=PIXEL)
    assert {"url": "https://shop.example/box-office"} == sent.raw["page"]


async def test_openapi_documents_warnings(service: Service) -> None:
    """The OpenAPI answers of /events and /events/batch have an optional `warnings` list."""
    spec = (await service.http.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for name in ("EventAccepted", "BatchResult"):
        assert "warnings" in schemas[name]["properties"]
        assert "warnings" not in schemas[name].get("required", [])
    answer = spec["paths"][PREFIX + "/events"]["post"]["responses"]["202"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/EventAccepted")
