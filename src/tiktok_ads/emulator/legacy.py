"""Events API 1.0 validation (pixel/track, pixel/batch): pixel_code, ISO timestamp, context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tiktok_ads.emulator.envelope import invalid
from tiktok_ads.emulator.validation import (
    EMPTY,
    NOT_LIST,
    NOT_OBJECT,
    NOT_STRING,
    REQUIRED,
    check_hashed,
    check_properties,
)

MAX_LEGACY_BATCH = 50
LEGACY_BATCH_SIZE = "length must be between 1 and 50."
NOT_DATETIME = "not a valid ISO-8601 datetime."
LEGACY_HASHED = ("external_id", "email", "phone_number")


@dataclass(slots=True)
class LegacyBatch:
    """Events 1.0 request, checked: one pixel, its events and their notes."""

    pixel_code: str
    test_event_code: str | None
    events: list[dict[str, Any]]
    notes: list[list[str]]


def read_single(body: dict[str, Any]) -> LegacyBatch:
    """pixel/track: one event with `pixel_code` beside it."""
    pixel_code = _pixel_code(body)
    test_code = _test_code(body)
    notes = check_legacy_event(body, "")
    return LegacyBatch(pixel_code, test_code, [body], [notes])


def read_many(body: dict[str, Any]) -> LegacyBatch:
    """pixel/batch: `batch` of up to 50 events for one `pixel_code`."""
    pixel_code = _pixel_code(body)
    test_code = _test_code(body)
    batch = body.get("batch")
    if batch is None:
        invalid("batch", REQUIRED)
    if type(batch) is not list:
        invalid("batch", NOT_LIST)
    if not 1 <= len(batch) <= MAX_LEGACY_BATCH:
        invalid("batch", LEGACY_BATCH_SIZE)
    notes = []
    for i, event in enumerate(batch):
        if type(event) is not dict:
            invalid(f"batch.{i}", NOT_OBJECT)
        notes.append(check_legacy_event(event, f"batch.{i}."))
    return LegacyBatch(pixel_code, test_code, batch, notes)


def check_legacy_event(event: dict[str, Any], prefix: str) -> list[str]:
    """One 1.0 event; `prefix` is "" for pixel/track and "batch.<i>." for pixel/batch."""
    notes: list[str] = []
    name = event.get("event")
    if name is None:
        invalid(f"{prefix}event", REQUIRED)
    if type(name) is not str:
        invalid(f"{prefix}event", NOT_STRING)
    if not name:
        invalid(f"{prefix}event", EMPTY)
    event_id = event.get("event_id")
    if event_id is not None and type(event_id) is not str:
        invalid(f"{prefix}event_id", NOT_STRING)
    timestamp = event.get("timestamp")
    if timestamp is not None:
        if type(timestamp) is not str:
            invalid(f"{prefix}timestamp", NOT_DATETIME)
        try:
            datetime.fromisoformat(timestamp)
        except ValueError:
            invalid(f"{prefix}timestamp", NOT_DATETIME)
    context = event.get("context")
    if context is not None:
        _check_context(context, f"{prefix}context", notes)
    properties = event.get("properties")
    if properties is not None:
        check_properties(properties, f"{prefix}properties", "properties", notes)
    return notes


def _check_context(context: object, where: str, notes: list[str]) -> None:
    if type(context) is not dict:
        invalid(where, NOT_OBJECT)
    for section, strings in (("ad", ("callback",)), ("page", ("url", "referrer"))):
        part = context.get(section)
        if part is None:
            continue
        if type(part) is not dict:
            invalid(f"{where}.{section}", NOT_OBJECT)
        for key in strings:
            value = part.get(key)
            if value is not None and type(value) is not str:
                invalid(f"{where}.{section}.{key}", NOT_STRING)
    user = context.get("user")
    if user is not None:
        if type(user) is not dict:
            invalid(f"{where}.user", NOT_OBJECT)
        for key in LEGACY_HASHED:
            value = user.get(key)
            if value is not None:
                check_hashed(value, f"{where}.user", "context.user", key, notes)
    for key in ("user_agent", "ip", "locale"):
        value = context.get(key)
        if value is not None and type(value) is not str:
            invalid(f"{where}.{key}", NOT_STRING)


def _pixel_code(body: dict[str, Any]) -> str:
    pixel_code = body.get("pixel_code")
    if pixel_code is None:
        invalid("pixel_code", REQUIRED)
    if type(pixel_code) is not str:
        invalid("pixel_code", NOT_STRING)
    if not pixel_code:
        invalid("pixel_code", EMPTY)
    return pixel_code


def _test_code(body: dict[str, Any]) -> str | None:
    test_code = body.get("test_event_code")
    if test_code is not None and type(test_code) is not str:
        invalid("test_event_code", NOT_STRING)
    return test_code or None
