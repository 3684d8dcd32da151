"""Properties of normalisation, hashing and prepare_event, checked on generated input."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson
import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_ads.domain.inbound import IngestRules, prepare_event
from tiktok_ads.domain.normalize import (
    hash_email,
    hash_external_id,
    hash_name,
    hash_phone,
    hash_zip,
)
from tiktok_ads.errors import ValidationFailed

FAST = settings(max_examples=200, deadline=None)
NOW = 1_705_326_700.0
HEX = "0123456789abcdefABCDEF"
HASHERS: list[Callable[[str], str]] = [
    hash_email,
    hash_external_id,
    hash_name,
    hash_zip,
    lambda raw: hash_phone(raw, None),
    lambda raw: hash_phone(raw, "RO"),
]
# Regions whose example number libphonenumber ships (all of them, today).
REGIONS = sorted(
    region
    for region in phonenumbers.SUPPORTED_REGIONS
    if phonenumbers.example_number(region) is not None
)
WHITESPACE = st.text(alphabet=" \t\n\r", max_size=3)

# An email: a local part and a domain with a dot, of letters and digits in either case.
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                min_size=1, max_size=12)  # fmt: skip
EMAILS = st.builds(
    lambda local, host, tld, sep: f"{local}{sep}{local[::-1]}@{host}.{tld}",
    _WORD,
    _WORD,
    _WORD,
    st.sampled_from(["", ".", "+", "_"]),
)


@FAST
@given(email=EMAILS, before=WHITESPACE, after=WHITESPACE, upper=st.booleans())
def test_email_hash_ignores_surrounding_whitespace_and_case(
    email: str, before: str, after: str, upper: bool
) -> None:
    """An email hashes the same whatever the whitespace around it and the case it is in."""
    variant = before + (email.upper() if upper else email.swapcase()) + after
    expected = hash_email(email)
    assert expected == hash_email(variant)


@FAST
@given(email=EMAILS)
def test_email_hash_is_sha256_of_the_lower_cased_address(email: str) -> None:
    """An email's hash is 64 lower-case hex characters: SHA-256 of the lower-cased address."""
    hashed = hash_email(email)
    assert 64 == len(hashed) and set(hashed) <= set("0123456789abcdef")
    expected = hashlib.sha256(email.lower().encode()).hexdigest()
    assert expected == hashed


@FAST
@given(value=st.text(alphabet=HEX, min_size=64, max_size=64), index=st.integers(0, 5))
def test_a_hash_passes_through_every_hasher_lower_cased(value: str, index: int) -> None:
    """64 hex characters are taken as a hash already: lower-cased, never hashed twice."""
    expected = value.lower()
    assert expected == HASHERS[index](value)


@st.composite
def phone_variants(draw: st.DrawFn) -> tuple[str, str]:
    """(E.164 with +, the same number written another way: spaces, dashes, parentheses, 00)."""
    number = phonenumbers.example_number(draw(st.sampled_from(REGIONS)))
    assert number is not None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    country = str(number.country_code)
    national = phonenumbers.national_significant_number(number)
    cuts = sorted(draw(st.sets(st.integers(1, len(national) - 1), max_size=4)))
    groups = [national[a:b] for a, b in zip([0, *cuts], [*cuts, len(national)], strict=True)]
    if len(groups) > 1 and draw(st.booleans()):
        groups[0] = f"({groups[0]})"
    written = groups[0]
    for group in groups[1:]:
        written += draw(st.sampled_from(["", " ", "-", " - ", "  "])) + group
    prefix = draw(st.sampled_from(["+", "00", "(+", "+"]))
    country_part = prefix + country + (")" if prefix == "(+" else "")
    return e164, country_part + draw(st.sampled_from(["", " ", "-"])) + written


@FAST
@given(variant=phone_variants())
def test_phone_formatting_variants_hash_like_e164(variant: tuple[str, str]) -> None:
    """A valid number written with spaces, dashes, parentheses or 00 hashes as its E.164 + form."""
    e164, written = variant
    expected = hashlib.sha256(e164.encode()).hexdigest()
    assert expected == hash_phone(written, None)


@FAST
@given(raw=st.text(), region=st.sampled_from([None, "RO", "US", "ro", "GB"]))
def test_hash_phone_fails_only_with_value_error(raw: str, region: str | None) -> None:
    """Any text either hashes to 64 hex characters or raises ValueError, nothing else."""
    try:
        hashed = hash_phone(raw, region)
    except ValueError:
        return
    assert 64 == len(hashed)


# The names prepare_event reads, so generated bodies reach past the first checks.
TOP_KEYS = ("event_type", "event_id", "event_time", "pixel_id", "consent", "limited_data_use")
USER_KEYS = (
    "email", "phone", "external_id", "first_name", "last_name", "zip_code", "city", "state",
    "country", "locale", "ttclid", "ttp",
)  # fmt: skip
CONTEXT_KEYS = ("page_url", "referrer", "ip", "user_agent", "locale", "ttclid", "ttp")
PROPERTY_KEYS = (
    "value", "currency", "content_type", "order_id", "shop_id", "query", "description",
)  # fmt: skip
CONTENT_KEYS = ("content_id", "quantity", "price", "content_name", "content_category", "brand")
LIKELY_TEXT = st.sampled_from([
    "CompletePayment", "customer@example.com", "+40721234567", "0721 234 567", "EUR", "product",
    "granted", "denied", "https://shop.example/?ttclid=E.C.P.x", "(", "10.0.0.1", "::1",
    "2024-01-15T13:50:00Z", "1705326600", "1705326600123", "1e400", "nan",
    "0001-01-01T00:00+01:00", "9999-12-31T23:59:59-23:59", "a" * 64, "",
])  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=1_705_000_000, max_value=1_705_400_000)
    | st.sampled_from([2**63, -(2**63) - 1, 10**30])  # past what a JSON writer takes
    | st.floats()
    | st.text(max_size=12)
    | LIKELY_TEXT
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(TOP_KEYS + USER_KEYS) | st.text(max_size=6), children,
                      max_size=4),
    max_leaves=12,
)  # fmt: skip


def section(keys: tuple[str, ...], values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly an object of the section's own keys, sometimes anything at all."""
    return st.dictionaries(st.sampled_from(keys), values, max_size=len(keys)) | JSON_LIKE


CONTENTS = st.lists(section(CONTENT_KEYS, SCALARS), max_size=3) | JSON_LIKE
EVENTS = st.fixed_dictionaries(
    {},
    optional={
        **{key: SCALARS | JSON_LIKE for key in TOP_KEYS},
        "user": section(USER_KEYS, SCALARS | st.lists(SCALARS, max_size=3)),
        "context": section(CONTEXT_KEYS, SCALARS),
        "properties": section(PROPERTY_KEYS, SCALARS) | st.fixed_dictionaries(
            {"contents": CONTENTS}, optional={"value": SCALARS, "currency": SCALARS}
        ),
    },
)  # fmt: skip
RULES = st.builds(
    IngestRules,
    default_phone_region=st.sampled_from([None, "RO", "US"]),
    strict_user_data=st.booleans(),
)


@FAST
@given(raw=EVENTS | JSON_LIKE, rules=RULES)
def test_prepare_event_fails_only_with_validation_failed(raw: Any, rules: IngestRules) -> None:
    """Whatever JSON arrives, prepare_event either prepares an event whose payload the store
    can write, or raises ValidationFailed naming fields; never anything else."""
    try:
        prepared = prepare_event(raw, now=NOW, rules=rules)
    except ValidationFailed as exc:
        assert exc.errors
        return
    orjson.dumps(prepared.payload)


NUMBERS = st.integers() | st.floats() | st.text(max_size=8) | st.sampled_from([2**64, 10**30])


@FAST
@given(
    contents=st.lists(
        st.fixed_dictionaries(
            {"content_id": st.integers() | st.text(max_size=8)},
            optional={"quantity": NUMBERS, "price": NUMBERS},
        ),
        max_size=3,
    ),
    value=NUMBERS,
)
def test_any_numbers_in_properties_are_written_or_refused(
    contents: list[dict[str, Any]], value: Any
) -> None:
    """Amounts, prices and quantities of any size either become a payload the store can write
    (orjson: 64-bit integers at most) or are refused naming the field."""
    body = {"event_type": "CompletePayment", "properties": {"value": value, "currency": "EUR",
                                                            "contents": contents}}  # fmt: skip
    try:
        prepared = prepare_event(body, now=NOW, rules=IngestRules())
    except ValidationFailed as exc:
        assert all(error.field.startswith("properties.") for error in exc.errors)
        return
    orjson.dumps(prepared.payload)
