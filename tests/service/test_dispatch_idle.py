"""The dispatcher does not look at the queue after every commit that cannot fill a batch."""

from __future__ import annotations

import asyncio

from tests.service.conftest import SEED_EVENT, ServiceFactory

from tiktok_ads.adapters.store import SqlStore


class CountingStore(SqlStore):
    """The real store, counting the dispatcher's looks at the queue."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.looks = 0

    async def readiness(self, pixel_id: str, now: float, limit: int) -> tuple[int, float | None]:
        self.looks += 1
        return await super().readiness(pixel_id, now, limit)


async def _post_one_by_one(service: object, n: int) -> None:
    for i in range(n):
        answer = await service.post("/events", {**SEED_EVENT, "event_id": f"one-{i}"})  # type: ignore[attr-defined]
        assert 202 == answer.status_code


async def test_single_events_inside_the_linger_cost_no_look_each(
    make_service: ServiceFactory,
) -> None:
    """40 single events (40 commits) within a 5 s linger: a look or two, not one a commit; they
    still go together once the linger ends, though the poll (30 s) is far off."""
    service = await make_service(
        store_class=CountingStore, tiktok_batch_linger_ms=5000, tiktok_ads_poll_ms=30_000
    )
    store = service.container.store
    assert isinstance(store, CountingStore)
    await asyncio.sleep(0.3)  # the first idle pass is behind us
    before = store.looks
    await _post_one_by_one(service, 40)
    looks = store.looks - before
    assert looks <= 5, looks  # one per commit before (40+)
    await service.settle(within=15)
    batches = [
        r for r in service.tiktok.requests if r.path.startswith("/open_api/v1.3/event/track")
    ]
    assert [40] == [len(r.json["data"]) for r in batches]


async def test_a_wake_that_can_fill_a_batch_is_looked_at_at_once(
    make_service: ServiceFactory,
) -> None:
    """A batch of the batch size arrives within the linger: it is sent without waiting."""
    service = await make_service(
        store_class=CountingStore,
        tiktok_batch_linger_ms=60_000,
        tiktok_batch_size=50,
        tiktok_ads_poll_ms=30_000,  # neither the linger nor the poll can end the wait in time
    )
    events = [{**SEED_EVENT, "event_id": f"b-{i}"} for i in range(50)]
    assert 200 == (await service.post("/events/batch", {"events": events})).status_code
    await service.settle(within=5)  # far inside the 60 s linger
    batches = [
        r for r in service.tiktok.requests if r.path.startswith("/open_api/v1.3/event/track")
    ]
    assert [50] == [len(r.json["data"]) for r in batches]


async def test_an_idle_dispatcher_stops_at_once_whatever_its_poll(
    make_service: ServiceFactory,
) -> None:
    """Stopping does not wait out the poll (30 s here): the idle wait ends with the stop."""
    service = await make_service(tiktok_ads_poll_ms=30_000)
    await asyncio.sleep(0.2)  # idle now
    await asyncio.wait_for(service.stop(), timeout=10)
