"""The store on SQLite and PostgreSQL: dedup, claims, settling, leases, quota, migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from tiktok_ads.adapters.store import DeliveryRecord, SqlStore
from tiktok_ads.adapters.store.schema import events, metadata
from tiktok_ads.domain.delivery import Outcome
from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, NewEvent

NOW = 1_760_000_000.0
PIXEL = "CPIXEL00000000000001"


def new_event(event_id: str, name: str = "CompletePayment", **kw: Any) -> NewEvent:
    fields: dict[str, Any] = dict(
        pixel_id=PIXEL,
        event_name=name,
        event_id=event_id,
        event_time=int(NOW),
        status="queued",
        payload={"event": name, "event_id": event_id, "event_time": int(NOW)},
        ip="203.0.113.9",
        user_agent="UA",
        match_keys="email",
        identity_hashes=(),
        has_ttclid=False,
        has_ttp=False,
        value=None,
        currency=None,
    )
    fields.update(kw)
    return NewEvent(**fields)


async def connect(store: SqlStore) -> None:
    await store.upsert_connection(
        pixel_id=PIXEL,
        access_token_enc=b"x",
        advertiser_id=None,
        test_mode=False,
        test_event_code=None,
        is_default=True,
        now=NOW,
    )


async def test_migrations_match_the_schema(store: SqlStore) -> None:
    """Alembic's head creates exactly the tables and indexes schema.py describes."""

    def diff() -> list[Any]:
        with store.write_engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))

    assert [] == await asyncio.to_thread(diff)
    assert await store.schema_is_current()


async def test_repeat_within_48h_is_a_duplicate_and_later_is_new(store: SqlStore) -> None:
    """Same pixel+event+event_id: duplicate inside 48 h (also within one group), new after."""
    first = await store.add_events([new_event("a"), new_event("a"), new_event("b")], NOW, 86400)
    assert ["queued", "duplicate", "queued"] == [o.status for o in first]
    again = await store.add_events([new_event("a")], NOW + 3600, 86400)
    assert ["duplicate"] == [o.status for o in again]
    other_name = await store.add_events([new_event("a", name="Purchase")], NOW + 3600, 86400)
    assert ["queued"] == [o.status for o in other_name]
    later = await store.add_events([new_event("a")], NOW + DEDUP_WINDOW_SECONDS + 1, 86400)
    assert ["queued"] == [o.status for o in later]
    stats = await store.stats()
    assert 2 == stats["by_status"]["duplicate"]


async def test_skipped_events_take_no_dedup_key(store: SqlStore) -> None:
    """A skipped event is stored but does not block a later real one with the same id."""
    skipped = new_event("c", status="skipped", payload=None, skip_reason="consent denied")
    out = await store.add_events([skipped], NOW, 86400)
    assert ["skipped"] == [o.status for o in out]
    out = await store.add_events([new_event("c")], NOW + 1, 86400)
    assert ["queued"] == [o.status for o in out]


async def test_concurrent_claims_never_share_an_event(store: SqlStore) -> None:
    """Claimers racing on one pixel split the queue between them, each event once."""
    await connect(store)
    await store.add_events([new_event(f"e{i}") for i in range(300)], NOW, 86400)
    claims = await asyncio.gather(
        *(store.claim_batch(PIXEL, 50, NOW, NOW + 60, False) for _ in range(8))
    )
    ids = [e.event_id for claim in claims for e in claim]
    assert 300 == len(ids)
    assert len(ids) == len(set(ids))
    assert [] == await store.claim_batch(PIXEL, 50, NOW, NOW + 60, False)


async def test_priority_claim_sends_purchases_first(store: SqlStore) -> None:
    """Near the cap the claim takes CompletePayment before ViewContent, whatever the order."""
    await store.add_events(
        [new_event("v1", "ViewContent"), new_event("p1"), new_event("v2", "ViewContent")],
        NOW,
        86400,
    )
    batch = await store.claim_batch(PIXEL, 1, NOW, NOW + 60, True)
    assert ["p1"] == [e.event_id for e in batch]


async def test_settle_records_verdicts_and_the_delivery_log(store: SqlStore) -> None:
    """Delivered, failed, held, retried events get their status, TikTok's answer, a log row."""
    await connect(store)
    await store.add_events([new_event(f"s{i}") for i in range(4)], NOW, 86400)
    batch = await store.claim_batch(PIXEL, 4, NOW, NOW + 60, False)
    pks = [e.pk for e in batch]
    record = DeliveryRecord(PIXEL, NOW, 4, 200, 0, "OK", "2025X", 12.5, "delivered")
    await store.settle(Outcome(NOW, 0, "OK", "R1", delivered=(pks[0],), delivery=record))
    await store.settle(Outcome(NOW, 40002, "bad", failed=(pks[1],)))
    await store.settle(Outcome(NOW, 40105, "revoked", held=(pks[2],)))
    await store.settle(Outcome(NOW, None, "503", retry=((pks[3], NOW + 5),)))
    got = {e.event_id: (await store.get_event(e.event_id)) for e in batch}
    assert "delivered" == got["s0"]["status"] and "R1" == got["s0"]["request_id"]
    assert ("failed", 40002) == (got["s1"]["status"], got["s1"]["tiktok_code"])
    assert ("queued", 0) == (got["s2"]["status"], got["s2"]["attempts"])
    assert ("retrying", NOW + 5) == (got["s3"]["status"], got["s3"]["next_attempt_at"])
    log = await store.recent_deliveries()
    assert ["2025X"] == [row["request_id"] for row in log]


async def test_settle_applies_retries_grouped_and_given_up_events(store: SqlStore) -> None:
    """Retries land at their own times; events given up fail with the reason and the answer."""
    await store.add_events([new_event(f"g{i}") for i in range(3)], NOW, 86400)
    a, b, c = await store.claim_batch(PIXEL, 3, NOW, NOW + 60, False)
    assert NOW + DEDUP_WINDOW_SECONDS == a.deadline_at
    retry = ((a.pk, NOW + 2), (b.pk, NOW + 4))
    outcome = Outcome(NOW, None, "503", retry=retry, given_up=(c.pk,), give_up_reason="gave up")
    await store.settle(outcome)
    rows = [await store.get_event(f"g{i}") for i in range(3)]
    assert [("retrying", NOW + 2), ("retrying", NOW + 4)] == [
        (r["status"], r["next_attempt_at"]) for r in rows[:2]
    ]
    assert ("failed", "gave up (503)") == (rows[2]["status"], rows[2]["last_error"])
    assert [c.pk] == await store.settled_among([a.pk, b.pk, c.pk])


async def test_expired_lease_returns_events_to_the_queue(store: SqlStore) -> None:
    """Events claimed by a worker that died are claimable again once the lease runs out."""
    await store.add_events([new_event("k")], NOW, 86400)
    (claimed,) = await store.claim_batch(PIXEL, 10, NOW, NOW + 30, False)
    assert [] == await store.expired_leases(NOW + 29)
    assert [(claimed.pk, claimed.deadline_at)] == await store.expired_leases(NOW + 31)
    released = await store.release_leases(NOW + 31, requeue=[claimed.pk], give_up=[], reason="")
    assert 1 == released
    again = await store.claim_batch(PIXEL, 10, NOW + 31, NOW + 60, False)
    assert (["k"], 2) == ([e.event_id for e in again], again[0].attempts)


async def test_lease_release_touches_only_claims_still_expired(store: SqlStore) -> None:
    """A lost claim another worker has released and taken again is left alone."""
    await store.add_events([new_event("t")], NOW, 86400)
    (claimed,) = await store.claim_batch(PIXEL, 1, NOW, NOW + 30, False)
    await store.release_leases(NOW + 31, requeue=[claimed.pk], give_up=[], reason="")
    await store.claim_batch(PIXEL, 1, NOW + 31, NOW + 91, False)
    stale = await store.release_leases(NOW + 32, requeue=[], give_up=[claimed.pk], reason="x")
    assert (0, "sending") == (stale, (await store.get_event("t"))["status"])


async def test_quota_is_shared_and_resets_daily(store: SqlStore) -> None:
    """Reservations pace requests at the RPS and stop at the daily cap until UTC midnight."""
    await connect(store)
    first = await store.reserve_send(PIXEL, want=6, now=NOW, rps=2, daily_limit=10)
    second = await store.reserve_send(PIXEL, want=6, now=NOW, rps=2, daily_limit=10)
    third = await store.reserve_send(PIXEL, want=6, now=NOW, rps=2, daily_limit=10)
    assert (6, 4, 0) == (first.granted, second.granted, third.granted)
    assert (NOW, NOW + 0.5) == (first.send_at, second.send_at)
    midnight = datetime(2025, 10, 10, tzinfo=UTC).timestamp()  # NOW is 2025-10-09 08:53 UTC
    assert midnight == third.resets_at
    before = await store.reserve_send(PIXEL, want=6, now=midnight - 1, rps=2, daily_limit=10)
    tomorrow = await store.reserve_send(PIXEL, want=6, now=midnight, rps=2, daily_limit=10)
    assert (0, 6) == (before.granted, tomorrow.granted)


async def ip_and_user_agent(store: SqlStore) -> dict[str, tuple[str | None, str | None]]:
    def read() -> dict[str, tuple[str | None, str | None]]:
        with store.write_engine.connect() as conn:
            rows = conn.execute(select(events.c.event_id, events.c.ip, events.c.user_agent))
            return {event_id: (ip, ua) for event_id, ip, ua in rows}

    return await asyncio.to_thread(read)


async def test_only_settled_events_enter_the_personal_data_index(store: SqlStore) -> None:
    """ix_events_pii (retention's purge) covers settled events only (migration 0009): an event
    enters it when it settles, not at ingest and again at its claim and settle."""
    sql = (
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_events_pii'"
        if store.is_postgres
        else "SELECT sql FROM sqlite_master WHERE name = 'ix_events_pii'"
    )

    def definition() -> str:
        with store.write_engine.connect() as conn:
            return " ".join(str(conn.exec_driver_sql(sql).scalar_one()).split())

    found = await asyncio.to_thread(definition)
    assert "status" in found and "'delivered'" in found and "'skipped'" in found, found
    assert "'queued'" not in found and "'sending'" not in found, found


async def test_purge_drops_ip_and_user_agent_after_retention(store: SqlStore) -> None:
    """Settled events lose IP and user agent after retention; newer and queued ones keep them."""
    await store.add_events([new_event("old"), new_event("new"), new_event("q")], NOW, 86400)
    old, new = await store.claim_batch(PIXEL, 2, NOW, NOW + 60, False)
    await store.settle(Outcome(NOW, 0, "OK", delivered=(old.pk,)))
    await store.settle(Outcome(NOW + 60, 40002, "bad", failed=(new.pk,)))
    counts = await store.purge(NOW + 100, pii_cutoff=NOW + 50, click_cutoff=0)
    assert 1 == counts["pii"]
    kept = ("203.0.113.9", "UA")
    assert {"old": (None, None), "new": kept, "q": kept} == await ip_and_user_agent(store)


async def test_click_ids_follow_a_person_across_devices(store: SqlStore) -> None:
    """An event without ttclid gets the one last seen for the same hashed identity."""
    with_click = new_event(
        "w",
        identity_hashes=("h1",),
        has_ttclid=True,
        payload={"event": "ViewContent", "user": {"ttclid": "E.C.P.x"}},
    )
    await store.add_events([with_click], NOW, 86400)
    later = new_event("l", identity_hashes=("h1",))
    await store.add_events([later], NOW + 60, 86400)
    assert "E.C.P.x" == later.payload["user"]["ttclid"]
    assert "email,ttclid" == later.match_keys
    stale = new_event("s", identity_hashes=("h1",))
    await store.add_events([stale], NOW + 2 * 86400, 86400)
    assert "user" not in stale.payload


async def test_replay_only_failed(store: SqlStore) -> None:
    """Only a failed event can be replayed; it is queued again with the same event_id."""
    await store.add_events([new_event("r")], NOW, 86400)
    (claimed,) = await store.claim_batch(PIXEL, 1, NOW, NOW + 60, False)
    await store.settle(Outcome(NOW, 40002, "bad", failed=(claimed.pk,)))
    assert await store.replay_failed(claimed.pk, NOW + 10)
    assert "queued" == (await store.get_event("r"))["status"]
    assert not await store.replay_failed(claimed.pk, NOW + 11)


async def test_a_click_is_remembered_from_the_click_not_from_its_reuse(store: SqlStore) -> None:
    """A day-0 click reused on days 10 and 20 is not attached to a day-29 event (28-day window)."""
    day, window = 86400.0, 28 * 86400.0

    def event(event_id: str, user: dict[str, str]) -> NewEvent:
        return new_event(
            event_id,
            identity_hashes=("h1",),
            has_ttclid="ttclid" in user,
            has_ttp="ttp" in user,
            payload={"event": "ViewContent", "user": dict(user)},
        )

    await store.add_events([event("d0", {"ttclid": "E.C.P.x", "ttp": "ttp-1"})], NOW, window)
    # The browser sends the same click id again on day 10; another device is enriched on day 20.
    await store.add_events([event("d10", {"ttclid": "E.C.P.x"})], NOW + 10 * day, window)
    day20 = event("d20", {})
    await store.add_events([day20], NOW + 20 * day, window)
    assert {"ttclid": "E.C.P.x", "ttp": "ttp-1"} == day20.payload["user"]
    day29 = event("d29", {})
    await store.add_events([day29], NOW + 29 * day, window)
    assert ({}, "email") == (day29.payload["user"], day29.match_keys)


def test_the_head_revision_constant_is_alembics_head() -> None:
    """The start-up check reads HEAD_REVISION instead of loading Alembic: it must be the head."""
    from tiktok_ads.adapters.store import migrate
    from tiktok_ads.adapters.store.migrations import HEAD_REVISION

    assert migrate.head_revision() == HEAD_REVISION


async def test_a_current_schema_starts_without_loading_alembic(tmp_path: Any) -> None:
    """A second start on a migrated database does not import Alembic (a fresh interpreter)."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path}/fresh.db"
    first = SqlStore(url)
    await first.migrate()
    await first.close()
    script = (
        "import asyncio, sys\n"
        "from tiktok_ads.adapters.store import SqlStore\n"
        f"s = SqlStore({url!r})\n"
        "asyncio.run(s.migrate())\n"
        "assert asyncio.run(s.schema_is_current())\n"
        "print('alembic' in sys.modules)\n"
    )
    argv = [sys.executable, "-c", script]
    out = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, check=True)
    assert "False" == out.stdout.strip(), out.stderr


async def test_a_claim_records_when_the_event_went_out(store: SqlStore) -> None:
    """The console's lifecycle shows "sending" at the claim's time (updated_at)."""
    await connect(store)
    await store.add_events([new_event("sent-at")], NOW, 86400)
    (claimed,) = await store.claim_batch(PIXEL, 10, NOW + 5, NOW + 65, False)

    def read() -> Any:
        with store.write_engine.connect() as conn:
            return conn.execute(select(events).where(events.c.id == claimed.pk)).one()

    row = await asyncio.to_thread(read)
    assert ("sending", NOW + 5, NOW + 65) == (row.status, row.updated_at, row.lease_until)
