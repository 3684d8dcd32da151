"""The bodies of the audience API checked by hand, every problem named by its field (422)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktok_ads.domain.audience_rules import SegmentRule, read_rule
from tiktok_ads.domain.audiences import IdType, SyncAction, parse_id_schema
from tiktok_ads.errors import FieldError, ValidationFailed

MAX_NAME_CHARS = 128  # TikTok's limit on custom_audience_name
MAX_ADVERTISER_CHARS = 64
AUDIENCE_TYPES = ("CUSTOMER_FILE",)
AUDIENCE_SIZES = ("NARROW", "BALANCED", "BROAD")
USAGE_MODES = ("Include", "Exclude")
ACTION_MODES = ("Apply", "Disconnect")
MAX_ADGROUPS = 100  # apply/ takes at most 100 ad groups per call
MAX_LOCATIONS = 1000


@dataclass(frozen=True, slots=True)
class NewAudience:
    advertiser_id: str
    name: str
    audience_type: str
    rule: SegmentRule | None = None  # a segment from tracked events


@dataclass(frozen=True, slots=True)
class SyncRequest:
    action: SyncAction
    schema: tuple[IdType, ...]
    rows: list[tuple[int, list[str]]]  # (index in `members`, cells)


@dataclass(frozen=True, slots=True)
class LookalikeRequest:
    name: str
    audience_size: str
    location_ids: tuple[str, ...]
    include_source: bool


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    adgroup_ids: tuple[str, ...]
    action_mode: str
    usage_mode: str | None


def _object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("body", "must be a JSON object")])
    return body


def _text(body: dict[str, Any], key: str, errors: list[FieldError], limit: int) -> str:
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # ids written as JSON numbers
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(key, "is required (a non-empty string)"))
        return ""
    value = value.strip()
    if len(value) > limit or not value.isprintable():
        errors.append(FieldError(key, f"must be at most {limit} printable characters"))
    return value


def _choice(
    body: dict[str, Any], key: str, choices: tuple[str, ...], errors: list[FieldError], **kw: Any
) -> str:
    value = body.get(key, kw.get("default"))
    by_upper = {choice.upper(): choice for choice in choices}
    chosen = by_upper.get(value.upper()) if isinstance(value, str) else None
    if chosen is None:
        errors.append(FieldError(key, "must be one of " + ", ".join(choices)))
        return ""
    return chosen


def _ids(value: object, key: str, errors: list[FieldError], limit: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= limit:
        errors.append(FieldError(key, f"must be a list of 1 to {limit} ids"))
        return ()
    ids: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip().isalnum():
            errors.append(FieldError(f"{key}.{index}", "must be an id (letters and digits)"))
        else:
            ids.append(item.strip())
    return tuple(ids)


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def read_new_audience(body: object, *, max_rule_days: int) -> NewAudience:
    """The seed's create body, with an optional `rule` (its window at most `max_rule_days`)."""
    raw = _object(body)
    errors: list[FieldError] = []
    advertiser_id = _text(raw, "advertiser_id", errors, MAX_ADVERTISER_CHARS)
    name = _text(raw, "custom_audience_name", errors, MAX_NAME_CHARS)
    audience_type = _choice(raw, "audience_type", AUDIENCE_TYPES, errors, default="CUSTOMER_FILE")
    rule = None
    if raw.get("rule") is not None:
        try:
            rule = read_rule(raw["rule"], max_days=max_rule_days)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    _raise(errors)
    return NewAudience(advertiser_id, name, audience_type, rule)


def read_sync(body: object) -> SyncRequest:
    """The seed's sync body: each row aligned with id_schema, "" (or null) a missing id."""
    raw = _object(body)
    errors: list[FieldError] = []
    action = _choice(raw, "action", tuple(SyncAction), errors)
    schema: tuple[IdType, ...] = ()
    try:
        schema = parse_id_schema(raw.get("id_schema"))
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    members = raw.get("members")
    rows: list[tuple[int, list[str]]] = []
    if not isinstance(members, list):
        errors.append(FieldError("members", "must be a list of rows aligned with id_schema"))
    elif schema:
        for index, row in enumerate(members):
            cells = _row(row, index, len(schema), errors)
            if cells is not None:
                rows.append((index, cells))
            if len(errors) >= 20:  # enough to see the pattern
                break
    _raise(errors)
    return SyncRequest(SyncAction(action), schema, rows)


def _row(row: object, index: int, width: int, errors: list[FieldError]) -> list[str] | None:
    where = f"members.{index}"
    if not isinstance(row, list):
        errors.append(FieldError(where, "must be a list aligned with id_schema"))
        return None
    if len(row) != width:
        errors.append(FieldError(where, f"has {len(row)} values; id_schema has {width}"))
        return None
    cells: list[str] = []
    for column, cell in enumerate(row):
        if cell is None:
            cells.append("")
        elif isinstance(cell, str):
            cells.append(cell)
        elif isinstance(cell, int) and not isinstance(cell, bool):
            cells.append(str(cell))  # a phone number written as a JSON number
        else:
            errors.append(FieldError(f"{where}.{column}", "must be a string"))
            return None
    return cells


def read_lookalike(body: object) -> LookalikeRequest:
    raw = _object(body)
    errors: list[FieldError] = []
    name = _text(raw, "custom_audience_name", errors, MAX_NAME_CHARS)
    size = _choice(raw, "audience_size", AUDIENCE_SIZES, errors, default="BALANCED")
    locations = _ids(raw.get("location_ids"), "location_ids", errors, MAX_LOCATIONS)
    include_source = raw.get("include_source", False)
    if not isinstance(include_source, bool):
        errors.append(FieldError("include_source", "must be true or false"))
    _raise(errors)
    return LookalikeRequest(name, size, locations, bool(include_source))


def read_apply(body: object) -> ApplyRequest:
    raw = _object(body)
    errors: list[FieldError] = []
    adgroup_ids = _ids(raw.get("adgroup_ids"), "adgroup_ids", errors, MAX_ADGROUPS)
    action_mode = _choice(raw, "action_mode", ACTION_MODES, errors, default="Apply")
    usage_mode: str | None = None
    if action_mode == "Apply":
        # No default: an exclusion list applied as an inclusion would target exactly the wrong
        # people.
        usage_mode = _choice(raw, "usage_mode", USAGE_MODES, errors)
    _raise(errors)
    return ApplyRequest(adgroup_ids, action_mode, usage_mode)
