"""The `"rule"` of a segment audience: who, among the people whose events we hold, belongs.

`{"event_type", "min_count" [1], "min_value", "within_days", "content_ids",
"content_category", "without_event_type", "pixel_id"}`: people with at least `min_count`
events of `event_type` (whose values add up to `min_value`, with a content of those ids or
that category) within the last `within_days` days, and no `without_event_type` event then.
Checked by hand like every request body; each problem names its field (`rule.<field>`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from tiktok_ads.errors import FieldError, ValidationFailed

MAX_EVENT_TYPE_CHARS = 100  # as for events
MAX_CONTENT_IDS = 100
MAX_TEXT_CHARS = 128
MAX_MIN_COUNT = 1_000_000
FIELDS = (
    "event_type",
    "min_count",
    "min_value",
    "within_days",
    "content_ids",
    "content_category",
    "without_event_type",
    "pixel_id",
)


@dataclass(frozen=True, slots=True)
class SegmentRule:
    event_type: str
    within_days: int
    min_count: int = 1
    min_value: float | None = None
    content_ids: tuple[str, ...] = ()
    content_category: str | None = None
    without_event_type: str | None = None
    pixel_id: str | None = None  # None: every pixel of the audience's advertiser

    def to_json(self) -> str:
        """Stored and shown with every field resolved (defaults written out)."""
        body = asdict(self)
        body["content_ids"] = list(self.content_ids)
        return orjson.dumps({k: v for k, v in body.items() if v not in (None, [])}).decode()

    @classmethod
    def from_json(cls, text: str) -> SegmentRule:
        body: dict[str, Any] = orjson.loads(text)
        body["content_ids"] = tuple(body.get("content_ids", ()))
        return cls(**body)

    @property
    def window_s(self) -> float:
        return self.within_days * 86400.0


def read_rule(value: object, *, max_days: int) -> SegmentRule:
    """The rule of a create body; `max_days` is how long events are kept (the longest window)."""
    if not isinstance(value, dict):
        raise ValidationFailed([FieldError("rule", "must be an object")])
    errors: list[FieldError] = []
    for key in value:
        if key not in FIELDS:
            errors.append(FieldError(f"rule.{key}", "is not a rule field: " + ", ".join(FIELDS)))
    event_type = _name(value, "event_type", errors, required=True)
    without = _name(value, "without_event_type", errors, required=False)
    if without is not None and without == event_type:
        errors.append(FieldError("rule.without_event_type", "must differ from event_type"))
    min_count = _whole(value, "min_count", 1, MAX_MIN_COUNT, errors, default=1)
    within_days = _whole(value, "within_days", 1, max_days, errors, default=max_days)
    min_value = value.get("min_value")
    if min_value is not None:
        if isinstance(min_value, bool) or not isinstance(min_value, int | float):
            errors.append(FieldError("rule.min_value", "must be a number"))
            min_value = None
        elif not (0 <= min_value < math.inf):
            errors.append(FieldError("rule.min_value", "must be a finite number ≥ 0"))
            min_value = None
        else:
            min_value = float(min_value)
    content_ids = _content_ids(value.get("content_ids"), errors)
    category = _text(value, "content_category", errors)
    pixel_id = _text(value, "pixel_id", errors)
    if errors:
        raise ValidationFailed(errors)
    return SegmentRule(
        event_type=event_type or "",
        within_days=within_days,
        min_count=min_count,
        min_value=min_value,
        content_ids=content_ids,
        content_category=category,
        without_event_type=without,
        pixel_id=pixel_id,
    )


def _name(body: dict[str, Any], key: str, errors: list[FieldError], required: bool) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            errors.append(FieldError(f"rule.{key}", "is required (an event name)"))
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(f"rule.{key}", "must be an event name (a non-empty string)"))
        return None
    name = value.strip()
    if len(name) > MAX_EVENT_TYPE_CHARS or not name.isprintable():
        message = f"must be at most {MAX_EVENT_TYPE_CHARS} printable characters"
        errors.append(FieldError(f"rule.{key}", message))
        return None
    return name


def _whole(
    body: dict[str, Any], key: str, low: int, high: int, errors: list[FieldError], default: int
) -> int:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(FieldError(f"rule.{key}", f"must be a whole number from {low} to {high}"))
        return default
    return value


def _text(body: dict[str, Any], key: str, errors: list[FieldError]) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_CHARS:
        message = f"must be a non-empty string of at most {MAX_TEXT_CHARS} characters"
        errors.append(FieldError(f"rule.{key}", message))
        return None
    return value.strip()


def _content_ids(value: object, errors: list[FieldError]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CONTENT_IDS:
        errors.append(FieldError("rule.content_ids", f"must be a list of 1 to {MAX_CONTENT_IDS}"))
        return ()
    found: list[str] = []
    for index, item in enumerate(value):
        # Content ids are stored as text (a JSON number arrives as its digits).
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_TEXT_CHARS:
            errors.append(FieldError(f"rule.content_ids.{index}", "must be a content id"))
        elif item.strip() not in found:
            found.append(item.strip())
    return tuple(found)
