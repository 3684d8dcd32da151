"""How well TikTok can match our events to people: which match keys they carry, an estimated
match quality score, what to add to improve it, and who made the event_ids (dedup audit).

The score is our estimate on TikTok's 0-10 scale, not TikTok's own Event Match Quality: each
key adds its weight when an event carries it (ttclid 3, email 2.5, phone 2, external_id 1,
_ttp 0.75, IP together with user agent 0.75; 10 with all), and an event type scores the mean
of its events. The weights follow TikTok's advice: the click id attributes for certain, email
and phone match most people, the rest help.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

WEIGHTS: dict[str, float] = {
    "ttclid": 3.0,
    "email": 2.5,
    "phone": 2.0,
    "external_id": 1.0,
    "ttp": 0.75,
    "ip_user_agent": 0.75,
}
SHOWN_KEYS = ("email", "phone", "external_id", "ttclid", "ttp", "ip_user_agent")
KEY_LABELS = {
    "email": "email",
    "phone": "phone",
    "external_id": "external_id",
    "ttclid": "ttclid",
    "ttp": "_ttp",
    "ip_user_agent": "IP + user agent",
}
ADVICE = {
    "ttclid": "Load /tiktok-ads.js on your pages and send tiktokAds.ttclid() (or the landing "
    "page URL with its ?ttclid=) with server events.",
    "email": "Send the customer's email as user.email (it is hashed here before it is stored).",
    "phone": "Send the customer's phone as user.phone, with its country code or "
    "TIKTOK_DEFAULT_PHONE_REGION set.",
    "external_id": "Send your own customer id as user.external_id, the same on every event.",
    "ttp": "Send the _ttp cookie (tiktokAds.ttp()) as user.ttp.",
    "ip_user_agent": "Send the customer's IP and user agent (context.ip, context.user_agent) "
    "taken from their request, not your server's.",
}
_ADVICE_BELOW_SHARE = 0.9  # a key on 90 % of events or more needs no advice
_ADVICE_MIN_GAIN = 0.2  # nor one that would raise the score by less than this
_MAX_ADVICE = 3


def keys_of(match_keys: str) -> frozenset[str]:
    """The shown keys of a stored `match_keys` list (IP and user agent count as one)."""
    present = set(filter(None, match_keys.split(",")))
    if {"ip", "user_agent"} <= present:
        present.add("ip_user_agent")
    return frozenset(present & set(SHOWN_KEYS))


def event_score(keys: frozenset[str]) -> float:
    return sum(WEIGHTS[key] for key in keys if key in WEIGHTS)


def rating(score: float) -> str:
    if score >= 8:
        return "great"
    if score >= 6:
        return "good"
    if score >= 4:
        return "ok"
    return "poor"


@dataclass(slots=True)
class _Tally:
    events: int = 0
    generated: int = 0
    with_key: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHOWN_KEYS, 0))
    score_sum: float = 0.0

    def add(self, keys: frozenset[str], generated: bool, n: int) -> None:
        self.events += n
        self.generated += n if generated else 0
        for key in keys:
            self.with_key[key] += n
        self.score_sum += event_score(keys) * n

    def quality(self, name: str) -> dict[str, Any]:
        shares = {k: (c / self.events if self.events else 0.0) for k, c in self.with_key.items()}
        score = round(self.score_sum / self.events, 1) if self.events else 0.0
        gains = sorted(
            ((WEIGHTS[k] * (1 - s), k) for k, s in shares.items() if s < _ADVICE_BELOW_SHARE),
            reverse=True,
        )
        advice = [
            {"key": k, "gain": round(g, 1), "advice": ADVICE[k]}
            for g, k in gains
            if g >= _ADVICE_MIN_GAIN
        ][:_MAX_ADVICE]
        return {
            "event_type": name,
            "events": self.events,
            "keys": {k: round(100 * s, 1) for k, s in shares.items()},
            "score": score,
            "rating": rating(score),
            "advice": advice,
        }

    def dedup(self, name: str) -> dict[str, Any]:
        supplied = self.events - self.generated
        return {
            "event_type": name,
            "events": self.events,
            "supplied": supplied,
            "generated": self.generated,
            "supplied_pct": round(100 * supplied / self.events, 1) if self.events else None,
        }


def summarise(rows: Iterable[tuple[str, str, bool, int]]) -> dict[str, Any]:
    """(event name, match_keys, event_id generated, count) rows → match quality and dedup
    audit per event type, and over all events."""
    by_type: dict[str, _Tally] = {}
    total = _Tally()
    for name, match_keys, generated, n in rows:
        keys = keys_of(match_keys or "")
        by_type.setdefault(name, _Tally()).add(keys, bool(generated), n)
        total.add(keys, bool(generated), n)
    names = sorted(by_type, key=lambda name: (-by_type[name].events, name))
    return {
        "event_types": [by_type[name].quality(name) for name in names],
        "overall": total.quality("all"),
        "dedup": {
            **total.dedup("all"),
            "by_event_type": [by_type[name].dedup(name) for name in names],
        },
    }
