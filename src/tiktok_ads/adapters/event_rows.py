"""The values a group commit inserts: event rows and deduplication keys, built in one pass.

Compiled by mypyc (setup.py), like the domain's hot path: a batch is 1,000 events of 20 values
each, and building them in Python (a tuple a row, a flattened copy, a counter update per event)
cost the store thread ~1 µs more an event, holding the GIL the event loop needs. It lives
outside the `store` package on purpose: compiling a module checks its package too, and `store`
needs SQLAlchemy, which the build's isolated environment does not have.
"""

from __future__ import annotations

from collections.abc import Sequence

from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, NewEvent, Status, event_priority
from tiktok_ads.domain.tiktok_item import stored_item

EVENT_COLUMNS = (
    "pixel_id",
    "event_name",
    "event_id",
    "event_time",
    "status",
    "priority",
    "payload",
    "ip",
    "user_agent",
    "match_keys",
    "value",
    "currency",
    "skip_reason",
    "received_at",
    "next_attempt_at",
    "deadline_at",
    "attempts",
    "updated_at",
    "event_id_generated",
    "user_last",
)
_SKIPPED = Status.SKIPPED.value
_RECEIVED = "received"
_DUPLICATE = Status.DUPLICATE.value

Counts = dict[tuple[str, str, str], int]  # (pixel, event name, outcome) → n


def dedup_keys(items: Sequence[NewEvent]) -> dict[tuple[str, str, str], int]:
    """(pixel, event name, event_id) of each event not skipped → the index of its first event."""
    first: dict[tuple[str, str, str], int] = {}
    for i, item in enumerate(items):
        if item.status != _SKIPPED:
            key = (item.pixel_id, item.event_name, item.event_id)
            if key not in first:
                first[key] = i
    return first


def dedup_values(keys: Sequence[tuple[str, str, str]], expires_at: float) -> list[object]:
    """The values of the deduplication rows of `keys`, row after row."""
    values: list[object] = []
    for pixel_id, event_name, event_id in keys:
        values.extend((pixel_id, event_name, event_id, expires_at))
    return values


def sort_out(items: Sequence[NewEvent], fresh: set[int]) -> tuple[list[int], Counts]:
    """Which items get a row (skipped ones, and those whose dedup key is `fresh`), and the
    counts of the commit: every item received, then skipped or duplicate."""
    rows: list[int] = []
    counts: Counts = {}
    for i, item in enumerate(items):
        key = (item.pixel_id, item.event_name, _RECEIVED)
        counts[key] = counts.get(key, 0) + 1
        skipped = item.status == _SKIPPED
        if skipped or i in fresh:
            rows.append(i)
            if not skipped:
                continue
            outcome = _SKIPPED
        else:
            outcome = _DUPLICATE
        key = (item.pixel_id, item.event_name, outcome)
        counts[key] = counts.get(key, 0) + 1
    return rows, counts


def event_values(items: Sequence[NewEvent], positions: Sequence[int], now: float) -> list[object]:
    """The values of the rows of `items[i]` for each i in `positions`, in EVENT_COLUMNS order."""
    deadline = now + DEDUP_WINDOW_SECONDS
    values: list[object] = []
    for i in positions:
        item = items[i]
        payload = None if item.payload is None else stored_item(item.payload)
        values.extend(
            (
                item.pixel_id,
                item.event_name,
                item.event_id,
                item.event_time,
                item.status,
                event_priority(item.event_name),
                payload,
                item.ip,
                item.user_agent,
                item.match_keys,
                item.value,
                item.currency,
                item.skip_reason,
                now,
                now,
                deadline,
                0,
                now,
                item.event_id_generated,
                payload is not None,
            )
        )
    return values
