"""An inbound event checked, normalised and hashed into TikTok's Events 2.0 `data[]` item."""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

import pytest

from tiktok_ads.domain.consent import ConsentVerdict
from tiktok_ads.domain.inbound import IngestRules, PreparedEvent, prepare_event, tracking_switch
from tiktok_ads.errors import EventInvalid, UserDataInvalid, ValidationFailed

NOW = 1_705_326_700.0  # 100 s after the seed's event_time
RULES = IngestRules()
STRICT = IngestRules(strict_user_data=True)
EMAIL_HASH = "e233d4a29013e9d87150c6237c6777bedf379ebf1acdc5d6126fec7e8bb74fb5"  # customer@...
OTHER_EMAIL_HASH = "686b5e4cf4f963adf8f51468a48028ef8d15bd02fa335f821279a3d1678c9615"  # bob@...
PHONE_HASH = "bc4d7e7d07c12f4ef1c15e16cbdf0c19868e561bff2f2a5a14ba770f97220d67"  # +40721234567
EXTERNAL_ID_HASH = "961cf164240ff1af2c14f14f7e8b8943ead0b788acc28f5b0495a97b563ddf25"  # user_456
NUMERIC_ID_HASH = "5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5"  # "12345"
SEED_EVENT: dict[str, Any] = {
    "event_type": "CompletePayment",
    "event_time": 1705326600,
    "event_id": "order_123",
    "user": {
        "email": "customer@example.com",
        "phone": "+40721234567",
        "external_id": "user_456",
    },
    "properties": {
        "value": 150.00,
        "currency": "EUR",
        "content_type": "product",
        "contents": [
            {
                "content_id": "ticket_789",
                "content_name": "Concert VIP Pass",
                "quantity": 2,
                "price": 75.00,
            }
        ],
    },
    "context": {
        "page_url": "https://yoursite.com/checkout/complete",
        "user_agent": "Mozilla/5.0...",
        "ip": "192.168.1.1",
    },
}


def event(**changes: Any) -> dict[str, Any]:
    """The seed's event with top-level keys replaced (None removes a key)."""
    body = copy.deepcopy(SEED_EVENT)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def with_user(**fields: Any) -> dict[str, Any]:
    return event(user=fields)


def with_properties(**fields: Any) -> dict[str, Any]:
    return event(properties=fields)


def prepare(body: object, rules: IngestRules = RULES, now: float = NOW) -> PreparedEvent:
    return prepare_event(body, now=now, rules=rules)


def refusal(body: object, rules: IngestRules = RULES) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        prepare(body, rules)
    return caught.value


def errors_of(body: object, rules: IngestRules = RULES) -> list[tuple[str, str, int]]:
    return [(e.field, e.message, e.code) for e in refusal(body, rules).errors]


def test_seed_event_payload() -> None:
    """The seed's Send Event example becomes exactly this Events 2.0 item."""
    expected = {
        "event": "CompletePayment",
        "event_time": 1705326600,
        "event_id": "order_123",
        "user": {"email": EMAIL_HASH, "phone": PHONE_HASH, "external_id": EXTERNAL_ID_HASH},
        "properties": {
            "contents": [
                {
                    "content_id": "ticket_789",
                    "content_name": "Concert VIP Pass",
                    "quantity": 2,
                    "price": 75.0,
                }
            ],
            "content_type": "product",
            "currency": "EUR",
            "value": 150.0,
        },
        "page": {"url": "https://yoursite.com/checkout/complete"},
        "limited_data_use": False,
    }
    assert expected == prepare(event()).payload


def test_seed_event_prepared() -> None:
    """Besides the payload, the prepared event carries what the store indexes."""
    prepared = prepare(event())
    prepared.payload = {}
    expected = PreparedEvent(
        pixel_id=None,
        event_name="CompletePayment",
        event_id="order_123",
        event_id_generated=False,
        event_time=1705326600,
        payload={},
        ip="192.168.1.1",
        user_agent="Mozilla/5.0...",
        consent=ConsentVerdict(True, None),
        limited_data_use=False,
        match_keys=("email", "phone", "external_id", "ip", "user_agent"),
        identity_hashes=(EXTERNAL_ID_HASH, EMAIL_HASH),
        ttclid=None,
        ttp=None,
        value=150.0,
        currency="EUR",
    )
    assert expected == prepared


def test_full_event_payload() -> None:
    """Every optional field lands where TikTok wants it, hashed or raw as its rules say."""
    body = {
        "event_type": "AddToCart",
        "event_id": 42,
        "pixel_id": " CUSG5HBC77UD11VVRQEG ",
        "user": {
            "email": ["customer@example.com", "", "bob@example.org", "CUSTOMER@example.com"],
            "phone": "0721 234 567",
            "external_id": 12345,
            "ttclid": "E.C.P.user",
            "ttp": "2F7h37YkS1j57AYSKTI7IHhJPYH",
            "first_name": " Alice ",
            "last_name": "Bob",
            "zip_code": "SW1A 1AA",
            "city": " Bucharest",
            "state": "B",
            "country": "RO",
            "locale": "ro-RO",
        },
        "properties": {
            "contents": [{"content_id": 789, "content_category": "concert", "brand": "X"}],
            "content_type": "product_group",
            "currency": "ron",
            "value": "19.90",
            "order_id": 555,
            "query": "vip",
            "description": "two tickets",
            "shop_id": "s1",
        },
        "context": {
            "page_url": "https://shop.example/p?ttclid=E.C.P.page",
            "referrer": "https://www.tiktok.com/",
            "ip": "2001:DB8:0:0:0:0:0:1",
            "ttclid": "E.C.P.context",
        },
        "limited_data_use": True,
        "something_else": {"ignored": True},
    }
    expected = {
        "event": "AddToCart",
        "event_time": 1705326700,
        "event_id": "42",
        "user": {
            "email": [EMAIL_HASH, OTHER_EMAIL_HASH],
            "phone": PHONE_HASH,
            "external_id": NUMERIC_ID_HASH,
            "ttclid": "E.C.P.user",
            "ttp": "2F7h37YkS1j57AYSKTI7IHhJPYH",
            "first_name": "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90",
            "last_name": "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9",
            "zip_code": "830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614",
            "city": "bucharest",
            "state": "b",
            "country": "ro",
            "locale": "ro-RO",
        },
        "properties": {
            "contents": [{"content_id": "789", "content_category": "concert", "brand": "X"}],
            "content_type": "product_group",
            "currency": "RON",
            "value": 19.9,
            "order_id": "555",
            "query": "vip",
            "description": "two tickets",
            "shop_id": "s1",
        },
        "page": {
            "url": "https://shop.example/p?ttclid=E.C.P.page",
            "referrer": "https://www.tiktok.com/",
        },
        "limited_data_use": True,
    }
    prepared = prepare(body, IngestRules(default_phone_region="RO"))
    assert expected == prepared.payload
    expected = "CUSG5HBC77UD11VVRQEG"
    assert expected == prepared.pixel_id
    expected = "2001:db8::1"
    assert expected == prepared.ip
    expected = (None, True)
    assert expected == (prepared.user_agent, prepared.limited_data_use)
    expected = ("E.C.P.user", "2F7h37YkS1j57AYSKTI7IHhJPYH")
    assert expected == (prepared.ttclid, prepared.ttp)
    expected = (19.9, "RON")
    assert expected == (prepared.value, prepared.currency)
    expected = (NUMERIC_ID_HASH, EMAIL_HASH, OTHER_EMAIL_HASH)
    assert expected == prepared.identity_hashes
    expected_keys = (
        "email", "phone", "external_id", "ttclid", "ttp", "ip",
        "first_name", "last_name", "zip_code",
    )  # fmt: skip
    assert expected_keys == prepared.match_keys


def test_minimal_event() -> None:
    """Only an event type: time of receipt, a generated uuid4 hex id, no user, no page."""
    prepared = prepare({"event_type": "ViewContent"})
    assert prepared.event_id == UUID(hex=prepared.event_id).hex
    assert UUID(hex=prepared.event_id).version == 4
    assert prepared.event_id_generated
    expected = {
        "event": "ViewContent",
        "event_time": 1705326700,
        "event_id": prepared.event_id,
        "limited_data_use": False,
    }
    assert expected == prepared.payload
    expected = ()
    assert expected == prepared.match_keys


def test_generated_event_ids_differ() -> None:
    """Two events without an id get two different ids."""
    first = prepare({"event_type": "ViewContent"}).event_id
    assert first != prepare({"event_type": "ViewContent"}).event_id


# --- ttclid, ttp, locale, page ----------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "context", "expected"),
    [
        ({"ttclid": "E.C.P.u"}, {"ttclid": "E.C.P.c", "page_url": "https://a.b/?ttclid=E.C.P.p"},
         "E.C.P.u"),
        ({}, {"ttclid": "E.C.P.c", "page_url": "https://a.b/?ttclid=E.C.P.p"}, "E.C.P.c"),
        ({}, {"page_url": "https://a.b/x?utm=1&ttclid=E.C.P.p"}, "E.C.P.p"),
        ({"ttclid": "  "}, {"page_url": "https://a.b/x"}, None),
    ],
)  # fmt: skip
def test_ttclid_sources(
    user: dict[str, Any], context: dict[str, Any], expected: str | None
) -> None:
    """The click id comes from user, else context, else the page URL's query."""
    prepared = prepare(event(user=user, context=context))
    assert expected == prepared.ttclid
    assert expected == prepared.payload.get("user", {}).get("ttclid")
    assert (expected is not None) == ("ttclid" in prepared.match_keys)


def test_ttp_and_locale_fall_back_to_context() -> None:
    """ttp and locale are read from context when user lacks them."""
    prepared = prepare(event(user={}, context={"ttp": "abc", "locale": "en-US"}))
    expected = {"ttp": "abc", "locale": "en-US"}
    assert expected == prepared.payload["user"]
    expected = ("ttp",)
    assert expected == prepared.match_keys


def test_no_page_url_means_no_page() -> None:
    """TikTok refuses an empty `page`; without a page URL none is sent, even with a referrer."""
    prepared = prepare(event(context={"referrer": "https://www.tiktok.com/"}))
    assert "page" not in prepared.payload


def test_ip_and_user_agent_stay_out_of_the_payload() -> None:
    """The ip and user agent are returned apart (they are purged after retention)."""
    prepared = prepare(event())
    expected = ("192.168.1.1", "Mozilla/5.0...")
    assert expected == (prepared.ip, prepared.user_agent)
    assert {"email", "phone", "external_id"} == set(prepared.payload["user"])


# --- event_time -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1705326700),
        (1705326600, 1705326600),
        (1705326600.9, 1705326600),
        (1705326600123, 1705326600),
        (1705326600123.0, 1705326600),
        ("1705326600", 1705326600),
        (" 1705326600123 ", 1705326600),
        ("1705326600.5", 1705326600),
        ("2024-01-15T13:50:00Z", 1705326600),
        ("2024-01-15T15:50:00+02:00", 1705326600),
        ("2024-01-15T13:50:00", 1705326600),
        ("2024-01-15 13:50:00.250", 1705326600),
    ],
)
def test_event_time_forms(raw: object, expected: int) -> None:
    """Seconds, milliseconds, numeric text and ISO-8601 (naive = UTC) all become Unix seconds."""
    assert expected == prepare(event(event_time=raw)).event_time


@pytest.mark.parametrize(
    "raw",
    [
        True,
        "yesterday",
        "",
        [1705326600],
        {"t": 1},
        float("nan"),
        "1" + "0" * 400,  # an integer too long for a float: refused, not an OverflowError
        -(10**40),
        10**40,
        10**400,  # past a float, so past `event_time - now` (orjson never makes such ints)
        -(10**400),
    ],
)
def test_event_time_unreadable(raw: object) -> None:
    """A time that is neither a number nor an ISO-8601 date-time is refused."""
    message = "must be a Unix time (seconds or ms) or an ISO-8601 date-time"
    assert [("event_time", message, 40002)] == errors_of(event(event_time=raw))


def test_event_time_in_the_future() -> None:
    """More than max_future_seconds ahead is refused; just inside is kept."""
    expected = [("event_time", "is in the future", 40002)]
    assert expected == errors_of(event(event_time=NOW + 301))
    assert int(NOW) + 300 == prepare(event(event_time=int(NOW) + 300)).event_time


def test_event_time_older_than_the_window() -> None:
    """Older than the attribution window is refused, naming the window."""
    old = int(NOW) - 28 * 86400 - 1
    expected = [("event_time", "is older than the 28-day attribution window", 40002)]
    assert expected == errors_of(event(event_time=old))
    assert old + 1 == prepare(event(event_time=old + 1)).event_time
    seven = IngestRules(attribution_window_days=7)
    expected = [("event_time", "is older than the 7-day attribution window", 40002)]
    assert expected == errors_of(event(event_time=int(NOW) - 8 * 86400), seven)


# --- event_type, event_id, pixel_id -----------------------------------------------------


def test_event_names_kept_as_given() -> None:
    """Names are case-sensitive and custom names are allowed."""
    expected = ["completepayment", "TicketScanned"]
    actual = [prepare(event(event_type=name)).event_name for name in expected]
    assert expected == actual


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "is required"),
        (7, "must be a string"),
        ("   ", "must not be empty"),
        ("x" * 101, "must be at most 100 characters"),
        ("Add\nToCart", "must not contain control characters"),
    ],
)
def test_event_type_rules(raw: object, message: str) -> None:
    """event_type is a non-empty string of at most 100 printable characters."""
    body = event(event_type=raw) if raw is not None else event(event_type=None)
    assert [("event_type", message, 40002)] == errors_of(body)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "must not be empty"),
        ("x" * 129, "must be at most 128 characters"),
        (True, "must be a string or an integer"),
        (["a"], "must be a string or an integer"),
    ],
)
def test_event_id_rules(raw: object, message: str) -> None:
    """event_id is a non-empty string (or an integer) of at most 128 characters."""
    assert [("event_id", message, 40002)] == errors_of(event(event_id=raw))


def test_event_id_trimmed_and_int_as_text() -> None:
    """Surrounding whitespace goes; an integer id becomes its text."""
    expected = ["order_1", "123"]
    actual = [prepare(event(event_id=raw)).event_id for raw in (" order_1 ", 123)]
    assert expected == actual


@pytest.mark.parametrize("raw", ["", "  ", 5])
def test_pixel_id_must_be_a_non_empty_string(raw: object) -> None:
    """A given pixel_id is a non-empty string."""
    expected = [("pixel_id", "must be a non-empty string", 40002)]
    assert expected == errors_of(event(pixel_id=raw))


# --- user data --------------------------------------------------------------------------


NOT_AN_EMAIL = "not an email address (expected name@domain.tld)"
NOT_A_URL = "not an absolute http(s) URL of at most 2048 characters"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"email": "nope"}, [("user.email", NOT_AN_EMAIL)]),
        ({"email": ["customer@example.com", 3]}, [("user.email.1", "must be a string")]),
        ({"email": ["a@b.co", "bad"]}, [("user.email.1", NOT_AN_EMAIL)]),
        ({"email": {"a": 1}}, [("user.email", "must be a string or a list of strings")]),
        ({"email": ["a@b.co"] * 11}, [("user.email", "must have at most 10 values")]),
        ({"phone": 40721234567}, [("user.phone", "must be a string")]),
        ({"phone": "+40 12"}, [("user.phone", "not a valid phone number")]),
        ({"external_id": True}, [("user.external_id", "must be a string or a list of strings")]),
        ({"first_name": 1}, [("user.first_name", "must be a string")]),
        ({"country": ["ro"]}, [("user.country", "must be a string")]),
        ({"ttclid": 5}, [("user.ttclid", "must be a string")]),
    ],
)  # fmt: skip
def test_user_data_rules_in_strict_mode(
    user: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """Strict mode: bad user data refuses the event naming each field (list items by index)."""
    failure = refusal(with_user(**user), STRICT)
    assert isinstance(failure, UserDataInvalid)
    assert failure.code == 40003
    actual = [(e.field, e.message, e.code) for e in failure.errors]
    assert [(field, message, 40003) for field, message in expected] == actual


def test_user_must_be_an_object_in_strict_mode() -> None:
    """Strict mode: a `user` that is not an object is user data gone wrong (40003)."""
    failure = refusal(event(user="customer@example.com"), STRICT)
    assert (UserDataInvalid, [("user", "must be an object", 40003)]) == (
        type(failure),
        [(e.field, e.message, e.code) for e in failure.errors],
    )


def test_national_phone_without_region() -> None:
    """A national number without TIKTOK_DEFAULT_PHONE_REGION is dropped, the warning says why."""
    prepared = prepare(with_user(phone="0721 234 567"))
    (warning,) = prepared.warnings
    assert "user.phone" == warning.field
    assert "TIKTOK_DEFAULT_PHONE_REGION" in warning.message
    assert "user" not in prepared.payload


def test_national_phone_with_region() -> None:
    """With a default region a national number is read as E.164 before hashing."""
    prepared = prepare(with_user(phone="0721 234 567"), IngestRules(default_phone_region="RO"))
    expected = {"phone": PHONE_HASH}
    assert expected == prepared.payload["user"]


def test_hashed_values_pass_through() -> None:
    """Already-hashed values (upper-case hex too) are lower-cased, never hashed twice."""
    user = {"email": EMAIL_HASH.upper(), "phone": PHONE_HASH, "external_id": [EXTERNAL_ID_HASH]}
    expected = {"email": EMAIL_HASH, "phone": PHONE_HASH, "external_id": EXTERNAL_ID_HASH}
    assert expected == prepare(with_user(**user)).payload["user"]


def test_blank_user_values_are_ignored() -> None:
    """Empty strings and empty lists are as good as absent."""
    prepared = prepare(with_user(email=["", " "], phone="", external_id=[], city=" "))
    expected = (False, ("ip", "user_agent"))
    assert expected == ("user" in prepared.payload, prepared.match_keys)


# --- properties -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"value": True, "currency": "EUR"}, [("properties.value", "must be a number")]),
        ({"value": "lots", "currency": "EUR"}, [("properties.value", "must be a number")]),
        ({"value": -1, "currency": "EUR"}, [("properties.value", "must be a finite number ≥ 0")]),
        ({"value": 10}, [("properties.currency", "is required when value is given")]),
        ({"value": 1, "currency": "XYZ"},
         [("properties.currency", "unknown currency 'XYZ' (not in TikTok's list)")]),
        ({"currency": "euro"},
         [("properties.currency", "must be a 3-letter currency code (ISO 4217)")]),
        ({"content_type": "ticket"},
         [("properties.content_type", "must be 'product' or 'product_group'")]),
        ({"contents": {"content_id": "a"}}, [("properties.contents", "must be a list")]),
        ({"contents": [{"content_id": "a"}] * 1001},
         [("properties.contents", "must have at most 1000 items")]),
        ({"contents": ["a"]}, [("properties.contents.0", "must be an object")]),
        ({"contents": [{"content_id": "a"}, {"content_name": "b"}]},
         [("properties.contents.1.content_id", "is required")]),
        ({"contents": [{"content_id": " "}]},
         [("properties.contents.0.content_id", "is required")]),
        ({"contents": [{"content_id": 1.5}]},
         [("properties.contents.0.content_id", "must be a string or an integer")]),
        ({"contents": [{"content_id": "a", "quantity": 0}]},
         [("properties.contents.0.quantity", "must be an integer ≥ 1")]),
        ({"contents": [{"content_id": "a", "quantity": 1.5}]},
         [("properties.contents.0.quantity", "must be an integer ≥ 1")]),
        ({"contents": [{"content_id": "a", "quantity": True}]},
         [("properties.contents.0.quantity", "must be an integer ≥ 1")]),
        ({"contents": [{"content_id": "a", "quantity": "2"}]},
         [("properties.contents.0.quantity", "must be an integer ≥ 1")]),
        ({"contents": [{"content_id": "a", "quantity": 2**31}]},
         [("properties.contents.0.quantity", "must be at most 2147483647")]),
        ({"contents": [{"content_id": "a", "price": -0.01}]},
         [("properties.contents.0.price", "must be a finite number ≥ 0")]),
        ({"contents": [{"content_id": "a", "content_name": 5}]},
         [("properties.contents.0.content_name", "must be a string")]),
        ({"order_id": 1.5}, [("properties.order_id", "must be a string or an integer")]),
        ({"query": ["vip"]}, [("properties.query", "must be a string")]),
    ],
)  # fmt: skip
def test_properties_rules(properties: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    """Bad properties name their field, list items by index, with code 40002."""
    failure = refusal(with_properties(**properties))
    assert isinstance(failure, EventInvalid)
    assert expected == [(e.field, e.message) for e in failure.errors]
    assert all(e.code == 40002 for e in failure.errors)


def test_properties_normalised() -> None:
    """Currency is upper-cased, amounts become floats, an integral float quantity an int."""
    body = with_properties(
        value=3, currency=" usd ", contents=[{"content_id": "a", "quantity": 2.0, "price": 1}]
    )
    expected = {
        "value": 3.0,
        "currency": "USD",
        "contents": [{"content_id": "a", "quantity": 2, "price": 1.0}],
    }
    assert expected == prepare(body).payload["properties"]


def test_no_properties_means_no_properties_key() -> None:
    """Empty properties are left out rather than sent as {}."""
    assert "properties" not in prepare(event(properties={})).payload


# --- context and other top-level fields -------------------------------------------------


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"ip": "999.1.1.1"}, [("context.ip", "not an IPv4 or IPv6 address")]),
        ({"ip": "01.2.3.4"}, [("context.ip", "not an IPv4 or IPv6 address")]),
        ({"ip": 17}, [("context.ip", "must be a string")]),
        ({"user_agent": ["x"]}, [("context.user_agent", "must be a string")]),
        ({"page_url": 1}, [("context.page_url", "must be a string")]),
        ({"page_url": "("}, [("context.page_url", NOT_A_URL)]),
        ({"referrer": "www.tiktok.com"}, [("context.referrer", NOT_A_URL)]),
    ],
)
def test_context_rules_in_strict_mode(
    context: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """Strict mode: bad context fields refuse the event naming their field, code 40002."""
    failure = refusal(event(context=context), STRICT)
    assert isinstance(failure, EventInvalid)
    assert expected == [(e.field, e.message) for e in failure.errors]
    assert all(e.code == 40002 for e in failure.errors)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("::FFFF:10.0.0.1", "10.0.0.1"), (" 10.0.0.1 ", "10.0.0.1"), ("fe80::1%eth0", "fe80::1%eth0")],
)
def test_ip_normalised(raw: str, expected: str) -> None:
    """IP addresses are trimmed, written canonically, IPv4-mapped IPv6 as plain IPv4."""
    assert expected == prepare(event(context={"ip": raw})).ip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event(limited_data_use="yes"), "limited_data_use"),
        (event(properties=[1]), "properties"),
        (event(consent="maybe"), "consent"),
        (event(consent={"ad_storage": "no"}), "consent.ad_storage"),
    ],
)
def test_top_level_rules(body: dict[str, Any], field: str) -> None:
    """Other wrong top-level fields are event errors (40002) naming the field."""
    failure = refusal(body)
    assert isinstance(failure, EventInvalid)
    assert [(field, 40002)] == [(e.field, e.code) for e in failure.errors]


@pytest.mark.parametrize("body", [None, [], "event", 1])
def test_body_must_be_an_object(body: object) -> None:
    """A body that is not a JSON object is an invalid event."""
    failure = refusal(body)
    assert isinstance(failure, EventInvalid)
    expected = [("body", "must be a JSON object", 40002)]
    assert expected == errors_of(body)


def test_every_error_is_collected() -> None:
    """All problems of an event come back at once; bad user data is among them when strict."""
    body = event(
        event_type="",
        event_time="soon",
        user={"email": "nope", "phone": ["+40721234567", 1]},
        properties={"value": 1, "currency": "XYZ"},
    )
    failure = refusal(body, STRICT)
    assert isinstance(failure, EventInvalid)
    expected = [
        ("event_type", 40002),
        ("event_time", 40002),
        ("user.email", 40003),
        ("user.phone.1", 40003),
        ("properties.currency", 40002),
    ]
    assert expected == [(e.field, e.code) for e in failure.errors]
    expected = [("event_type", 40002), ("event_time", 40002), ("properties.currency", 40002)]
    assert expected == [(e.field, e.code) for e in refusal(body).errors]


def test_only_user_errors_make_user_data_invalid() -> None:
    """Strict mode: when every error is about user data the refusal is UserDataInvalid, 40003."""
    failure = refusal(with_user(email="nope", phone="x"), STRICT)
    assert (UserDataInvalid, 40003) == (type(failure), failure.code)
    expected = ["user.email", "user.phone"]
    assert expected == [e.field for e in failure.errors]


# --- consent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consent", "reason"),
    [
        (False, "consent denied"),
        ({"ad_user_data": "denied", "ad_storage": "granted"}, "consent denied: ad_user_data"),
        ({"ad_storage": "denied"}, "consent denied: ad_storage"),
    ],
)
def test_denied_consent_keeps_only_metadata(consent: object, reason: str) -> None:
    """Denied consent: no personal data at all, only the event's metadata."""
    prepared = prepare(event(consent=consent, pixel_id="PIX"))
    expected = PreparedEvent(
        pixel_id="PIX",
        event_name="CompletePayment",
        event_id="order_123",
        event_id_generated=False,
        event_time=1705326600,
        payload={"event": "CompletePayment", "event_time": 1705326600, "event_id": "order_123"},
        ip=None,
        user_agent=None,
        consent=ConsentVerdict(False, reason),
        limited_data_use=True,
        match_keys=(),
        identity_hashes=(),
        ttclid=None,
        ttp=None,
        value=None,
        currency=None,
    )
    assert expected == prepared


def test_denied_consent_does_not_read_user_data() -> None:
    """With consent denied, broken user data is not even looked at."""
    body = event(consent=False, user={"email": "nope", "phone": 5}, context={"ip": "bad"})
    assert ConsentVerdict(False, "consent denied") == prepare(body).consent


def test_denied_consent_still_checks_metadata() -> None:
    """With consent denied, event type, time and id are still checked."""
    body = event(consent=False, event_type="", event_id="", pixel_id="")
    expected = ["event_type", "event_id", "pixel_id"]
    assert expected == [e.field for e in refusal(body).errors]


def test_granted_consent_forms() -> None:
    """true and a fully granted Consent Mode object leave the event whole."""
    for consent in (True, {"ad_storage": "granted", "ad_user_data": "granted"}):
        prepared = prepare(event(consent=consent))
        expected = (True, EMAIL_HASH)
        assert expected == (prepared.consent.granted, prepared.payload["user"]["email"])


# --- names and switches -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "switch"),
    [
        ("CompletePayment", "purchases"),
        ("Purchase", "purchases"),
        ("PlaceAnOrder", "purchases"),
        ("AddToCart", "add_to_cart"),
        ("InitiateCheckout", "checkout"),
        ("AddPaymentInfo", "checkout"),
        ("CompleteRegistration", "registrations"),
        ("ViewContent", None),
        ("completepayment", None),
        ("TicketScanned", None),
    ],
)
def test_tracking_switch(name: str, switch: str | None) -> None:
    """Each of the seed's switches governs its event names; others are always tracked."""
    assert switch == tracking_switch(name)
