"""Normalising and hashing personal data by TikTok's rules (tiktok-api.md §3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from tiktok_ads.domain.currencies import TIKTOK_CURRENCIES
from tiktok_ads.domain.normalize import (
    hash_email,
    hash_external_id,
    hash_name,
    hash_phone,
    hash_zip,
    normalize_phone,
    ttclid_from_url,
)
from tiktok_ads.emulator.validation import CURRENCIES as EMULATOR_CURRENCIES

EMAIL_VECTOR = "848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f"
PHONE_VECTOR = "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"
EXTERNAL_ID_VECTOR = "80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b"
RO_PHONE_HASH = "bc4d7e7d07c12f4ef1c15e16cbdf0c19868e561bff2f2a5a14ba770f97220d67"  # +40721234567


def test_email_vector() -> None:
    """An email is trimmed, lower-cased and hashed: TikTok's published vector."""
    expected = EMAIL_VECTOR
    assert expected == hash_email(" ALICE_abc@gmail.com ")


def test_phone_vector() -> None:
    """A phone is hashed in E.164 with its leading +: TikTok's published vector."""
    expected = PHONE_VECTOR
    assert expected == hash_phone("(+1)2133734253", None)


def test_external_id_vector() -> None:
    """An external_id is hashed as given: TikTok's published vector."""
    expected = EXTERNAL_ID_VECTOR
    assert expected == hash_external_id("user_123")


def test_external_id_is_trimmed_but_keeps_its_case() -> None:
    """Only surrounding whitespace goes; ids are case-sensitive, so case changes the hash."""
    expected = [EXTERNAL_ID_VECTOR, hashlib.sha256(b"USER_123").hexdigest()]
    assert expected == [hash_external_id("  user_123\t"), hash_external_id("USER_123")]


@pytest.mark.parametrize(
    ("hasher", "vector"),
    [
        (hash_email, EMAIL_VECTOR),
        (lambda raw: hash_phone(raw, None), PHONE_VECTOR),
        (lambda raw: hash_phone(raw, "RO"), PHONE_VECTOR),
        (hash_external_id, EXTERNAL_ID_VECTOR),
        (hash_name, EMAIL_VECTOR),
        (hash_zip, EXTERNAL_ID_VECTOR),
    ],
)
def test_hashes_pass_through_lower_cased(hasher: Callable[[str], str], vector: str) -> None:
    """A value that already is 64 hex characters is lower-cased, never hashed twice."""
    expected = vector
    assert expected == hasher("  " + vector.upper() + " ")


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "alice", "alice@", "@gmail.com", "alice@gmail", "al ice@gmail.com",
     "a@b@gmail.com", "alice@.com", "alice@gmail."],
)  # fmt: skip
def test_email_must_look_like_an_email(raw: str) -> None:
    """What is not name@domain.tld is refused with a ValueError."""
    with pytest.raises(ValueError, match="email"):
        hash_email(raw)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+40721234567", None, "+40721234567"),
        ("+40 721 234 567", "US", "+40721234567"),
        ("0721 234 567", "RO", "+40721234567"),
        ("0721 234 567", "ro", "+40721234567"),
        ("0040721234567", None, "+40721234567"),
        ("0040721234567", "US", "+40721234567"),
        ("12133734253", None, "+12133734253"),
        ("(213) 373-4253", "US", "+12133734253"),
        ("(+1)2133734253", None, "+12133734253"),
        ("40721234567", "US", "+40721234567"),
    ],
)
def test_normalize_phone(raw: str, region: str | None, expected: str) -> None:
    """Phones become E.164; national numbers are read in the default region."""
    assert expected == normalize_phone(raw, region)


def test_national_phone_without_region_names_the_setting() -> None:
    """A national number with no default region explains how to make it readable."""
    with pytest.raises(ValueError, match="TIKTOK_DEFAULT_PHONE_REGION"):
        normalize_phone("0721 234 567", None)


@pytest.mark.parametrize(
    ("raw", "region"),
    [("+1 555", None), ("+40 12", "RO"), ("not a phone", "RO"), ("", "RO"), ("12", "RO")],
)
def test_invalid_phone_is_refused(raw: str, region: str | None) -> None:
    """What libphonenumber does not call valid is refused with a ValueError."""
    with pytest.raises(ValueError, match="phone"):
        normalize_phone(raw, region)


def test_hash_phone_hashes_the_e164_form() -> None:
    """A national number and its E.164 form hash the same, the + included."""
    expected = RO_PHONE_HASH
    assert expected == hash_phone("0721 234 567", "RO")
    expected = RO_PHONE_HASH
    assert expected == hash_phone("+40721234567", None)


def test_hash_name_trims_and_lower_cases() -> None:
    """First and last names are trimmed and lower-cased before hashing."""
    expected = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"  # "alice"
    assert expected == hash_name("  Alice ")


def test_hash_zip_drops_spaces() -> None:
    """Postal codes lose their spaces and case before hashing."""
    expected = "830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614"  # "sw1a1aa"
    assert expected == hash_zip(" SW1A 1AA ")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example/?ttclid=E.C.P.abc", "E.C.P.abc"),
        ("https://shop.example/p?x=1&ttclid=E.C.P.a%2Bb&y=2", "E.C.P.a+b"),
        ("https://shop.example/p?ttclid=&ttclid=E.C.P.second", "E.C.P.second"),
        ("https://shop.example/p?xttclid=nope", None),
        ("https://shop.example/p#ttclid=E.C.P.fragment", None),
        ("https://shop.example/checkout", None),
        ("https://shop.example/p?ttclid=", None),
    ],
)
def test_ttclid_from_url(url: str, expected: str | None) -> None:
    """The click id is the page URL's `ttclid` query parameter, when it has one."""
    assert expected == ttclid_from_url(url)


def test_currencies_are_the_ones_tiktok_accepts() -> None:
    """Our currency list is the emulator's (TikTok's): what we accept, TikTok accepts."""
    assert EMULATOR_CURRENCIES == TIKTOK_CURRENCIES
