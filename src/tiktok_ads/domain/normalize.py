"""Personal data normalised and hashed by TikTok's rules (SHA-256 hex; phones as E.164 with `+`).

Every `hash_*` passes a value that already is 64 hex characters through (lower-cased): it was
hashed by the caller, and hashing it twice would make it unmatchable.
"""

from __future__ import annotations

import re
from functools import lru_cache
from hashlib import sha256
from urllib.parse import unquote_plus

import phonenumbers

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# One @, a non-empty local part, a domain with a dot inside it, no whitespace anywhere.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]")
_E164 = phonenumbers.PhoneNumberFormat.E164
# Parsing a phone costs ~20 µs; shoppers come back, so remember recent answers (per process).
_PHONE_CACHE_SIZE = 16384


def _sha256_hex(text: str) -> str:
    return sha256(text.encode()).hexdigest()


def _hashed_or_none(value: str) -> str | None:
    """The lower-cased hash when `value` (trimmed) already is one, else None."""
    if len(value) == 64 and _SHA256_HEX.fullmatch(value):
        return value.lower()
    return None


def _trimmed(raw: str, what: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError(f"{what} is empty")
    return value


def hash_email(raw: str) -> str:
    """SHA-256 of the trimmed, lower-cased address; refuses what does not look like an email."""
    value = _trimmed(raw, "email")
    hashed = _hashed_or_none(value)
    if hashed is not None:
        return hashed
    value = value.lower()
    if _EMAIL.fullmatch(value) is None:
        raise ValueError("not an email address (expected name@domain.tld)")
    return _sha256_hex(value)


def normalize_phone(raw: str, default_region: str | None) -> str:
    """The number in E.164 (`+40721234567`); national numbers need `default_region` ("RO")."""
    value = _trimmed(raw, "phone")
    region = default_region.upper() if default_region else None
    return _e164(value, region)


@lru_cache(maxsize=_PHONE_CACHE_SIZE)
def _e164(value: str, region: str | None) -> str:
    if value.startswith("00"):
        # The international call prefix of most of the world; a national number never starts so.
        value = "+" + value[2:]
    international = value.startswith("+")
    number = _parse_valid(value, None if international else region)
    if number is None and not international:
        # "12133734253": a country code without the +; take it only when it makes a real number.
        number = _parse_valid("+" + value, None)
    if number is not None:
        return phonenumbers.format_number(number, _E164)
    if international or region:
        raise ValueError("not a valid phone number")
    raise ValueError(
        "not a valid international phone number; start it with + and the country code,"
        " or set TIKTOK_DEFAULT_PHONE_REGION to read national numbers"
    )


def _parse_valid(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def hash_phone(raw: str, default_region: str | None) -> str:
    """SHA-256 of the E.164 form, `+` included (TikTok cannot match a hash without it)."""
    value = _trimmed(raw, "phone")
    hashed = _hashed_or_none(value)
    if hashed is not None:
        return hashed
    return _sha256_hex(normalize_phone(value, default_region))


def hash_external_id(raw: str) -> str:
    """SHA-256 of the trimmed id, case kept (ids are case-sensitive)."""
    value = _trimmed(raw, "external_id")
    hashed = _hashed_or_none(value)
    if hashed is not None:
        return hashed
    return _sha256_hex(value)


_ADVERTISING_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_NO_ADVERTISING_ID = "00000000-0000-0000-0000-000000000000"


def hash_advertising_id(raw: str, *, upper: bool) -> str:
    """SHA-256 of a mobile advertising id (a UUID): IDFA upper-cased, Android's AAID lower-cased.

    The all-zero id is what a device sends when the user limited ad tracking: nobody's id.
    """
    value = _trimmed(raw, "advertising id")
    hashed = _hashed_or_none(value)
    if hashed is not None:
        return hashed
    if _ADVERTISING_ID.fullmatch(value) is None:
        raise ValueError("not an advertising id (expected a UUID, 8-4-4-4-12 hex digits)")
    if value == _NO_ADVERTISING_ID:
        raise ValueError("the all-zero advertising id (limited ad tracking) names nobody")
    return _sha256_hex(value.upper() if upper else value.lower())


def hash_name(raw: str) -> str:
    """SHA-256 of a trimmed, lower-cased first or last name."""
    value = _trimmed(raw, "name")
    hashed = _hashed_or_none(value)
    if hashed is not None:
        return hashed
    return _sha256_hex(value.lower())


def hash_zip(raw: str) -> str:
    """SHA-256 of a postal code trimmed, lower-cased, spaces removed ("SW1A 1AA" → "sw1a1aa")."""
    value = _trimmed(raw, "zip_code")
    hashed = _hashed_or_none(value)
    if hashed is not None:
        return hashed
    return _sha256_hex(value.lower().replace(" ", ""))


def ttclid_from_url(url: str) -> str | None:
    """The `ttclid` query parameter of a landing or page URL, if it carries one."""
    if "ttclid=" not in url:
        return None
    # What urlsplit + parse_qs would say, at a tenth of the cost: pairs split on "&".
    query = url.partition("#")[0].partition("?")[2]
    for pair in query.split("&"):
        if pair.startswith("ttclid="):
            value = unquote_plus(pair[7:]).strip()
            if value:
                return value
    return None
