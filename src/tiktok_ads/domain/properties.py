"""An inbound event's `properties` section read into TikTok's `properties` object."""

from __future__ import annotations

import math
from typing import Any

from tiktok_ads.domain.currencies import TIKTOK_CURRENCIES
from tiktok_ads.domain.fields import amount, fail, text, text_or_int
from tiktok_ads.errors import FieldError

MAX_CONTENTS = 1000
# TikTok's quantity is an int32; larger would also be past what the store's JSON writer takes.
MAX_QUANTITY = 2**31 - 1
_MAX_PLAIN_INT = 2**53
_CONTENT_TYPES = ("product", "product_group")
_CONTENT_TEXT = ("content_name", "content_category", "brand")
# Read by the checked reader only: rare enough that the plain one leaves them to it.
_RARE_KEYS = ("order_id", "shop_id", "query", "description")


def read_properties(props: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """TikTok's `properties` object: amounts as floats, ids as strings, absent keys left out."""
    if not props:
        return {}
    out = _plain_properties(props)
    if out is not None:
        return out
    return _checked_properties(props, errors)


def _plain_properties(props: dict[str, Any]) -> dict[str, Any] | None:
    """`_checked_properties` for the usual shape, without its generic readers: plain strings,
    float amounts, int quantities, known codes. None at the first thing it does not take (a
    rare key, a string amount, any problem): the checked reader then reads it all again.

    Builds the object in the same key order as `_checked_properties`.
    """
    out: dict[str, Any] = {}
    contents = props.get("contents")
    if contents is not None:
        if type(contents) is not list or len(contents) > MAX_CONTENTS:
            return None
        if contents:
            items = []
            for item in contents:
                content = _plain_content(item)
                if content is None:
                    return None
                items.append(content)
            out["contents"] = items
    content_type = props.get("content_type")
    if content_type is not None:
        if content_type not in _CONTENT_TYPES:
            return None
        out["content_type"] = content_type
    currency = props.get("currency")
    if currency is not None:
        if (
            type(currency) is not str
            or (currency := currency.strip().upper()) not in TIKTOK_CURRENCIES
        ):
            return None
        out["currency"] = currency
    value = props.get("value")
    if value is not None:
        if currency is None or (value := _plain_amount(value)) is None:
            return None
        out["value"] = value
    if not props.keys().isdisjoint(_RARE_KEYS):
        return None
    return out


def _plain_content(item: object) -> dict[str, Any] | None:
    """`_content` for a plain item (see `_plain_properties`), or None."""
    if type(item) is not dict:
        return None
    content_id = item.get("content_id")
    if type(content_id) is str:
        if not (content_id := content_id.strip()):
            return None
    elif type(content_id) is int:
        content_id = str(content_id)
    else:
        return None
    out: dict[str, Any] = {"content_id": content_id}
    for key in _CONTENT_TEXT:
        found = item.get(key)
        if found is not None:
            if type(found) is not str:
                return None
            if found := found.strip():
                out[key] = found
    price = item.get("price")
    if price is not None:
        if (price := _plain_amount(price)) is None:
            return None
        out["price"] = price
    quantity = item.get("quantity")
    if quantity is not None:
        if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
            return None
        out["quantity"] = quantity
    return out


def _plain_amount(value: object) -> float | None:
    """`amount` for a finite float or an int ≥ 0 (not past 2**53, so no overflow); else None."""
    if type(value) is float:
        return value if 0.0 <= value < math.inf else None
    if type(value) is int and 0 <= value <= _MAX_PLAIN_INT:
        return float(value)
    return None


def _checked_properties(props: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """Every key read and checked, each problem recorded."""
    out: dict[str, Any] = {}
    contents = props.get("contents")
    if contents is not None:
        if not isinstance(contents, list):
            fail(errors, "properties.contents", "must be a list")
        elif len(contents) > MAX_CONTENTS:
            fail(errors, "properties.contents", f"must have at most {MAX_CONTENTS} items")
        elif contents:
            out["contents"] = [
                _content(item, f"properties.contents.{index}", errors)
                for index, item in enumerate(contents)
            ]
    content_type = props.get("content_type")
    if content_type is not None:
        if content_type in _CONTENT_TYPES:
            out["content_type"] = content_type
        else:
            fail(errors, "properties.content_type", "must be 'product' or 'product_group'")
    value = amount(props.get("value"), "properties.value", errors)
    currency = text(props, "currency", "properties.currency", errors)
    if currency is not None:
        currency = currency.upper()
        if currency in TIKTOK_CURRENCIES:
            out["currency"] = currency
        elif len(currency) == 3 and currency.isalpha():
            message = f"unknown currency '{currency}' (not in TikTok's list)"
            fail(errors, "properties.currency", message)
        else:
            fail(errors, "properties.currency", "must be a 3-letter currency code (ISO 4217)")
    elif value is not None:
        fail(errors, "properties.currency", "is required when value is given")
    if value is not None:
        out["value"] = value
    for key in ("order_id", "shop_id"):
        if key in props and (found := text_or_int(props, key, "properties." + key, errors)):
            out[key] = found
    for key in ("query", "description"):
        if key in props and (found := text(props, key, "properties." + key, errors)):
            out[key] = found
    return out


def _content(item: object, field: str, errors: list[FieldError]) -> dict[str, Any]:
    if not isinstance(item, dict):
        fail(errors, field, "must be an object")
        return {}
    raw_id = item.get("content_id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        fail(errors, field + ".content_id", "is required")
    content_id = text_or_int(item, "content_id", field + ".content_id", errors)
    out: dict[str, Any] = {"content_id": content_id}
    for key in _CONTENT_TEXT:
        if key in item and (found := text(item, key, f"{field}.{key}", errors)):
            out[key] = found
    if (price := amount(item.get("price"), field + ".price", errors)) is not None:
        out["price"] = price
    quantity = item.get("quantity")
    if quantity is not None:
        if isinstance(quantity, float) and quantity.is_integer():
            quantity = int(quantity)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            fail(errors, field + ".quantity", "must be an integer ≥ 1")
        elif quantity > MAX_QUANTITY:
            fail(errors, field + ".quantity", f"must be at most {MAX_QUANTITY}")
        else:
            out["quantity"] = quantity
    return out
