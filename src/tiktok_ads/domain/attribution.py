"""Cross-device attribution: a person's latest click id and _ttp cookie follow their later events.

Keys are hashed identifiers (external_id, email); the store keeps the memory for the
attribution window, and this decides how an event is enriched from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tiktok_ads.domain.events import NewEvent


@dataclass(frozen=True, slots=True)
class ClickMemory:
    ttclid: str | None
    ttp: str | None
    seen_at: float


def enrich(item: NewEvent, memory: dict[str, ClickMemory]) -> None:
    """Fill a missing ttclid / ttp from the most recent memory of any of the event's identities."""
    if item.payload is None or (item.has_ttclid and item.has_ttp):
        return
    candidates = [memory[h] for h in item.identity_hashes if h in memory]
    if not candidates:
        return
    user = item.payload.setdefault("user", {})
    added: list[str] = []
    for entry in sorted(candidates, key=lambda m: m.seen_at, reverse=True):
        if not item.has_ttclid and entry.ttclid:
            user["ttclid"] = entry.ttclid
            item.has_ttclid = True
            added.append("ttclid")
        if not item.has_ttp and entry.ttp:
            user["ttp"] = entry.ttp
            item.has_ttp = True
            added.append("ttp")
    if added:
        keys = [k for k in item.match_keys.split(",") if k] + added
        item.match_keys = ",".join(keys)
