"""Scripted faults, in-process: gateway pages, error codes, latency, and event rejection rules."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from tests.emulator.emulator_support import API, call, set_path, track_body, web_event

from tiktok_ads.emulator import DroppedConnection, EmulatorState, FaultPlan


async def _post_track(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(f"{API}/event/track/", json=track_body())


async def test_http_503_is_an_nginx_html_page(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A 503 fault answers HTTP 503 with nginx's HTML, stores nothing, then is used up."""
    state.faults.add("http_503")
    failed = await _post_track(client)
    assert (503, "text/html") == (failed.status_code, failed.headers["content-type"])
    assert "<title>503 Service Temporarily Unavailable</title>" in failed.text
    assert "<center>nginx</center>" in failed.text
    assert [] == state.events
    assert 0 == (await _post_track(client)).json()["code"]


async def test_http_500_is_an_html_page(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """A 500 fault answers HTTP 500 with an HTML body."""
    state.faults.add("http_500")
    failed = await _post_track(client)
    assert 500 == failed.status_code
    assert "<h1>500 Internal Server Error</h1>" in failed.text


async def test_code_40100_is_an_http_200_envelope(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A 40100 fault: HTTP 200, code 40100, TikTok's message, a request id."""
    state.faults.add("code_40100")
    response = await _post_track(client)
    body = response.json()
    assert (200, 40100, "Too many requests. Please retry in some time.") == (
        response.status_code,
        body["code"],
        body["message"],
    )
    assert 34 == len(body["request_id"])
    assert (40100, "code_40100") == (state.requests[0].code, state.requests[0].fault)


async def test_code_50000_is_a_system_error(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A 50000 fault: HTTP 200, code 50000."""
    state.faults.add("code_50000")
    body = (await _post_track(client)).json()
    assert (50000, "System error.") == (body["code"], body["message"])


async def test_code_20001_is_partial_success_with_the_events_received(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A 20001 fault: HTTP 200, code 20001, "Partial success."; the events still count."""
    state.faults.add("code_20001")
    body = track_body(web_event(event_id="a"), web_event(event_id="b"))
    response = await client.post(f"{API}/event/track/", json=body)
    envelope = response.json()
    assert (200, 20001, "Partial success.", 34) == (
        response.status_code,
        envelope["code"],
        envelope["message"],
        len(envelope["request_id"]),
    )
    assert (["a", "b"], 2) == ([e.event_id for e in state.delivered_events()], state.event_count())
    assert [envelope["request_id"]] * 2 == [event.request_id for event in state.events]
    assert (20001, "code_20001") == (state.requests[0].code, state.requests[0].fault)
    assert 0 == (await _post_track(client)).json()["code"]


async def test_code_20001_does_not_hide_a_refusal(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A batch TikTok would refuse is still refused (40002) while a 20001 fault is pending."""
    state.faults.add("code_20001")
    bad = track_body(web_event(event_time="yesterday"))
    assert 40002 == (await call(client, "event/track/", bad))["code"]
    assert [] == state.events


@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        ("code_40700", 40700, "Internal service timeout."),
        ("code_40105", 40105, "Access token is incorrect or has been revoked."),
    ],
)
async def test_code_faults_answer_http_200_and_keep_nothing(
    client: httpx.AsyncClient, state: EmulatorState, kind: str, code: int, message: str
) -> None:
    """40700 (transient, retried by peers) and 40105 (bad token): HTTP 200 envelopes, no events."""
    state.faults.add(kind)
    response = await _post_track(client)
    assert (200, code, message) == (
        response.status_code,
        response.json()["code"],
        response.json()["message"],
    )
    assert ([], kind) == (state.events, state.requests[0].fault)


async def test_faults_are_consumed_in_order(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Two 503s then one 40100, then normal answers."""
    state.faults.add("http_503", count=2)
    state.faults.add("code_40100")
    statuses = []
    for _ in range(4):
        response = await _post_track(client)
        statuses.append(
            (response.status_code, response.json()["code"] if response.status_code == 200 else None)
        )
    assert [(503, None), (503, None), (200, 40100), (200, 0)] == statuses
    assert 1 == len(state.events)


async def test_endless_fault_lasts_until_cleared(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """count=None keeps failing until clear()."""
    state.faults.add("http_503", count=None)
    assert [503, 503, 503] == [(await _post_track(client)).status_code for _ in range(3)]
    state.faults.clear()
    assert 200 == (await _post_track(client)).status_code


async def test_faults_only_hit_their_path(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """A fault aimed at segment/ leaves event/track alone and waits for its own path."""
    state.faults.add("http_503", path="segment/")
    assert 200 == (await _post_track(client)).status_code
    segment = await client.post(
        f"{API}/segment/audience/",
        json={"advertiser_id": "1", "action": "create", "custom_audience_name": "x"},
    )
    assert 503 == segment.status_code


async def test_latency_delays_the_answer(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """A latency fault answers normally after the given milliseconds."""
    state.faults.add("latency", ms=150)
    started = time.perf_counter()
    response = await _post_track(client)
    assert 0 == response.json()["code"]
    assert 0.15 <= time.perf_counter() - started


async def test_late_answer_is_handled_at_once_and_answered_later(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """late_answer: TikTok has the events while its answer is still held back."""
    state.faults.add("late_answer", ms=300)
    started = time.perf_counter()
    answer = asyncio.ensure_future(_post_track(client))
    for _ in range(200):  # the handler runs at once; its answer waits
        if state.events:
            break
        await asyncio.sleep(0.005)
    assert (1, False) == (len(state.events), answer.done())
    assert 0 == (await answer).json()["code"]
    assert 0.3 <= time.perf_counter() - started


async def test_drop_in_process_is_an_httpx_transport_error(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Without a socket, a drop surfaces as httpx's RemoteProtocolError (a TransportError)."""
    state.faults.add("drop")
    with pytest.raises(httpx.TransportError) as caught:
        await _post_track(client)
    assert isinstance(caught.value, DroppedConnection)
    assert [] == state.events
    assert (0, "drop") == (state.requests[0].http_status, state.requests[0].fault)


async def test_rejected_event_refuses_the_batch_naming_its_index(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """reject_events: the batch holding event_id bad-42 fails whole, naming data.<i>.event_id."""
    state.faults.reject_events({"event_id": "bad-42"})
    body = track_body(
        web_event(event_id="ok-1"), web_event(event_id="bad-42"), web_event(event_id="ok-2")
    )
    envelope = await call(client, "event/track/", body)
    assert (40002, "Invalid value for data.1.event_id: value rejected.") == (
        envelope["code"],
        envelope["message"],
    )
    assert [] == state.events
    clean = await call(client, "event/track/", track_body(web_event(event_id="ok-3")))
    assert 0 == clean["code"]


async def test_rejection_without_index_forces_bisection(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """name_index=False gives a message that does not say which event was bad."""
    state.faults.reject_events({"event_id": "bad-42"}, name_index=False)
    body = track_body(web_event(event_id="ok-1"), web_event(event_id="bad-42"))
    envelope = await call(client, "event/track/", body)
    assert (40002, "Invalid value for event_id: value rejected.") == (
        envelope["code"],
        envelope["message"],
    )


async def test_rejection_matches_dotted_fields_and_stands_until_cleared(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """{"properties.currency": "USD"} rejects every batch with a USD event until cleared."""
    state.faults.reject_events({"properties.currency": "USD"}, problem="not allowed here.")
    usd = web_event(properties={"currency": "USD", "value": 1.0})
    for _ in range(2):
        envelope = await call(client, "event/track/", track_body(web_event(event_id="eur"), usd))
        assert (
            "Invalid value for data.1.properties.currency: not allowed here." == envelope["message"]
        )
    state.faults.clear()
    assert 0 == (await call(client, "event/track/", track_body(usd)))["code"]


@pytest.mark.parametrize(
    ("name_index", "message"),
    [
        (True, "Batch.1.properties.contents.0.content_id: Not a valid string"),
        (False, "properties.contents.0.content_id: Not a valid string"),
    ],
)
async def test_rejection_can_name_the_event_as_batch_i(
    client: httpx.AsyncClient, state: EmulatorState, name_index: bool, message: str
) -> None:
    """batch_prefix words the refusal as seen in the wild: `Batch.<i>.<field>: <problem>`."""
    state.faults.reject_events(
        {"properties.contents.0.content_id": "bad-sku"},
        problem="Not a valid string",
        name_index=name_index,
        batch_prefix=True,
    )
    bad = set_path(web_event(event_id="b"), "properties.contents.0.content_id", "bad-sku")
    envelope = await call(client, "event/track/", track_body(web_event(event_id="a"), bad))
    assert (40002, message) == (envelope["code"], envelope["message"])
    assert [] == state.events


async def test_rejection_can_answer_http_400(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Some TikTok reports show 40002 with HTTP 400; a rule can reproduce that."""
    state.faults.reject_events({"event_id": "order-1"}, http_status=400)
    response = await _post_track(client)
    assert (400, 40002) == (response.status_code, response.json()["code"])


def test_fault_plan_refuses_unknown_kinds_and_bad_counts() -> None:
    """add() names the valid kinds; count must be ≥ 1 or None."""
    plan = FaultPlan()
    with pytest.raises(ValueError, match="unknown fault kind 'http_418'"):
        plan.add("http_418")
    with pytest.raises(ValueError, match="count must be at least 1"):
        plan.add("http_503", count=0)
    with pytest.raises(ValueError, match="match needs at least one field"):
        plan.reject_events({})
    assert 0 == len(plan)


def test_fault_plan_describes_what_is_pending() -> None:
    """describe() lists faults with their remaining counts and the standing rules."""
    plan = FaultPlan()
    plan.add("hang", count=2, seconds=5)
    plan.reject_events({"event_id": "x"}, name_index=False)
    described = plan.describe()
    assert [
        {"kind": "hang", "remaining": 2, "path": "/open_api/v1.3/event/track", "seconds": 5}
    ] == described["faults"]
    assert [{"event_id": "x"}, False] == [
        described["rules"][0]["reject_events"],
        described["rules"][0]["name_index"],
    ]
