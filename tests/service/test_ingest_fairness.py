"""A 1,000-event batch is prepared in slices: the event loop (other requests, delivery) gets
turns while it is checked and hashed, not only once it waits for the store."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

import pytest
from tests.service.conftest import AUTH, SEED_EVENT, ServiceFactory

from tiktok_ads.adapters.clock import FrozenClock
from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.domain.connections import ConnectionRow
from tiktok_ads.domain.events import IngestOutcome, NewEvent
from tiktok_ads.entrypoints.api import routes_events
from tiktok_ads.entrypoints.api.app import PREFIX
from tiktok_ads.services.ingest import Refused


class Turns:
    count = 0
    at_store: list[int] = []  # noqa: RUF012 -- a test's scratch pad


class RecordingStore(SqlStore):
    """The real store, noting how many loop turns had passed when the events reached it."""

    async def add_events(
        self, items: Sequence[NewEvent], now: float, attribution_window_s: float
    ) -> list[IngestOutcome]:
        Turns.at_store.append(Turns.count)
        return await super().add_events(items, now, attribution_window_s)


async def test_the_loop_gets_turns_while_a_batch_is_prepared(make_service: ServiceFactory) -> None:
    service = await make_service(run_dispatcher=False, store_class=RecordingStore)
    events = [{**SEED_EVENT, "event_id": f"fair-{i}"} for i in range(1000)]
    await service.container.ingest.submit_many(
        [{**SEED_EVENT, "event_id": "warm"}]
    )  # the pixel known
    submitting = True

    async def ticker() -> None:
        while submitting:
            Turns.count += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    Turns.count, Turns.at_store = 0, []
    outcomes = await service.container.ingest.submit_many(events)
    submitting = False
    await task
    assert 1000 == sum(1 for o in outcomes if getattr(o, "status", None) == "queued")
    # One turn at least per 100 events prepared, before the store is reached; in one go
    # there were none.
    assert len(Turns.at_store) == 1 and Turns.at_store[0] >= 9, Turns.at_store


class Sizes:
    seen: list[int] = []  # noqa: RUF012 -- a test's scratch pad


class SizeStore(SqlStore):
    """The real store, noting how many events each group commit brought."""

    async def add_events(
        self, items: Sequence[NewEvent], now: float, attribution_window_s: float
    ) -> list[IngestOutcome]:
        Sizes.seen.append(len(items))
        return await super().add_events(items, now, attribution_window_s)


async def test_large_batches_are_prepared_in_turn(make_service: ServiceFactory) -> None:
    """Two batches at once: the first goes to the store while the second is prepared. Prepared
    side by side, both finished together and waited for one commit, the writer idle before."""
    service = await make_service(run_dispatcher=False, store_class=SizeStore)
    ingest = service.container.ingest
    await ingest.submit_many([{**SEED_EVENT, "event_id": "warm"}])  # the pixel known
    Sizes.seen = []
    first, second = (
        [{**SEED_EVENT, "event_id": f"turn-{n}-{i}"} for i in range(1000)] for n in (1, 2)
    )
    results = await asyncio.gather(ingest.submit_many(first), ingest.submit_many(second))
    assert [sum(1 for o in r if getattr(o, "status", None) == "queued") for r in results] == [
        1000,
        1000,
    ]
    assert Sizes.seen == [1000, 1000]


class Lookups:
    pixels: list[str | None] = []  # noqa: RUF012 -- a test's scratch pad


class LookupStore(SqlStore):
    """The real store, noting each connection the ingest looks up in the database."""

    async def get_connection(self, pixel_id: str | None) -> ConnectionRow | None:
        Lookups.pixels.append(pixel_id)
        return await super().get_connection(pixel_id)


async def test_an_unknown_pixel_is_looked_up_once_a_batch(make_service: ServiceFactory) -> None:
    """Unknown pixels are not cached: a batch of 1,000 naming one asked the database 1,000
    times, holding up the batches waiting for their turn to be prepared."""
    service = await make_service(run_dispatcher=False, store_class=LookupStore)
    events = [{**SEED_EVENT, "event_id": f"u-{i}", "pixel_id": "NOSUCHPIXEL"} for i in range(1000)]
    Lookups.pixels = []
    outcomes = await service.container.ingest.submit_many(events)
    assert all(isinstance(o, Refused) and o.errors.code == 40001 for o in outcomes)
    assert len(outcomes) == 1000
    assert Lookups.pixels == ["NOSUCHPIXEL"]


async def test_a_large_body_is_parsed_in_its_turn_and_a_small_one_at_once(
    make_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a batch holds the turn, a large body waits as bytes (its parsed JSON is several
    times larger), and so does a compact body of many events; a small batch does not wait. The
    events that waited keep the time they arrived; rejected events still name their event_id
    as sent."""
    clock = FrozenClock(time.time())
    service = await make_service(run_dispatcher=False, clock=clock)
    ingest = service.container.ingest
    parsed: list[int] = []
    real_parse = routes_events.parse_json

    def parse_json(body: bytes) -> Any:
        parsed.append(len(body))
        return real_parse(body)

    monkeypatch.setattr(routes_events, "parse_json", parse_json)
    large = [{**SEED_EVENT, "event_id": f"big-{i}"} for i in range(300)]
    large[7] = {**SEED_EVENT, "event_id": 1234, "event_type": ""}  # refused: no event type
    assert "event_time" not in SEED_EVENT  # each event takes the time it arrived
    compact = [{"event_type": "ViewContent", "event_id": f"c-{i}"} for i in range(150)]
    small = [{**SEED_EVENT, "event_id": "small-1"}]
    async with ingest.turn(True):
        waiting = asyncio.create_task(service.post("/events/batch", {"events": large}))
        many = asyncio.create_task(service.post("/events/batch", {"events": compact}))
        answered = await asyncio.wait_for(service.post("/events/batch", {"events": small}), 10)
        assert 200 == answered.status_code and answered.json()["accepted"] == 1
        clock.advance(120)  # the queue was long
        for _ in range(20):
            await asyncio.sleep(0.01)
        assert not waiting.done() and not many.done()
        assert 64 * 1024 not in parsed and all(n < 64 * 1024 for n in parsed)  # not the large
    response, compact_answer = await asyncio.wait_for(asyncio.gather(waiting, many), 30)
    assert 200 == response.status_code, response.text
    assert 150 == compact_answer.json()["accepted"]
    body = response.json()
    assert (299, 1) == (body["accepted"], body["rejected"])
    refused = body["results"][7]
    assert ("rejected", "1234", 7) == (refused["status"], refused["event_id"], refused["index"])
    assert len(parsed) == 3 and max(parsed) > 64 * 1024
    stored = await service.container.store.get_event("big-9")
    assert stored is not None
    assert int(clock.now() - 120) == stored["event_time"]


async def test_the_turn_is_given_back_after_a_refused_or_abandoned_batch(
    make_service: ServiceFactory,
) -> None:
    """A large body that is not JSON, one whose caller went away while it waited, and one
    that was cancelled while being prepared: the next large batch still gets its turn."""
    service = await make_service(run_dispatcher=False)
    ingest = service.container.ingest
    events = [{**SEED_EVENT, "event_id": f"t-{i}"} for i in range(300)]
    bad = await asyncio.wait_for(
        service.http.post(
            PREFIX + "/events/batch",
            content=b'{"events": [' + b" " * 70_000 + b"oops",
            headers={**AUTH, "Content-Type": "application/json"},
        ),
        10,
    )
    assert 422 == bad.status_code
    async with ingest.turn(True):
        gone = asyncio.create_task(service.post("/events/batch", {"events": events}))
        await asyncio.sleep(0.05)
        gone.cancel()
    cut = asyncio.create_task(service.post("/events/batch", {"events": events}))
    for _ in range(200):  # cancelled once it holds the turn, while preparing
        await asyncio.sleep(0)
        if ingest._preparing.locked():
            break
    cut.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cut
    again = [{**event, "event_id": "n" + event["event_id"]} for event in events]
    answered = await asyncio.wait_for(service.post("/events/batch", {"events": again}), 10)
    assert 200 == answered.status_code and answered.json()["accepted"] == 300
