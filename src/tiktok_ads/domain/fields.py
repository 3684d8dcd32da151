"""Generic readers of an inbound event's fields, each recording a FieldError on a bad value."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tiktok_ads.domain.normalize import hash_external_id
from tiktok_ads.errors import FieldError

MAX_IDS_PER_KEY = 10
USER_CODE = 40003
EVENT_CODE = 40002


def fail(errors: list[FieldError], field: str, message: str) -> None:
    code = USER_CODE if field == "user" or field.startswith("user.") else EVENT_CODE
    errors.append(FieldError(field, message, code))


def section(raw: dict[str, Any], key: str, errors: list[FieldError]) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    fail(errors, key, "must be an object")
    return {}


def text(obj: dict[str, Any], key: str, field: str, errors: list[FieldError]) -> str | None:
    """A trimmed string; absent, null and blank are all None."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    fail(errors, field, "must be a string")
    return None


def text_or_int(obj: dict[str, Any], key: str, field: str, errors: list[FieldError]) -> str | None:
    """A trimmed string, or an integer as text (order ids, content ids)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    fail(errors, field, "must be a string or an integer")
    return None


def amount(value: object, field: str, errors: list[FieldError]) -> float | None:
    """A non-negative finite number; decimal strings ("150.00") too, as PHP decimals arrive."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        fail(errors, field, "must be a number")
        return None
    try:
        amount = float(value)
    except OverflowError:
        amount = math.inf
    except ValueError:
        fail(errors, field, "must be a number")
        return None
    if 0 <= amount < math.inf:
        return amount
    fail(errors, field, "must be a finite number ≥ 0")
    return None


def hashes(
    value: object, field: str, hasher: Callable[[str], str], errors: list[FieldError]
) -> list[str]:
    """One value or a list of up to 10, hashed; blanks skipped, repeats dropped."""
    if type(value) is str:  # the common case: one plain string
        if value and not value.isspace():
            try:
                return [hasher(value)]
            except ValueError as exc:
                fail(errors, field, str(exc))
        return []
    if value is None:
        return []
    if isinstance(value, str | int) and not isinstance(value, bool):
        items: list[Any] = [value]
        single = True
    elif isinstance(value, list):
        if len(value) > MAX_IDS_PER_KEY:
            fail(errors, field, f"must have at most {MAX_IDS_PER_KEY} values")
            return []
        items, single = value, False
    else:
        fail(errors, field, "must be a string or a list of strings")
        return []
    hashes: list[str] = []
    for index, item in enumerate(items):
        where = field if single else f"{field}.{index}"
        if isinstance(item, int) and not isinstance(item, bool) and hasher is hash_external_id:
            item = str(item)  # numeric user ids are common; only external_id takes them
        if not isinstance(item, str):
            fail(errors, where, "must be a string")
        elif item and not item.isspace():
            try:
                hashed = hasher(item)
            except ValueError as exc:
                fail(errors, where, str(exc))
            else:
                if hashed not in hashes:
                    hashes.append(hashed)
    return hashes
