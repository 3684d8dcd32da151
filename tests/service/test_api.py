"""The HTTP API end to end: real service and store, the emulator as TikTok."""

from __future__ import annotations

import copy
import hashlib
import time

from tests.service.conftest import AUTH, PIXEL, SEED_EVENT, TOKEN, Service, ServiceFactory

from tiktok_ads.entrypoints.api.app import PREFIX


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_seed_event_is_queued_then_delivered_with_tiktoks_request_id(
    service: Service,
) -> None:
    """POST /events answers 202 queued; the event reaches TikTok hashed and shows delivered."""
    response = await service.post("/events", SEED_EVENT)
    assert 202 == response.status_code
    body = response.json()
    assert {
        "success": True,
        "event_id": "order_123",
        "status": "queued",
        "code": 0,
        "message": "OK",
    }.items() <= body.items()
    await service.settle()
    view = (await service.get("/events/order_123")).json()
    assert "delivered" == view["status"]
    assert 34 == len(view["tiktok"]["request_id"])
    (sent,) = service.tiktok.delivered_events(pixel_code=PIXEL)
    user = sent.raw["user"]
    assert sha("customer@example.com") == user["email"]
    assert sha("+40721234567") == user["phone"]
    assert sha("user_456") == user["external_id"]
    assert ("E.C.P.abc", "203.0.113.7", "Mozilla/5.0") == (
        user["ttclid"],
        user["ip"],
        user["user_agent"],
    )
    assert "ticket_789" == sent.raw["properties"]["contents"][0]["content_id"]


async def test_repeat_is_a_duplicate_and_not_sent_again(service: Service) -> None:
    """The same pixel+event+event_id within 48 h answers 200 duplicate; TikTok sees it once."""
    assert 202 == (await service.post("/events", SEED_EVENT)).status_code
    again = await service.post("/events", SEED_EVENT)
    assert (200, "duplicate") == (again.status_code, again.json()["status"])
    await service.settle()
    assert 1 == len(service.tiktok.delivered_events(pixel_code=PIXEL))


async def test_wait_returns_tiktoks_verdict(service: Service) -> None:
    """?wait=5 answers with TikTok's code, message and request_id once delivered."""
    response = await service.post("/events", SEED_EVENT, params={"wait": 5})
    body = response.json()
    assert (200, "delivered", 0, True) == (
        response.status_code,
        body["status"],
        body["code"],
        body["success"],
    )
    assert body["request_id"]


async def test_denied_consent_is_skipped_and_nothing_leaves(service: Service) -> None:
    """consent=false: 202 skipped with a reason, no user data stored, nothing sent."""
    event = {**SEED_EVENT, "event_id": "c1", "consent": {"ad_user_data": "denied"}}
    body = (await service.post("/events", event)).json()
    assert ("skipped", "consent denied: ad_user_data") == (body["status"], body["reason"])
    await service.settle()
    view = (await service.get("/events/c1")).json()
    assert ("skipped", [], None) == (view["status"], view["match_keys"], view["value"])
    assert [] == service.tiktok.delivered_events()


async def test_switched_off_event_type_is_skipped(make_service: ServiceFactory) -> None:
    """TIKTOK_TRACK_ADD_TO_CART=false: AddToCart answers skipped, CompletePayment still goes."""
    service = await make_service(tiktok_track_add_to_cart=False)
    body = (await service.post("/events", {"event_type": "AddToCart", "event_id": "a"})).json()
    assert "skipped" == body["status"]
    assert "TIKTOK_TRACK_ADD_TO_CART" in body["reason"]
    assert 202 == (await service.post("/events", SEED_EVENT)).status_code
    await service.settle()
    assert "delivered" == (await service.get("/events/order_123")).json()["status"]
    assert ["order_123"] == [e.event_id for e in service.tiktok.delivered_events()]


async def test_batch_accepts_the_valid_and_reports_the_invalid_by_index(service: Service) -> None:
    """One bad event in a batch is rejected alone, named by index and field."""
    good = {**SEED_EVENT, "event_id": "b0"}
    bad = {
        "event_type": "AddToCart",
        "event_id": "b1",
        "properties": {"currency": "XYZ", "value": 1},
    }
    response = await service.post("/events/batch", {"events": [good, bad, good]})
    body = response.json()
    assert (200, False, 2, 1) == (
        response.status_code,
        body["success"],
        body["accepted"],
        body["rejected"],
    )
    assert ["queued", "rejected", "duplicate"] == [r["status"] for r in body["results"]]
    assert "properties.currency" == body["results"][1]["errors"][0]["field"]


async def test_batch_over_1000_is_refused_whole(service: Service) -> None:
    """More than 1,000 events: 413 and nothing stored."""
    events = [{"event_type": "ViewContent", "event_id": f"v{i}"} for i in range(1001)]
    response = await service.post("/events/batch", {"events": events})
    assert (413, False) == (response.status_code, response.json()["success"])
    assert {} == (await service.get("/stats")).json()["by_status"]


async def test_bad_input_gets_a_clear_error_naming_the_field(service: Service) -> None:
    """Wrong types, broken JSON, unknown pixel: 422 with our envelope, never a 500."""
    cases = [
        (
            {**SEED_EVENT, "properties": {"contents": [{"content_id": "x", "quantity": -1}]}},
            40002,
            "properties.contents.0.quantity",
        ),
        ({**SEED_EVENT, "event_time": int(time.time()) + 3600}, 40002, "event_time"),
        ({**SEED_EVENT, "pixel_id": "CUNKNOWN"}, 40001, "pixel_id"),
        ([1, 2], 40002, "body"),
    ]
    for body, code, field in cases:
        response = await service.post("/events", body)
        payload = response.json()
        assert (422, False, code) == (response.status_code, payload["success"], payload["code"]), (
            body
        )
        assert field == payload["errors"][0]["field"]
    broken = await service.http.post(
        "/api/integrations/tiktok-ads/events",
        content=b"{nope",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert (422, "body") == (broken.status_code, broken.json()["errors"][0]["field"])


async def test_oversized_body_is_refused_from_content_length(make_service: ServiceFactory) -> None:
    """A body above TIKTOK_ADS_MAX_BODY_BYTES answers 413 before it is read."""
    service = await make_service(tiktok_ads_max_body_bytes=2048)
    event = {**SEED_EVENT, "properties": {"description": "x" * 4000}}
    response = await service.post("/events", event)
    assert (413, "body") == (response.status_code, response.json()["errors"][0]["field"])


async def test_api_keys_guard_every_route(service: Service) -> None:
    """Every operation under the prefix in our OpenAPI answers 401 without a key and with a
    wrong one; an events key cannot connect pixels (403); health needs no key."""
    spec = (await service.http.get("/openapi.json")).json()
    operations = [
        (method.upper(), path.replace("{event_id}", "x").replace("{id}", "1"))
        for path, methods in spec["paths"].items()
        if path.startswith(PREFIX)
        for method in methods
    ]
    assert len(operations) >= 10
    refused: list[tuple[str, str, int, int]] = []
    for method, path in operations:
        missing = await service.http.request(method, path)
        wrong = await service.http.request(method, path, headers={"Authorization": "Bearer nope"})
        refused.append((method, path, missing.status_code, wrong.status_code))
    assert [(m, p, 401, 401) for m, p, _, _ in refused] == refused
    key = await service.container.keys.create("shop", frozenset({"events"}))
    headers = {"Authorization": f"Bearer {key}"}
    assert 202 == (await service.post("/events", SEED_EVENT, headers=headers)).status_code
    forbidden = await service.post(
        "/connect", {"pixel_id": "X", "access_token": TOKEN}, headers=headers
    )
    assert 403 == forbidden.status_code
    assert 200 == (await service.http.get("/healthz")).status_code


async def test_connect_second_pixel_and_route_events_by_pixel_id(service: Service) -> None:
    """POST /connect adds a pixel; events naming it go there; /connection shows both."""
    other = "CPIXELTEST0000000002"
    response = await service.post(
        "/connect", {"pixel_id": other, "access_token": TOKEN, "advertiser_id": "123"}
    )
    assert (200, other) == (response.status_code, response.json()["pixel_id"])
    assert "access_token" not in response.text and TOKEN not in response.text
    await service.post("/events", {**SEED_EVENT, "pixel_id": other})
    await service.settle()
    assert 1 == len(service.tiktok.delivered_events(pixel_code=other))
    default = (await service.get("/connection")).json()
    assert (PIXEL, True, True) == (default["pixel_id"], default["connected"], default["default"])
    listed = (await service.get("/connections")).json()["connections"]
    assert {PIXEL, other} == {c["pixel_id"] for c in listed}


async def test_test_mode_puts_test_event_code_on_every_request(
    make_service: ServiceFactory,
) -> None:
    """TIKTOK_TEST_MODE: requests carry the top-level test_event_code."""
    service = await make_service(tiktok_test_mode=True, tiktok_test_event_code="TEST12345")
    await service.post("/events", SEED_EVENT)
    await service.settle()
    (sent,) = service.tiktok.delivered_events(include_test=True)
    assert "TEST12345" == sent.test_event_code


async def test_click_id_follows_the_buyer_to_a_later_event(make_service: ServiceFactory) -> None:
    """A box-office purchase without ttclid or page is attributed to the user's earlier click."""
    service = await make_service(tiktok_default_page_url="https://shop.example/box-office")
    page = {"page_url": "https://s.example/?ttclid=E.C.P.zz"}
    view = {"event_type": "ViewContent", "event_id": "v", "user": {"external_id": "u9"}}
    await service.post("/events", {**view, "context": page})
    sale = {"event_type": "CompletePayment", "event_id": "p", "user": {"external_id": "u9"}}
    await service.post("/events", sale)
    await service.settle()
    sent = {e.event_id: e.raw for e in service.tiktok.delivered_events()}
    assert "E.C.P.zz" == sent["p"]["user"]["ttclid"]
    assert {"url": "https://shop.example/box-office"} == sent["p"]["page"]
    assert ["external_id", "ttclid"] == (await service.get("/events/p")).json()["match_keys"]


async def test_stats_error_log_and_metrics(service: Service) -> None:
    """/stats counts by status, /events?status= lists, /metrics speaks Prometheus."""
    await service.post("/events", SEED_EVENT)
    await service.post("/events", SEED_EVENT)
    await service.settle()
    stats = (await service.get("/stats")).json()
    assert {"delivered": 1, "duplicate": 1} == stats["by_status"]
    listed = (await service.get("/events", params={"status": "delivered"})).json()["events"]
    assert ["order_123"] == [e["event_id"] for e in listed]
    metrics = (await service.http.get("/metrics")).text
    assert (
        f'tiktok_events_delivered_total{{event_type="CompletePayment",pixel_id="{PIXEL}"}} 1.0'
        in metrics
    )
    spec = (await service.http.get("/openapi.json")).json()
    assert "EventIn" in spec["components"]["schemas"]
    assert [{"apiKey": []}] == spec["paths"][PREFIX + "/events"]["post"]["security"]
    assert "wait" in [p["name"] for p in spec["paths"][PREFIX + "/events"]["post"]["parameters"]]


async def test_unknown_event_and_wrong_query_are_404_and_422(service: Service) -> None:
    """Unknown event_id → 404; a bad query parameter → 422 naming it."""
    missing = await service.get("/events/nope")
    assert (404, False) == (missing.status_code, missing.json()["success"])
    bad = await service.post("/events", copy.deepcopy(SEED_EVENT), params={"wait": "soon"})
    assert (422, "query.wait") == (bad.status_code, bad.json()["errors"][0]["field"])
