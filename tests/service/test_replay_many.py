"""Replaying every failed event of one kind (pixel, event type, TikTok code) at once."""

from __future__ import annotations

from collections import Counter

from tests.service.conftest import PIXEL, Service, ServiceFactory


async def fail_add_to_carts(service: Service, n: int) -> None:
    """TikTok refuses every AddToCart (40002 naming it); a ViewContent goes through."""
    service.tiktok.faults.reject_events({"event": "AddToCart"}, name_index=True)
    events = [{"event_type": "AddToCart", "event_id": f"cart-{i}"} for i in range(n)]
    events.append({"event_type": "ViewContent", "event_id": "view-1"})
    answer = await service.post("/events/batch", {"events": events})
    assert 200 == answer.status_code
    await service.settle()
    failed = (await service.get("/events", params={"status": "failed"})).json()["events"]
    assert n == len(failed)


async def test_replay_all_like_this_requeues_the_kind_and_delivers_it(
    make_service: ServiceFactory, db_url: str
) -> None:
    """POST /events/replay-failed queues the failed events of that pixel, type and code again;
    they go to TikTok with their own event_ids and are delivered."""
    service = await make_service(db_url)
    await fail_add_to_carts(service, 3)
    service.tiktok.faults.clear()
    before = service.sent_counts()
    other_code = await service.post(
        "/events/replay-failed", {"pixel_id": PIXEL, "event_type": "AddToCart", "code": 40001}
    )
    assert 0 == other_code.json()["replayed"]
    answer = await service.post(
        "/events/replay-failed", {"pixel_id": PIXEL, "event_type": "AddToCart", "code": 40002}
    )
    assert (202, 3) == (answer.status_code, answer.json()["replayed"])
    await service.settle()
    statuses = Counter(
        [(await service.get(f"/events/cart-{i}")).json()["status"] for i in range(3)]
    )
    assert {"delivered": 3} == statuses
    resent = service.sent_counts() - before
    assert {f"cart-{i}": 1 for i in range(3)} == dict(resent)


async def test_replay_all_is_bounded(service: Service) -> None:
    """One press replays at most the limit, oldest first; the rest stay failed for the next."""
    await fail_add_to_carts(service, 3)
    # TikTok takes them now: a replayed event sent again must not fail again before the
    # second press, or that press would count it too.
    service.tiktok.faults.clear()
    replays = service.container.replays
    assert 2 == await replays.replay_like(PIXEL, "AddToCart", 40002, limit=2)
    statuses = [(await service.get(f"/events/cart-{i}")).json()["status"] for i in range(3)]
    assert "failed" == statuses[2]
    assert ["failed"] != statuses[:2]
    assert 1 == await replays.replay_like(PIXEL, "AddToCart", 40002)


async def test_replay_all_outside_the_keys_pixels_replays_nothing(service: Service) -> None:
    """A key limited to other pixels replays none of this pixel's events."""
    await fail_add_to_carts(service, 1)
    replays = service.container.replays
    assert 0 == await replays.replay_like(PIXEL, "AddToCart", 40002, frozenset({"COTHER"}))
    assert "failed" == (await service.get("/events/cart-0")).json()["status"]


async def test_replay_failed_names_a_bad_field(service: Service) -> None:
    """A missing event_type or a non-integer code → 422 naming the field."""
    answer = await service.post("/events/replay-failed", {"pixel_id": PIXEL, "code": "x"})
    assert 422 == answer.status_code
    assert ["event_type", "code"] == [e["field"] for e in answer.json()["errors"]]
