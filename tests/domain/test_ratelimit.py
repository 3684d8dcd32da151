"""Request pacing and the daily cap as pure functions of the shared quota state."""

from __future__ import annotations

import datetime as dt

from tiktok_ads.domain import ratelimit
from tiktok_ads.domain.ratelimit import QuotaState

# Pinned by hand, never taken from the code under test.
EVENING = dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC).timestamp()
MIDNIGHT = dt.datetime(2026, 11, 27, tzinfo=dt.UTC).timestamp()
FRESH = QuotaState(next_slot_at=0.0, day="", used=0)


def test_requests_are_spaced_at_the_rate_limit() -> None:
    """At 4 requests/s, reservations made at one instant start 0.25 s apart."""
    state, starts = FRESH, []
    for _ in range(4):
        reservation = ratelimit.reserve(state, want=10, now=EVENING, rps=4, daily_limit=1000)
        starts.append(reservation.send_at - EVENING)
        state = reservation.state
    assert [0.0, 0.25, 0.5, 0.75] == starts


def test_pacing_state_is_shared_by_whoever_reserves_next() -> None:
    """A second worker reading the state the first wrote waits its turn; later, none is owed."""
    first = ratelimit.reserve(FRESH, want=1, now=EVENING, rps=2, daily_limit=1000)
    second = ratelimit.reserve(first.state, want=1, now=EVENING + 0.1, rps=2, daily_limit=1000)
    later = ratelimit.reserve(second.state, want=1, now=EVENING + 5, rps=2, daily_limit=1000)
    assert (EVENING, EVENING + 0.5, EVENING + 5) == (
        first.send_at,
        second.send_at,
        later.send_at,
    )


def test_a_resend_books_a_slot_but_no_quota() -> None:
    """want=0 paces the request and leaves the day's count alone."""
    state = QuotaState(0.0, "2026-11-26", 40)
    reservation = ratelimit.reserve(state, want=0, now=EVENING, rps=10, daily_limit=50)
    assert (0, 40, EVENING + 0.1) == (
        reservation.granted,
        reservation.state.used,
        reservation.state.next_slot_at,
    )


def test_daily_cap_grants_what_is_left_then_nothing_until_utc_midnight() -> None:
    """30 left of 100: a want of 50 gets 30, the next none, until midnight resets the day."""
    state = QuotaState(0.0, "2026-11-26", 70)
    partial = ratelimit.reserve(state, want=50, now=EVENING, rps=10, daily_limit=100)
    capped = ratelimit.reserve(partial.state, want=50, now=EVENING + 1, rps=10, daily_limit=100)
    assert (30, 0, 0) == (partial.granted, partial.remaining_after, capped.granted)
    assert MIDNIGHT == capped.resets_at
    before = ratelimit.reserve(capped.state, want=50, now=MIDNIGHT - 1, rps=10, daily_limit=100)
    after = ratelimit.reserve(capped.state, want=50, now=MIDNIGHT, rps=10, daily_limit=100)
    assert (0, 50, "2026-11-27") == (before.granted, after.granted, after.state.day)


def test_refund_gives_back_only_todays_quota() -> None:
    """Quota reserved but not claimed comes back the same day; a new day starts at zero."""
    state = QuotaState(0.0, "2026-11-26", 40)
    assert 30 == ratelimit.refund(state, 10, EVENING).used
    assert 40 == ratelimit.refund(state, 10, MIDNIGHT + 1).used


def test_priority_claims_when_the_quota_cannot_carry_what_waits() -> None:
    """180 waiting for 100 left: by priority; 100 for 100, or fewer: arrival order."""
    assert ratelimit.by_priority(180, 100)
    assert not ratelimit.by_priority(100, 100)
    assert not ratelimit.by_priority(10, 100)


def test_daily_quota_view_counts_what_the_cap_holds() -> None:
    """Used, remaining, reset time and held events; yesterday's count does not carry over."""
    today = ratelimit.daily_quota("2026-11-26", 100, now=EVENING, daily_limit=100, waiting=80)
    assert ratelimit.DailyQuota(100, 100, 0, MIDNIGHT, 80) == today
    tomorrow = ratelimit.daily_quota("2026-11-26", 100, now=MIDNIGHT, daily_limit=100, waiting=80)
    assert (0, 100, 0) == (tomorrow.used, tomorrow.remaining, tomorrow.held)
