"""An inbound event's `user` section read into TikTok's `user` object, personal data hashed."""

from __future__ import annotations

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


def read_user(
    user_in: dict[str, Any],
    context: dict[str, Any],
    region: str | None,
    errors: list[FieldError],
) -> tuple[dict[str, Any], set[str], tuple[str, ...]]:
    """TikTok's `user` object (hashed), the match keys present, and the identity hashes.

    ttclid, ttp and locale are taken from `context` when `user` lacks them (the seed's PHP
    example sends the click id and cookie there). National phones are read in `region`.
    """
    user: dict[str, Any] = {}
    present: set[str] = set()
    emails = hashes(user_in.get("email"), "user.email", hash_email, errors)
    phones = hashes(user_in.get("phone"), "user.phone", lambda raw: hash_phone(raw, region), errors)
    external_ids = hashes(user_in.get("external_id"), "user.external_id", hash_external_id, errors)
    for key, found in (("email", emails), ("phone", phones), ("external_id", external_ids)):
        if found:
            user[key] = found[0] if len(found) == 1 else found
            present.add(key)
    for key, hasher in _HASHED_USER_TEXT:
        if key in user_in and (value := text(user_in, key, "user." + key, errors)):
            user[key] = hasher(value)
            present.add(key)
    for key in ("city", "state", "country"):
        if key in user_in and (value := text(user_in, key, "user." + key, errors)):
            user[key] = value.lower()
    for key in ("ttclid", "ttp", "locale"):
        value = text(user_in, key, "user." + key, errors) if key in user_in else None
        if value is None and key in context:
            value = text(context, key, "context." + key, errors)
        if value is not None:
            user[key] = value
    if "ttp" in user:
        present.add("ttp")
    return user, present, (*external_ids, *emails)
