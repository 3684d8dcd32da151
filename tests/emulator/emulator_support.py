"""Helpers for the emulator's tests: constants, a movable clock, request builders."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import httpx

TOKEN = "0123456789abcdef0123456789abcdef01234567"
PIXEL = "CUSG5HBC77UD11VVRQEG"
ADVERTISER = "7001234567890"
START = 1_705_326_600.0  # 2024-01-15 13:50:00 UTC
API = "/open_api/v1.3"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def web_event(**fields: Any) -> dict[str, Any]:
    """A valid, fully hashed web event; keyword arguments replace top-level fields."""
    event: dict[str, Any] = {
        "event": "CompletePayment",
        "event_time": int(START) - 60,
        "event_id": "order-1",
        "user": {
            "email": sha256("alice@example.com"),
            "phone": sha256("+12133734253"),
            "external_id": sha256("user_123"),
            "ttclid": "E.C.P.abc",
            "ip": "13.57.97.131",
            "user_agent": "Mozilla/5.0",
        },
        "properties": {
            "contents": [
                {"content_id": "ticket_789", "content_name": "VIP", "price": 75.0, "quantity": 2}
            ],
            "content_type": "product",
            "currency": "EUR",
            "value": 150.0,
        },
        "page": {"url": "https://shop.example/checkout"},
    }
    event.update(fields)
    return event


def set_path(document: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of `document` with the dotted field set (or removed when value is DELETE)."""
    result = copy.deepcopy(document)
    *parents, last = dotted.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


DELETE = object()


def track_body(*events: dict[str, Any], **top: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_source": "web",
        "event_source_id": PIXEL,
        "data": list(events) or [web_event()],
    }
    body.update(top)
    return body


async def call(
    client: httpx.AsyncClient, path: str, body: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """POST (or GET when body is None and no files) to an API path; the envelope as a dict."""
    url = f"{API}/{path}"
    if body is None and "files" not in kwargs:
        response = await client.get(url, **kwargs)
    elif "files" in kwargs:
        response = await client.post(url, data=body, **kwargs)
    else:
        response = await client.post(url, json=body, **kwargs)
    assert response.status_code == 200, response.text
    envelope: dict[str, Any] = response.json()
    return envelope
