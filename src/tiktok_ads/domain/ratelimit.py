"""Per-pixel request pacing and the daily event cap, as pure functions of stored state.

The state lives in the database row of the connection so every worker on every machine shares
it; the store locks the row, calls `reserve`, and writes the result back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QuotaState:
    next_slot_at: float  # earliest time the next request may start (GCRA's theoretical time)
    day: str  # UTC day the `used` count belongs to, YYYY-MM-DD
    used: int  # events sent (or reserved) that day


@dataclass(frozen=True, slots=True)
class Reservation:
    granted: int  # events that may be sent now (0: the daily cap is reached)
    send_at: float  # when the request may start
    resets_at: float  # next UTC midnight, when the cap frees up
    remaining_after: int  # daily quota left after this grant
    state: QuotaState


def utc_day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


def next_midnight(ts: float) -> float:
    day = dt.datetime.fromtimestamp(ts, dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def reserve(
    state: QuotaState, *, want: int, now: float, rps: float, daily_limit: int
) -> Reservation:
    """Book one request slot and up to `want` events of today's quota.

    `want == 0` books a slot only (a resend of events whose quota is already counted).
    Nothing is booked when the cap is reached: the caller holds its events until `resets_at`.
    """
    today = utc_day(now)
    used = state.used if state.day == today else 0
    left = max(0, daily_limit - used)
    granted = min(want, left)
    if want > 0 and granted == 0:
        return Reservation(
            0, now, next_midnight(now), 0, QuotaState(state.next_slot_at, today, used)
        )
    send_at = max(now, state.next_slot_at)
    new_state = QuotaState(send_at + 1.0 / rps, today, used + granted)
    return Reservation(granted, send_at, next_midnight(now), left - granted, new_state)


def refund(state: QuotaState, events: int, now: float) -> QuotaState:
    """Give back quota reserved for events that were not claimed after all."""
    if state.day != utc_day(now):
        return state
    return QuotaState(state.next_slot_at, state.day, max(0, state.used - events))


def by_priority(waiting: int, remaining_quota: int) -> bool:
    """More waits than today's quota can carry: claim money first, page views last.

    Otherwise the claim keeps arrival order, which is fairest when everything goes out today.
    """
    return waiting > remaining_quota


@dataclass(frozen=True, slots=True)
class DailyQuota:
    """A pixel's day as the connection view shows it."""

    limit: int
    used: int
    remaining: int
    resets_at: float
    held: int  # events waiting that today's remaining quota cannot carry


def daily_quota(
    state_day: str, state_used: int, *, now: float, daily_limit: int, waiting: int
) -> DailyQuota:
    used = state_used if state_day == utc_day(now) else 0
    left = max(0, daily_limit - used)
    return DailyQuota(daily_limit, used, left, next_midnight(now), max(0, waiting - left))
