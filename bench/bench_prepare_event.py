"""How long `prepare_event` takes per typical event, phone cache warm and cold.

Run: .venv/bin/python -m bench.bench_prepare_event  (prints µs/event; asserts nothing)
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tiktok_ads.domain import normalize
from tiktok_ads.domain.inbound import IngestRules, prepare_event

NOW = 1_705_326_700.0
RULES = IngestRules(default_phone_region="RO")


def typical_event(n: int) -> dict[str, Any]:
    """The seed's purchase: email, phone, external_id, ip, user agent, page_url, 2 contents."""
    return {
        "event_type": "CompletePayment",
        "event_time": 1_705_326_600,
        "event_id": f"order_{n}",
        "user": {
            "email": f"customer{n}@example.com",
            "phone": f"+4072{n % 10_000_000:07d}",
            "external_id": f"user_{n}",
        },
        "properties": {
            "value": 150.00,
            "currency": "EUR",
            "content_type": "product",
            "contents": [
                {"content_id": "ticket_789", "content_name": "VIP", "quantity": 2, "price": 75.0},
                {"content_id": "ticket_790", "content_name": "GA", "quantity": 1, "price": 0.0},
            ],
        },
        "context": {
            "page_url": "https://shop.example/checkout/complete?ttclid=E.C.P.abc123",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            "ip": "203.0.113.7",
        },
    }


def per_event_us(events: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for event in events:
        prepare_event(event, now=NOW, rules=RULES)
    return (time.perf_counter() - start) / len(events) * 1e6


def main() -> None:
    count = 20_000
    cold = [typical_event(n) for n in range(count)]
    normalize._e164.cache_clear()
    cold_us = per_event_us(cold)  # every phone number new: a parse each
    warm_us = min(per_event_us(copy.deepcopy(cold[:10_000])) for _ in range(5))
    same = [typical_event(0) for _ in range(count)]
    same_us = min(per_event_us(same) for _ in range(5))
    print(f"prepare_event, typical event, phone cache cold: {cold_us:6.1f} µs/event")
    print(f"prepare_event, typical event, phone cache warm: {warm_us:6.1f} µs/event")
    print(f"prepare_event, one event repeated (warm):       {same_us:6.1f} µs/event")


if __name__ == "__main__":
    main()
