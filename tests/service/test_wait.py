"""POST /events?wait=S: woken by the verdict, one shared poll without a local dispatcher, and
a cap on how many may wait at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import RowMapping
from tests.service.conftest import SEED_EVENT, Service, ServiceFactory

from tiktok_ads.adapters.store import SqlStore


class CountingStore(SqlStore):
    """The real store, counting the reads a waiting caller costs."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.row_reads = 0
        self.polls: list[list[int]] = []

    async def get_event_by_pk(self, pk: int) -> RowMapping | None:
        self.row_reads += 1
        return await super().get_event_by_pk(pk)

    async def settled_among(self, pks: Sequence[int]) -> list[int]:
        self.polls.append(list(pks))
        return await super().settled_among(pks)


def event(i: int) -> dict[str, Any]:
    return {**SEED_EVENT, "event_id": f"w{i}"}


async def until(condition: Any, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def waiting(service: Service, n: int, wait: float = 30) -> list[asyncio.Task[httpx.Response]]:
    return [
        asyncio.create_task(service.post("/events", event(i), params={"wait": wait}))
        for i in range(n)
    ]


async def test_wait_is_woken_by_the_verdict_not_by_polling(make_service: ServiceFactory) -> None:
    """wait=30 answers once TikTok (slow: 300 ms) has answered; the row is read twice, not
    every 50 ms."""
    service = await make_service(store_class=CountingStore)
    store = service.container.store
    assert isinstance(store, CountingStore)
    service.tiktok.faults.add("latency", count=1, ms=300)
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await service.post("/events", SEED_EVENT, params={"wait": 30})
    assert (200, "delivered") == (response.status_code, response.json()["status"])
    assert loop.time() - started < 10  # woken, not timed out
    assert 2 == store.row_reads  # once when it started waiting, once when woken


async def test_waiters_past_the_cap_get_429_and_nothing_is_stored(
    make_service: ServiceFactory,
) -> None:
    """TIKTOK_ADS_MAX_WAITERS=2: a third waiting caller gets 429 with Retry-After; the two
    waiting are woken by the verdict once a dispatcher runs."""
    service = await make_service(tiktok_ads_max_waiters=2, run_dispatcher=False)
    verdicts = service.container.verdicts
    first_two = waiting(service, 2)
    await until(lambda: verdicts.waiting == 2)
    refused = await service.post("/events", event(2), params={"wait": 30})
    body = refused.json()
    assert (429, 40100, "1") == (refused.status_code, body["code"], refused.headers["retry-after"])
    assert "TIKTOK_ADS_MAX_WAITERS" in body["message"]
    assert 404 == (await service.get("/events/w2")).status_code
    assert 202 == (await service.post("/events", event(3))).status_code  # no wait: no cap
    dispatcher = service.container.dispatcher
    await dispatcher.run_once()
    await dispatcher.wait_idle()
    answers = [(r.status_code, r.json()["status"]) for r in await asyncio.gather(*first_two)]
    assert [(200, "delivered"), (200, "delivered")] == answers


async def test_without_a_local_dispatcher_waiters_share_one_poll(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    """`serve --no-worker`: 20 waiters cost one query per tick for all of them, and learn the
    verdict a worker in another process records."""
    url = f"sqlite:///{tmp_path}/shared.db"
    api = await make_service(url, store_class=CountingStore, run_dispatcher=False)
    store = api.container.store
    assert isinstance(store, CountingStore)
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = waiting(api, 20)
    await until(lambda: store.row_reads == 20)  # each looked once, then listens
    polls_before = len(store.polls)
    worker = await make_service(url, emulator=api.emulator_app)  # the other process
    responses = await asyncio.gather(*tasks)
    elapsed = loop.time() - started
    assert 20 * [(200, "delivered")] == [(r.status_code, r.json()["status"]) for r in responses]
    assert 40 == store.row_reads  # twice per waiter, whatever the wait lasted
    polls = store.polls[polls_before:]
    assert polls and all(20 == len(pks) for pks in polls)  # one query asks for all of them
    assert len(store.polls) <= elapsed / 0.05 + 2  # one query per tick, never one per waiter
    assert 20 == len(worker.tiktok.delivered_events())
