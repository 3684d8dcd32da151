"""GET /funnel, /match-quality, /delivery, /timeline: the console's numbers as JSON."""

from __future__ import annotations

import time
from typing import Any

from tests.service.conftest import PIXEL, Service, ServiceFactory

from tiktok_ads.domain.delivery import DeliveryRecord, Outcome


def event(kind: str, event_id: str | None, user: dict[str, Any] | None = None, **more: Any) -> Any:
    body: dict[str, Any] = {"event_type": kind, "user": user or {}, **more}
    if event_id is not None:
        body["event_id"] = event_id
    return body


async def send(service: Service, *events: dict[str, Any]) -> None:
    answer = await service.post("/events/batch", {"events": list(events)})
    assert 0 == answer.json()["rejected"], answer.json()


async def test_funnel_counts_events_people_drop_off_and_revenue(
    make_service: ServiceFactory, db_url: str
) -> None:
    """Four steps by event time: events, distinct people (external_id, else email, else
    phone), drop-off in %, and CompletePayment revenue by currency."""
    service = await make_service(db_url)
    old = int(time.time()) - 10 * 86400  # outside the default 7 days
    await send(
        service,
        event("ViewContent", "v1", {"external_id": "u1"}),
        event("ViewContent", "v2", {"external_id": "u1"}),
        event("ViewContent", "v3", {"email": "b@example.com"}),
        event("ViewContent", "v4", {"phone": "+40721234567"}),
        event("ViewContent", "v5"),
        event("AddToCart", "a1", {"external_id": "u1"}),
        event("AddToCart", "a2", {"email": "b@example.com"}),
        event("InitiateCheckout", "i1", {"external_id": "u1"}),
        event(
            "CompletePayment",
            "p1",
            {"external_id": "u1"},
            properties={"value": 150.0, "currency": "EUR"},
        ),
        event("CompletePayment", "p0", event_time=old, properties={"value": 9, "currency": "EUR"}),
    )
    body = (await service.get("/funnel")).json()
    steps = [(s["event_type"], s["events"], s["people"], s["drop_off_pct"]) for s in body["steps"]]
    assert [
        ("ViewContent", 5, 3, None),
        ("AddToCart", 2, 2, 60.0),
        ("InitiateCheckout", 1, 1, 50.0),
        ("CompletePayment", 1, 1, 0.0),
    ] == steps
    assert [None, 33.3, 50.0, 0.0] == [s["people_drop_off_pct"] for s in body["steps"]]
    assert {"EUR": {"value": 150.0, "events": 1}} == body["revenue"]
    assert PIXEL == body["pixel_id"]
    wider = (await service.get("/funnel", params={"from": str(old - 60)})).json()
    assert [5, 2, 1, 2] == [s["events"] for s in wider["steps"]]


async def test_funnel_refuses_a_bad_range_naming_the_field(service: Service) -> None:
    """An unreadable date or a range ending before it starts → 422 naming `from`/`to`."""
    cases = [
        ({"from": "next tuesday"}, "from"),
        ({"to": "2026-13-45"}, "to"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ]
    for params, field in cases:
        answer = await service.get("/funnel", params=params)
        assert (422, field) == (answer.status_code, answer.json()["errors"][0]["field"]), params


async def test_funnel_of_an_unknown_pixel_is_404(service: Service) -> None:
    """A pixel we have no connection for answers 404, never an empty funnel."""
    answer = await service.get("/funnel", params={"pixel_id": "CNOSUCHPIXEL00000000"})
    assert 404 == answer.status_code


async def test_funnel_takes_dates_and_unix_seconds(service: Service) -> None:
    """`from`/`to` as dates (a `to` date includes its day) or Unix seconds give the same range."""
    by_date = await service.get("/funnel", params={"from": "2026-11-01", "to": "2026-11-02"})
    by_seconds = await service.get("/funnel", params={"from": "1793491200", "to": "1793664000"})
    assert ("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z") == (
        by_date.json()["from"],
        by_date.json()["to"],
    )
    assert (by_date.json()["from"], by_date.json()["to"]) == (
        by_seconds.json()["from"],
        by_seconds.json()["to"],
    )


async def test_match_quality_shares_score_and_advice(
    make_service: ServiceFactory, db_url: str
) -> None:
    """Per event type: the share of events with each key, the weighted score and advice on
    the key that would add most."""
    service = await make_service(db_url)
    context = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}
    await send(
        service,
        event("AddToCart", "a1", {"email": "a@example.com"}, context=context),
        event("AddToCart", "a2", {"email": "b@example.com", "ttp": "ttp-cookie"}),
        event("AddToCart", "a3", {"external_id": "u3"}, context={"ip": "203.0.113.8"}),
        event("AddToCart", "a4"),
        event("ViewContent", "v1", {"ttclid": "E.C.P.x", "email": "c@example.com"}),
    )
    body = (await service.get("/match-quality")).json()
    carts = next(e for e in body["event_types"] if e["event_type"] == "AddToCart")
    assert 4 == carts["events"]
    assert {
        "email": 50.0,
        "phone": 0.0,
        "external_id": 25.0,
        "ttclid": 0.0,
        "ttp": 25.0,
        "ip_user_agent": 25.0,
    } == carts["keys"]
    # (2.5 + 0.75) + (2.5 + 0.75) + 1 + 0 over 4 events: 1.875
    assert 1.9 == carts["score"]
    assert "poor" == carts["rating"]
    assert ["ttclid", "phone", "email"] == [a["key"] for a in carts["advice"]]
    views = next(e for e in body["event_types"] if e["event_type"] == "ViewContent")
    assert 5.5 == views["score"]
    assert 5 == body["overall"]["events"]


async def test_dedup_audit_tells_supplied_from_generated_event_ids(
    make_service: ServiceFactory, db_url: str
) -> None:
    """Events sent without an event_id count as generated here, the rest as the shop's."""
    service = await make_service(db_url)
    await send(
        service,
        event("CompletePayment", "order-1"),
        event("CompletePayment", None),
        event("ViewContent", None),
        event("ViewContent", None),
    )
    dedup = (await service.get("/match-quality")).json()["dedup"]
    assert (4, 1, 3, 25.0) == (
        dedup["events"],
        dedup["supplied"],
        dedup["generated"],
        dedup["supplied_pct"],
    )
    by_type = {d["event_type"]: (d["supplied"], d["generated"]) for d in dedup["by_event_type"]}
    assert {"CompletePayment": (1, 1), "ViewContent": (0, 2)} == by_type


async def record_requests(service: Service, latencies: list[float], code: int) -> None:
    now = time.time()
    for ms in latencies:
        record = DeliveryRecord(PIXEL, now, 3, 200, code, "m", "r", ms, "delivered")
        await service.container.store.settle(Outcome(now, code, "m", "r", delivery=record))


async def test_delivery_latency_percentiles_and_answers_by_code(
    make_service: ServiceFactory, db_url: str
) -> None:
    """p50/p95 of a pixel's request latencies (nearest rank) and its answers per code."""
    service = await make_service(db_url)
    await record_requests(service, [float(ms) for ms in range(100, 0, -1)], 0)
    await record_requests(service, [7.0, 7.0], 40100)
    body = (await service.get("/delivery")).json()
    (pixel,) = body["pixels"]
    # 102 latencies: 1..100 ms and 7 ms twice; rank 51 is 49 ms, rank 97 is 95 ms
    assert {"p50": 49.0, "p95": 95.0, "sample": 102} == pixel["latency_ms"]
    answers = [(a["code"], a["requests"], a["events"]) for a in pixel["answers"]]
    assert [(0, 100, 300), (40100, 2, 6)] == answers


async def test_timeline_counts_received_events_by_their_fate(service: Service) -> None:
    """The current hour holds every event just received: delivered, skipped or waiting."""
    await send(
        service,
        event("ViewContent", "t1"),
        event("ViewContent", "t2"),
        event("ViewContent", "t3", consent=False),
    )
    await service.settle()
    body = (await service.get("/timeline")).json()
    series = body["pixels"][PIXEL]
    assert 24 == len(body["buckets"]) == len(series["received"])
    now = {name: values[-1] for name, values in series.items()}
    assert {"received": 3, "delivered": 2, "failed": 0, "skipped": 1, "waiting": 0} == now
    days = (await service.get("/timeline", params={"span": "30d"})).json()
    assert 3 == days["pixels"][PIXEL]["received"][-1]
