"""Parameter checks shared by the management endpoints, worded like TikTok's 40002 messages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import orjson
from starlette.requests import Request

from tiktok_ads.emulator.envelope import invalid
from tiktok_ads.emulator.validation import (
    EMPTY,
    NOT_BOOLEAN,
    NOT_INTEGER,
    NOT_LIST,
    NOT_OBJECT,
    NOT_STRING,
    REQUIRED,
    one_of,
)

if TYPE_CHECKING:
    from tiktok_ads.emulator.auth import Caller
    from tiktok_ads.emulator.state import EmulatorState

MAX_PAGE_SIZE = 100
#: Query parameters that are whole numbers; the rest stay strings (ids may be numeric).
_NUMERIC_QUERY = ("page", "page_size", "history_size")


def emulator_state(request: Request) -> EmulatorState:
    return cast("EmulatorState", request.app.state.emulator)


def identifier(body: Mapping[str, Any], key: str, where: str | None = None) -> str:
    """A required id; TikTok takes numeric ids as JSON strings or numbers alike."""
    value = body.get(key)
    where = where or key
    if value is None:
        invalid(where, REQUIRED)
    if type(value) is int:
        return str(value)
    return text(body, key, where=where)


def advertiser(body: Mapping[str, Any], caller: Caller) -> str:
    """The request's `advertiser_id`, which the token must be allowed to operate."""
    advertiser_id = identifier(body, "advertiser_id")
    caller.require_advertiser(advertiser_id)
    return advertiser_id


def text(
    body: Mapping[str, Any], key: str, *, where: str | None = None, max_length: int | None = None
) -> str:
    """A required non-empty string, optionally capped in length."""
    value = body.get(key)
    where = where or key
    if value is None:
        invalid(where, REQUIRED)
    if type(value) is not str:
        invalid(where, NOT_STRING)
    if not value.strip():
        invalid(where, EMPTY)
    if max_length is not None and len(value) > max_length:
        invalid(where, f"length must be between 1 and {max_length}.")
    return value


def choice(
    body: Mapping[str, Any],
    key: str,
    choices: tuple[str, ...],
    default: str | None = None,
    where: str | None = None,
) -> str:
    value = body.get(key, default)
    if value is None:
        invalid(where or key, REQUIRED)
    if value not in choices:
        invalid(where or key, one_of(choices))
    return cast(str, value)


def nonempty_list(value: object, where: str) -> list[Any]:
    if value is None:
        invalid(where, REQUIRED)
    if type(value) is not list:
        invalid(where, NOT_LIST)
    if not value:
        invalid(where, EMPTY)
    return value


def whole_number(value: object, where: str, low: int, high: int) -> int:
    if type(value) is not int:
        invalid(where, NOT_INTEGER)
    if not low <= value <= high:
        invalid(where, f"must be between {low} and {high}.")
    return value


def flag(body: Mapping[str, Any], key: str, default: bool, where: str | None = None) -> bool:
    value = body.get(key, default)
    if type(value) is not bool:
        invalid(where or key, NOT_BOOLEAN)
    return value


def obj(value: object, where: str) -> dict[str, Any]:
    if value is None:
        invalid(where, REQUIRED)
    if type(value) is not dict:
        invalid(where, NOT_OBJECT)
    return value


def id_list(value: object, where: str, low: int, high: int) -> list[str]:
    """A list of `low` to `high` ids (strings or numbers), as strings."""
    if value is None:
        invalid(where, REQUIRED)
    if type(value) is not list:
        invalid(where, NOT_LIST)
    if not low <= len(value) <= high:
        invalid(where, f"length must be between {low} and {high}.")
    ids = []
    for index, item in enumerate(value):
        if type(item) is int:
            item = str(item)
        if type(item) is not str or not item:
            invalid(f"{where}.{index}", NOT_STRING)
        ids.append(item)
    return ids


def query_json(request: Request, key: str) -> Any:
    """GET endpoints take arrays as JSON text, e.g. custom_audience_ids=["1","2"]."""
    raw = request.query_params.get(key)
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        invalid(key, "not a valid JSON value.")


def query_fields(request: Request, *keys: str) -> dict[str, Any]:
    """Query parameters as a body-like mapping; ids stay strings, `_NUMERIC_QUERY` are ints."""
    fields: dict[str, Any] = {}
    for key in keys:
        raw = request.query_params.get(key)
        if raw is None:
            continue
        if key in _NUMERIC_QUERY:
            try:
                fields[key] = int(raw)
            except ValueError:
                invalid(key, NOT_INTEGER)
        else:
            fields[key] = raw
    return fields


def paging(fields: Mapping[str, Any], default_size: int = 10) -> tuple[int, int]:
    page = whole_number(fields.get("page", 1), "page", 1, 1_000_000)
    size = whole_number(fields.get("page_size", default_size), "page_size", 1, MAX_PAGE_SIZE)
    return page, size


def page_info(page: int, page_size: int, total: int) -> dict[str, int]:
    return {
        "page": page,
        "page_size": page_size,
        "total_number": total,
        "total_page": math.ceil(total / page_size) if total else 0,
    }
