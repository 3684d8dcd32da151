"""Click-id memory rules: first-seen times, the window, and which value an event gets."""

from __future__ import annotations

from typing import Any

from tiktok_ads.domain.attribution import (
    ClickMemory,
    attribute,
    enrich,
    identities_to_recall,
)
from tiktok_ads.domain.events import NewEvent

DAY = 86400.0
NOW = 1_760_000_000.0


def event(event_id: str, identities: tuple[str, ...], **user: str) -> NewEvent:
    payload: dict[str, Any] = {"event": "ViewContent", "event_id": event_id}
    if user:
        payload["user"] = dict(user)
    return NewEvent(
        pixel_id="P",
        event_name="ViewContent",
        event_id=event_id,
        event_time=int(NOW),
        status="queued",
        payload=payload,
        ip=None,
        user_agent=None,
        match_keys="email",
        identity_hashes=identities,
        has_ttclid="ttclid" in user,
        has_ttp="ttp" in user,
        value=None,
        currency=None,
    )


def test_the_same_click_keeps_its_first_time_and_a_new_one_starts_now() -> None:
    """Seeing a click id again keeps when it was first seen; another click id is new."""
    first = ClickMemory().seen("A", "cookie", NOW)
    again = first.seen("A", "cookie", NOW + 10 * DAY)
    other = again.seen("B", None, NOW + 11 * DAY)
    assert ClickMemory("A", NOW, "cookie", NOW) == again
    assert ClickMemory("B", NOW + 11 * DAY, "cookie", NOW) == other


def test_values_past_the_window_are_forgotten_one_by_one() -> None:
    """A click id older than the window is dropped while a newer _ttp is kept."""
    memory = ClickMemory("A", NOW, "cookie", NOW + 5 * DAY)
    assert ClickMemory(None, None, "cookie", NOW + 5 * DAY) == memory.since(NOW + 1)


def test_enrich_takes_the_most_recent_value_of_each_kind() -> None:
    """Across identities, the latest click id and the latest cookie are attached separately."""
    item = event("e", ("email", "external"))
    memory = {
        "email": ClickMemory("old-click", NOW, "new-cookie", NOW + 2 * DAY),
        "external": ClickMemory("new-click", NOW + DAY, "old-cookie", NOW),
    }
    enrich(item, memory)
    assert {"ttclid": "new-click", "ttp": "new-cookie"} == item.payload["user"]
    assert "email,ttclid,ttp" == item.match_keys


def test_attaching_a_remembered_click_does_not_renew_it() -> None:
    """An event enriched from memory changes nothing in memory; its own click id would."""
    recalled = {"h": ClickMemory("A", NOW, None, None)}
    enriched = event("e1", ("h",))
    assert {} == attribute([enriched], recalled, NOW + 20 * DAY, NOW + 20 * DAY - 28 * DAY)
    assert "A" == enriched.payload["user"]["ttclid"]
    carried = event("e2", ("h",), ttclid="A", ttp="cookie")
    changed = attribute([carried], recalled, NOW + 20 * DAY, NOW - 8 * DAY)
    assert {"h": ClickMemory("A", NOW, "cookie", NOW + 20 * DAY)} == changed


def test_a_click_earlier_in_the_same_group_reaches_a_later_event() -> None:
    """Within one group commit the first event's click id is attached to the second's."""
    items = [event("a", ("h",), ttclid="A"), event("b", ("h",))]
    changed = attribute(items, {}, NOW, NOW - 28 * DAY)
    assert "A" == items[1].payload["user"]["ttclid"]
    assert {"h": ClickMemory("A", NOW, None, None)} == changed


def test_every_identity_of_an_event_with_a_payload_is_recalled() -> None:
    """Events carrying both values are recalled too (to keep their click's first time)."""
    skipped = event("s", ("x",))
    skipped.payload = None
    items = [event("a", ("h1",), ttclid="A", ttp="c"), event("b", ("h2", "h3")), skipped]
    assert {"h1", "h2", "h3"} == identities_to_recall(items)
