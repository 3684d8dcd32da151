"""An inbound event's `properties` section read into TikTok's `properties` object."""

from __future__ import annotations

from typing import Any

from tiktok_ads.domain.currencies import TIKTOK_CURRENCIES
from tiktok_ads.domain.fields import amount, fail, text, text_or_int
from tiktok_ads.errors import FieldError

MAX_CONTENTS = 1000
# TikTok's quantity is an int32; larger would also be past what the store's JSON writer takes.
MAX_QUANTITY = 2**31 - 1


def read_properties(props: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """TikTok's `properties` object: amounts as floats, ids as strings, absent keys left out."""
    out: dict[str, Any] = {}
    if not props:
        return out
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
        if content_type in ("product", "product_group"):
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
    for key in ("content_name", "content_category", "brand"):
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
