"""Reading a caller's consent signal: a boolean or a Google Consent Mode object."""

from __future__ import annotations

import pytest

from tiktok_ads.domain.consent import ConsentVerdict, read_consent
from tiktok_ads.errors import EventInvalid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ConsentVerdict(True, None)),
        (True, ConsentVerdict(True, None)),
        (False, ConsentVerdict(False, "consent denied")),
        ({}, ConsentVerdict(True, None)),
        ({"ad_storage": "granted", "ad_user_data": "granted"}, ConsentVerdict(True, None)),
        ({"ad_user_data": "denied"}, ConsentVerdict(False, "consent denied: ad_user_data")),
        ({"ad_storage": "denied"}, ConsentVerdict(False, "consent denied: ad_storage")),
        (
            {"ad_storage": "denied", "ad_user_data": "denied"},
            ConsentVerdict(False, "consent denied: ad_user_data, ad_storage"),
        ),
        ({"ad_storage": "granted", "analytics_storage": "denied"}, ConsentVerdict(True, None)),
    ],
)
def test_read_consent(raw: object, expected: ConsentVerdict) -> None:
    """Booleans and Google Consent Mode objects give a verdict; absent means granted."""
    assert expected == read_consent(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", [("consent", "must be true, false or a Consent Mode object")]),
        (1, [("consent", "must be true, false or a Consent Mode object")]),
        ([], [("consent", "must be true, false or a Consent Mode object")]),
        ({"ad_storage": "Denied"}, [("consent.ad_storage", "must be 'granted' or 'denied'")]),
        ({"ad_user_data": True}, [("consent.ad_user_data", "must be 'granted' or 'denied'")]),
        (
            {"ad_user_data": 0, "ad_storage": "no"},
            [
                ("consent.ad_user_data", "must be 'granted' or 'denied'"),
                ("consent.ad_storage", "must be 'granted' or 'denied'"),
            ],
        ),
    ],
)
def test_unreadable_consent_is_an_event_error(raw: object, expected: list[tuple[str, str]]) -> None:
    """Anything but a boolean or a well-formed Consent Mode object is refused (40002), naming
    each bad field."""
    with pytest.raises(EventInvalid) as caught:
        read_consent(raw)
    assert 40002 == caught.value.code
    assert expected == [(error.field, error.message) for error in caught.value.errors]
