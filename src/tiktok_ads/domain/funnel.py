"""The ticket-buying funnel: its steps, and the drop-off between them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FUNNEL_STEPS = ("ViewContent", "AddToCart", "InitiateCheckout", "CompletePayment")
REVENUE_EVENT = "CompletePayment"


def drop_off_pct(previous: int, current: int) -> float | None:
    """The share of the previous step that did not reach this one, in % (None without a
    previous step). Negative when more reached this step: events can skip a step."""
    if previous <= 0:
        return None
    return round(100.0 * (previous - current) / previous, 1)


def funnel_steps(events: Mapping[str, int], people: Mapping[str, int]) -> list[dict[str, Any]]:
    """Each step with its events and people, the drop-off from the step before (events and
    people) and the conversion from the first step."""
    steps: list[dict[str, Any]] = []
    first_events = events.get(FUNNEL_STEPS[0], 0)
    for index, name in enumerate(FUNNEL_STEPS):
        n, m = events.get(name, 0), people.get(name, 0)
        before = FUNNEL_STEPS[index - 1] if index else None
        steps.append(
            {
                "event_type": name,
                "events": n,
                "people": m,
                "drop_off_pct": drop_off_pct(events.get(before, 0), n) if before else None,
                "people_drop_off_pct": drop_off_pct(people.get(before, 0), m) if before else None,
                "conversion_pct": round(100.0 * n / first_events, 1) if first_events else None,
            }
        )
    return steps
