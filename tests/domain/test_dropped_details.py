"""Invalid optional details (personal identifiers, context) are dropped with a warning, never
costing the event; strict rules refuse them instead (tests/domain/test_inbound.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tiktok_ads.domain.inbound import IngestRules, PreparedEvent, prepare_event
from tiktok_ads.errors import EventInvalid, FieldError

NOW = 1_705_326_700.0
RULES = IngestRules()
STRICT = IngestRules(strict_user_data=True)
EMAIL_HASH = "e233d4a29013e9d87150c6237c6777bedf379ebf1acdc5d6126fec7e8bb74fb5"  # customer@...
PHONE_HASH = "bc4d7e7d07c12f4ef1c15e16cbdf0c19868e561bff2f2a5a14ba770f97220d67"  # +40721234567
EXTERNAL_ID_HASH = "961cf164240ff1af2c14f14f7e8b8943ead0b788acc28f5b0495a97b563ddf25"  # user_456
NOT_AN_EMAIL = "not an email address (expected name@domain.tld)"
NOT_A_URL = "not an absolute http(s) URL of at most 2048 characters"
TTP = "2F7h37YkS1j57AYSKTI7IHhJPYH"


def prepare(body: dict[str, Any], rules: IngestRules = RULES) -> PreparedEvent:
    return prepare_event(body, now=NOW, rules=rules)


def purchase(user: object = None, context: object = None) -> dict[str, Any]:
    body: dict[str, Any] = {"event_type": "CompletePayment", "event_id": "order_1"}
    if user is not None:
        body["user"] = user
    if context is not None:
        body["context"] = context
    return body


def warned(prepared: PreparedEvent) -> list[tuple[str, str]]:
    return [(warning.field, warning.message) for warning in prepared.warnings]


def test_seed_integration_example_keeps_click_id_and_cookie() -> None:
    """The seed's PHP trackPurchase body (no page_url, ttclid and ttp in context) is accepted:
    the click id and cookie go to TikTok's user object, no page is invented."""
    body = {
        "event_type": "CompletePayment",
        "event_id": "purchase_1001",
        "event_time": 1705326600,
        "user": {"email": EMAIL_HASH, "phone": PHONE_HASH, "external_id": EXTERNAL_ID_HASH},
        "properties": {
            "value": "150.00",
            "currency": "EUR",
            "contents": [
                {"content_id": 789, "content_name": "VIP", "quantity": 2, "price": "75.00"}
            ],
        },
        "context": {"ttclid": "E.C.P.php", "ttp": TTP},
    }
    prepared = prepare(body)
    expected_user = {
        "email": EMAIL_HASH,
        "phone": PHONE_HASH,
        "external_id": EXTERNAL_ID_HASH,
        "ttclid": "E.C.P.php",
        "ttp": TTP,
    }
    assert expected_user == prepared.payload["user"]
    assert "page" not in prepared.payload
    expected = (("email", "phone", "external_id", "ttclid", "ttp"), ())
    assert expected == (prepared.match_keys, prepared.warnings)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"email": "nope"}, [("user.email", NOT_AN_EMAIL)]),
        ({"email": {"a": 1}}, [("user.email", "must be a string or a list of strings")]),
        ({"email": ["a@b.co"] * 11}, [("user.email", "must have at most 10 values")]),
        ({"phone": 40721234567}, [("user.phone", "must be a string")]),
        ({"phone": "+40 12"}, [("user.phone", "not a valid phone number")]),
        ({"external_id": True}, [("user.external_id", "must be a string or a list of strings")]),
        ({"first_name": 1}, [("user.first_name", "must be a string")]),
        ({"last_name": ["x"]}, [("user.last_name", "must be a string")]),
        ({"zip_code": 7}, [("user.zip_code", "must be a string")]),
        ({"city": 1, "state": 2, "country": ["ro"]},
         [("user.city", "must be a string"), ("user.state", "must be a string"),
          ("user.country", "must be a string")]),
        ({"locale": 5}, [("user.locale", "must be a string")]),
        ({"ttclid": 5}, [("user.ttclid", "must be a string")]),
        ({"ttp": {}}, [("user.ttp", "must be a string")]),
    ],
)  # fmt: skip
def test_invalid_identifiers_are_dropped_with_a_warning(
    user: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """A bad personal identifier is left out, the event kept, the warning names the field."""
    prepared = prepare(purchase(user=user))
    assert expected == warned(prepared)
    sent = prepared.payload.get("user", {})
    assert not {field.split(".")[1] for field, _ in expected} & set(sent)


def test_each_list_item_is_judged_alone() -> None:
    """In a list, only the bad items go, each warned by index; the good ones are sent."""
    prepared = prepare(purchase(user={"email": ["nope", "customer@example.com", 3]}))
    expected = [("user.email.0", NOT_AN_EMAIL), ("user.email.2", "must be a string")]
    assert expected == warned(prepared)
    assert {"email": EMAIL_HASH} == prepared.payload["user"]
    assert ("email",) == prepared.match_keys


def test_match_keys_and_identities_are_only_what_is_sent() -> None:
    """A dropped email, phone or ip is no match key and no identity hash."""
    body = purchase(
        user={"email": "customer@example", "phone": "+40 12", "external_id": "user_456"},
        context={"ip": "999.1.1.1", "user_agent": "Mozilla/5.0"},
    )
    prepared = prepare(body)
    expected = (("external_id", "user_agent"), (EXTERNAL_ID_HASH,), None)
    assert expected == (prepared.match_keys, prepared.identity_hashes, prepared.ip)
    assert ["user.email", "user.phone", "context.ip"] == [w.field for w in prepared.warnings]


@pytest.mark.parametrize(
    "url",
    [
        "(",
        "shop.example/checkout?ttclid=E.C.P.bad",
        "/checkout?ttclid=E.C.P.bad",
        "ftp://shop.example/?ttclid=E.C.P.bad",
        "javascript:alert(1)",
        "https://",
        "https:///checkout?ttclid=E.C.P.bad",
        "http://shop.example:port/?ttclid=E.C.P.bad",
        "https://shop example/?ttclid=E.C.P.bad",
        "https://shop.example/\x00?ttclid=E.C.P.bad",
        "https://shop.example/?ttclid=E.C.P.bad&x=" + "y" * 2048,
    ],
)
def test_page_url_that_is_no_web_address_is_not_sent(url: str) -> None:
    """A page_url that is not an absolute http(s) URL is dropped with a warning, and no click
    id is read from it."""
    prepared = prepare(purchase(context={"page_url": url, "referrer": "https://tiktok.com/"}))
    expected = ([("context.page_url", NOT_A_URL)], None)
    assert expected == (warned(prepared), prepared.ttclid)
    assert "page" not in prepared.payload
    assert "ttclid" not in prepared.match_keys


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/checkout",
        "HTTP://Shop.Example:8080/p?q=1#top",
        "https://bücher.example/",
        "http://192.0.2.1/",
        "https://[2001:db8::1]/",
        "https://shop.example/?x=" + "y" * (2048 - 25),
    ],
)
def test_web_addresses_are_sent_as_given(url: str) -> None:
    """Absolute http(s) URLs up to 2,048 characters go to TikTok unchanged."""
    prepared = prepare(purchase(context={"page_url": url}))
    expected = ({"url": url}, ())
    assert expected == (prepared.payload["page"], prepared.warnings)


def test_bad_referrer_is_dropped_and_the_page_kept() -> None:
    """A referrer that is no web address goes alone; the page stays."""
    context = {"page_url": "https://shop.example/?ttclid=E.C.P.ok", "referrer": "tiktok"}
    prepared = prepare(purchase(context=context))
    expected = (
        {"url": "https://shop.example/?ttclid=E.C.P.ok"},
        "E.C.P.ok",
        [("context.referrer", NOT_A_URL)],
    )
    assert expected == (prepared.payload["page"], prepared.ttclid, warned(prepared))


def test_bad_page_url_refuses_the_event_in_strict_mode() -> None:
    """Strict rules: a page_url that is no web address refuses the event (40002)."""
    with pytest.raises(EventInvalid) as caught:
        prepare(purchase(context={"page_url": "("}), STRICT)
    expected = (40002, [FieldError("context.page_url", NOT_A_URL, 40002)])
    assert expected == (caught.value.code, caught.value.errors)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (purchase(user="customer@example.com"), [("user", "must be an object")]),
        (purchase(context="x"), [("context", "must be an object")]),
        (purchase(context={"ip": 17, "user_agent": ["x"]}),
         [("context.ip", "must be a string"), ("context.user_agent", "must be a string")]),
        (purchase(context={"ttclid": 1, "ttp": 2, "locale": 3}),
         [("context.ttclid", "must be a string"), ("context.ttp", "must be a string"),
          ("context.locale", "must be a string")]),
    ],
)  # fmt: skip
def test_unreadable_sections_and_context_details_are_dropped(
    body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """A user or context that is not an object, or a bad context detail, costs only itself."""
    prepared = prepare(body)
    assert expected == warned(prepared)
    expected_rest = ("order_1", (), None, None)
    actual = (prepared.event_id, prepared.match_keys, prepared.ip, prepared.user_agent)
    assert expected_rest == actual


def test_event_errors_still_refuse_with_the_warnings_left_out() -> None:
    """A bad event field refuses the event; dropped details do not join the errors."""
    body = {**purchase(user={"email": "nope"}), "event_time": "soon"}
    with pytest.raises(EventInvalid) as caught:
        prepare(body)
    assert ["event_time"] == [error.field for error in caught.value.errors]


def test_strict_mode_has_no_warnings_for_a_valid_event() -> None:
    """Strict rules accept a valid event as it is, without warnings."""
    prepared = prepare(purchase(user={"email": "customer@example.com"}), STRICT)
    expected = ({"email": EMAIL_HASH}, ())
    assert expected == (prepared.payload["user"], prepared.warnings)


def test_denied_consent_reads_no_details_so_warns_of_none() -> None:
    """Without consent nothing personal is read, so nothing is warned about either."""
    body = {**purchase(user={"email": "nope"}, context={"page_url": "("}), "consent": False}
    assert () == prepare(body).warnings
