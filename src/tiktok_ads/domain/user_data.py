"""An inbound event's `user` section read into TikTok's `user` object, personal data hashed."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

from tiktok_ads.domain.fields import hashes, text
from tiktok_ads.domain.normalize import (
    hash_email,
    hash_external_id,
    hash_name,
    hash_phone,
    hash_zip,
)
from tiktok_ads.errors import FieldError

_HASHED_USER_TEXT = (("first_name", hash_name), ("last_name", hash_name), ("zip_code", hash_zip))
_PLAIN_USER_TEXT = ("city", "state", "country")
# Keys most events lack: checked for at once, so that an event without them pays no loop.
_DETAIL_KEYS = ("first_name", "last_name", "zip_code", *_PLAIN_USER_TEXT)
_CLICK_KEYS = ("ttclid", "ttp", "locale")


def read_user(
    user_in: dict[str, Any],
    context: dict[str, Any],
    region: str | None,
    errors: list[FieldError],
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """TikTok's `user` object (hashed) and the identity hashes (external ids, then emails).

    ttclid, ttp and locale are taken from `context` when `user` lacks them (the seed's PHP
    example sends the click id and cookie there). National phones are read in `region`.
    Every match key found in `user_in` is a key of the object (`prepare_event` lists them).
    """
    user: dict[str, Any] = {}
    emails = hashes(user_in.get("email"), "user.email", hash_email, errors)
    phones = hashes(user_in.get("phone"), "user.phone", _phone_hasher(region), errors)
    external_ids = hashes(user_in.get("external_id"), "user.external_id", hash_external_id, errors)
    if emails:
        user["email"] = emails[0] if len(emails) == 1 else emails
    if phones:
        user["phone"] = phones[0] if len(phones) == 1 else phones
    if external_ids:
        user["external_id"] = external_ids[0] if len(external_ids) == 1 else external_ids
    if not user_in.keys().isdisjoint(_DETAIL_KEYS):
        for key, hasher in _HASHED_USER_TEXT:
            if key in user_in and (value := text(user_in, key, "user." + key, errors)):
                user[key] = hasher(value)
        for key in _PLAIN_USER_TEXT:
            if key in user_in and (value := text(user_in, key, "user." + key, errors)):
                user[key] = value.lower()
    if not (user_in.keys().isdisjoint(_CLICK_KEYS) and context.keys().isdisjoint(_CLICK_KEYS)):
        for key in _CLICK_KEYS:
            value = text(user_in, key, "user." + key, errors) if key in user_in else None
            if value is None and key in context:
                value = text(context, key, "context." + key, errors)
            if value is not None:
                user[key] = value
    return user, (*external_ids, *emails)


@cache
def _phone_hasher(region: str | None) -> Callable[[str], str]:
    """`hash_phone` reading national numbers in `region`: one per region, not one per event."""
    return partial(hash_phone, default_region=region)
