"""Cross-device attribution: a person's click id and _ttp cookie follow their later events.

Memory is keyed by hashed identifiers (external_id, email). Each value keeps the time it was
first seen, and is recalled only within the attribution window from then: seeing the same
click id again, or attaching it to later events, never extends the window, so a click does not
follow a person forever. The store only reads and writes the rows; the rules live here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tiktok_ads.domain.events import NewEvent


@dataclass(frozen=True, slots=True)
class ClickMemory:
    """What is remembered of one identity: click id and _ttp, each with its first-seen time."""

    ttclid: str | None = None
    ttclid_at: float | None = None
    ttp: str | None = None
    ttp_at: float | None = None

    def since(self, cutoff: float) -> ClickMemory:
        """Only the values first seen at or after `cutoff` (the rest is outside the window)."""
        click = self.ttclid_at is not None and self.ttclid_at >= cutoff
        ttp = self.ttp_at is not None and self.ttp_at >= cutoff
        if (click or self.ttclid is None) and (ttp or self.ttp is None):
            return self
        return ClickMemory(
            self.ttclid if click else None,
            self.ttclid_at if click else None,
            self.ttp if ttp else None,
            self.ttp_at if ttp else None,
        )

    def seen(self, ttclid: str | None, ttp: str | None, now: float) -> ClickMemory:
        """After an event carrying these values: a new value is first seen now; the same value
        keeps the time it was first seen (the click, not its reuse, starts the window)."""
        new_click = ttclid is not None and ttclid != self.ttclid
        new_ttp = ttp is not None and ttp != self.ttp
        if not (new_click or new_ttp):
            return self
        return ClickMemory(
            ttclid if new_click else self.ttclid,
            now if new_click else self.ttclid_at,
            ttp if new_ttp else self.ttp,
            now if new_ttp else self.ttp_at,
        )


def identities_to_recall(items: Iterable[NewEvent]) -> set[str]:
    """Identities whose memory the events may use (a missing value) or update (a carried one)."""
    return {h for item in items if item.payload is not None for h in item.identity_hashes}


def own_click(item: NewEvent) -> tuple[str | None, str | None]:
    """The click id and _ttp the event itself carries (not those added from memory)."""
    user = item.payload.get("user", {}) if item.payload is not None else {}
    ttclid = user.get("ttclid") if item.has_ttclid else None
    ttp = user.get("ttp") if item.has_ttp else None
    return (
        ttclid if isinstance(ttclid, str) else None,
        ttp if isinstance(ttp, str) else None,
    )


def enrich(item: NewEvent, memory: Mapping[str, ClickMemory]) -> None:
    """Fill a missing ttclid / ttp from the most recently first-seen value of the event's
    identities; `memory` holds only values inside the window."""
    if item.payload is None or (item.has_ttclid and item.has_ttp):
        return
    entries = [memory[h] for h in item.identity_hashes if h in memory]
    if not entries:
        return
    added: dict[str, str] = {}
    clicks = [e for e in entries if e.ttclid is not None and e.ttclid_at is not None]
    if not item.has_ttclid and clicks:
        added["ttclid"] = str(max(clicks, key=lambda e: e.ttclid_at or 0.0).ttclid)
        item.has_ttclid = True
    cookies = [e for e in entries if e.ttp is not None and e.ttp_at is not None]
    if not item.has_ttp and cookies:
        added["ttp"] = str(max(cookies, key=lambda e: e.ttp_at or 0.0).ttp)
        item.has_ttp = True
    if added:
        item.payload.setdefault("user", {}).update(added)
        keys = [k for k in item.match_keys.split(",") if k] + list(added)
        item.match_keys = ",".join(keys)


def attribute(
    items: Iterable[NewEvent], recalled: Mapping[str, ClickMemory], now: float, cutoff: float
) -> dict[str, ClickMemory]:
    """Enrich the events in order from what was recalled (and from earlier events of the same
    group); returns the memory entries that changed, by identity, to be saved."""
    memory = {identity: entry.since(cutoff) for identity, entry in recalled.items()}
    changed: dict[str, ClickMemory] = {}
    for item in items:
        if item.payload is None or not item.identity_hashes:
            continue
        ttclid, ttp = own_click(item)
        enrich(item, memory)
        if ttclid is None and ttp is None:
            continue
        for identity in item.identity_hashes:
            before = memory.get(identity, ClickMemory())
            after = before.seen(ttclid, ttp, now)
            if after != before:
                memory[identity] = changed[identity] = after
    return changed
