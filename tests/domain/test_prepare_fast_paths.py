"""`prepare_event` takes the usual values (plain strings, floats, ints) by a quicker road and
leaves everything else to the checking readers: these pin that both roads give one answer, at
the edges where a value leaves the quick one (blank, not a string, a str subclass, a list, an
already-hashed value, an int id, a bool, a bad URL, IPv6, strict mode)."""

from __future__ import annotations

from hashlib import sha256
from typing import Any

import pytest

from tiktok_ads.domain.inbound import IngestRules, PreparedEvent, prepare_event
from tiktok_ads.errors import EventInvalid, UserDataInvalid

NOW = 1_705_326_700.0
RULES = IngestRules()
STRICT = IngestRules(strict_user_data=True)
HEX = "E233D4A29013E9D87150C6237C6777BEDF379EBF1ACDC5D6126FEC7E8BB74FB5"
NOT_A_URL = "not an absolute http(s) URL of at most 2048 characters"
NO_CONTEXT = (None, None, None)
WINDOW = "attribution window"
ISO = "ISO-8601 date-time"
NOT_TEXT = "must be a string"
BAD_PAGE = [("context.page_url", NOT_A_URL)]
NOT_LISTED = "(not in TikTok's list)"
REQUIRED = "is required"
NOT_FINITE = "must be a finite number ≥ 0"


class Text(str):
    """A str subclass: never taken by the quick road (it checks the exact type)."""


def sha(text: str) -> str:
    return sha256(text.encode()).hexdigest()


def prepare(rules: IngestRules = RULES, **sections: Any) -> PreparedEvent:
    body: dict[str, Any] = {"event_type": "CompletePayment", "event_id": "o1"}
    body.update(sections)
    return prepare_event(body, now=NOW, rules=rules)


def warned(prepared: PreparedEvent) -> list[tuple[str, str]]:
    return [(warning.field, warning.message) for warning in prepared.warnings]


@pytest.mark.parametrize(
    ("email", "expected", "warnings"),
    [
        (" Customer@Example.COM ", [sha("customer@example.com")], []),
        (Text("a@b.io"), [sha("a@b.io")], []),
        (HEX, [HEX.lower()], []),
        (" " + HEX + "\n", [HEX.lower()], []),
        ("", [], []),
        (" \t\n", [], []),
        ("bad@", [], [("user.email", "not an email address (expected name@domain.tld)")]),
        (["a@b.io", " A@B.IO ", "", "c@d.io"], [sha("a@b.io"), sha("c@d.io")], []),
        ([" ", "x"], [], [("user.email.1", "not an email address (expected name@domain.tld)")]),
        (5, [], [("user.email", "must be a string")]),
        (True, [], [("user.email", "must be a string or a list of strings")]),
        ({"a": 1}, [], [("user.email", "must be a string or a list of strings")]),
    ],
)
def test_email_values(email: object, expected: list[str], warnings: list[tuple[str, str]]) -> None:
    prepared = prepare(user={"email": email})
    assert prepared.identity_hashes == tuple(expected)
    assert prepared.payload.get("user", {}).get("email") == (
        expected[0] if len(expected) == 1 else (expected or None)
    )
    assert prepared.match_keys == (("email",) if expected else ())
    assert warned(prepared) == warnings


@pytest.mark.parametrize(
    ("external_id", "expected", "warnings"),
    [
        (456, sha("456"), []),
        (" user_456 ", sha("user_456"), []),
        ("User_456", sha("User_456"), []),  # case kept
        (HEX, HEX.lower(), []),
        ([1, "1", " 2 "], [sha("1"), sha("2")], []),
        (False, None, [("user.external_id", "must be a string or a list of strings")]),
        ([True], None, [("user.external_id.0", "must be a string")]),
        (" ", None, []),
    ],
)
def test_external_id_values(
    external_id: object, expected: object, warnings: list[tuple[str, str]]
) -> None:
    prepared = prepare(user={"external_id": external_id})
    assert prepared.payload.get("user", {}).get("external_id") == expected
    assert warned(prepared) == warnings


@pytest.mark.parametrize(
    ("phone", "region", "expected", "warnings"),
    [
        ("+40721234567", None, sha("+40721234567"), []),
        (" 0040 721 234 567 ", None, sha("+40721234567"), []),
        ("0721234567", "ro", sha("+40721234567"), []),
        (HEX, None, HEX.lower(), []),
        ("", None, None, []),
        ("12", "RO", None, [("user.phone", "not a valid phone number")]),
    ],
)
def test_phone_values(
    phone: str, region: str | None, expected: str | None, warnings: list[tuple[str, str]]
) -> None:
    prepared = prepare(IngestRules(default_phone_region=region), user={"phone": phone})
    assert prepared.payload.get("user", {}).get("phone") == expected
    assert warned(prepared) == warnings


def test_strict_mode_refuses_what_the_quick_road_passes_on() -> None:
    with pytest.raises(UserDataInvalid) as refused:
        prepare(STRICT, user={"email": "bad@", "phone": "+40721234567"})
    assert [e.field for e in refused.value.errors] == ["user.email"]
    with pytest.raises(EventInvalid) as refused_ip:
        prepare(STRICT, user={"email": "a@b.io"}, context={"ip": "999.1.1.1"})
    assert [(e.field, e.message) for e in refused_ip.value.errors] == [
        ("context.ip", "not an IPv4 or IPv6 address")
    ]


@pytest.mark.parametrize(
    ("context", "expected", "warnings"),
    [
        (
            {"page_url": " https://a.example/x ", "ip": " 10.0.0.1 ", "user_agent": " UA "},
            ("https://a.example/x", "10.0.0.1", "UA"),
            [],
        ),
        ({"ip": "2001:DB8:0::1"}, (None, "2001:db8::1", None), []),
        ({"ip": "::ffff:10.0.0.1"}, (None, "10.0.0.1", None), []),
        ({"ip": Text("10.0.0.2")}, (None, "10.0.0.2", None), []),
        ({"ip": "01.2.3.4"}, (None, None, None), [("context.ip", "not an IPv4 or IPv6 address")]),
        ({"ip": 7}, (None, None, None), [("context.ip", "must be a string")]),
        ({"user_agent": " ", "page_url": ""}, (None, None, None), []),
        ({"user_agent": 1}, (None, None, None), [("context.user_agent", "must be a string")]),
        ({"page_url": "("}, NO_CONTEXT, BAD_PAGE),
        ({"page_url": "http://x.example:abc/"}, NO_CONTEXT, BAD_PAGE),
        ({"page_url": "https://x.example/" + "a" * 2031}, NO_CONTEXT, BAD_PAGE),
        ({"page_url": ["https://x.example/"]}, NO_CONTEXT, [("context.page_url", NOT_TEXT)]),
    ],
)  # fmt: skip
def test_context_values(
    context: dict[str, Any], expected: tuple[object, ...], warnings: list[tuple[str, str]]
) -> None:
    prepared = prepare(context=context)
    page = prepared.payload.get("page")
    assert (page and page["url"], prepared.ip, prepared.user_agent) == expected
    assert warned(prepared) == warnings


def test_a_url_refused_once_is_refused_again_and_a_long_one_is_never_taken() -> None:
    """The URL verdict is remembered: the second reading must agree with the first."""
    for _ in range(2):
        assert warned(prepare(context={"page_url": "https://"})) == [
            ("context.page_url", NOT_A_URL)
        ]
        assert prepare(context={"page_url": "https://ok.example/"}).payload["page"] == {
            "url": "https://ok.example/"
        }
    url = "https://x.example/" + "a" * (2048 - 18)
    assert prepare(context={"page_url": url}).payload["page"] == {"url": url}
    assert warned(prepare(context={"page_url": url + "a"})) == [("context.page_url", NOT_A_URL)]


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"value": 150, "currency": " eur "}, {"currency": "EUR", "value": 150.0}),
        ({"value": "150.00", "currency": "EUR"}, {"currency": "EUR", "value": 150.0}),
        ({"value": 2**64, "currency": "EUR"}, {"currency": "EUR", "value": float(2**64)}),
        (
            {"order_id": 7, "value": 1.5, "currency": "USD", "contents": [{"content_id": 789}]},
            {"contents": [{"content_id": "789"}], "currency": "USD", "value": 1.5, "order_id": "7"},
        ),
        (
            {"contents": [{"content_id": " t ", "brand": " ", "price": 3, "quantity": 2.0}]},
            {"contents": [{"content_id": "t", "price": 3.0, "quantity": 2}]},
        ),
        ({"contents": [], "content_type": "product_group"}, {"content_type": "product_group"}),
    ],
)
def test_property_values(properties: dict[str, Any], expected: dict[str, Any]) -> None:
    prepared = prepare(properties=properties)
    assert prepared.payload["properties"] == expected
    assert list(prepared.payload["properties"]) == list(expected)  # key order too
    assert all(type(v) is type(expected[k]) for k, v in prepared.payload["properties"].items())


@pytest.mark.parametrize(
    ("properties", "errors"),
    [
        ({"value": 1.0}, [("properties.currency", "is required when value is given")]),
        ({"value": 10**400, "currency": "EUR"}, [("properties.value", NOT_FINITE)]),
        ({"value": float("nan"), "currency": "EUR"}, [("properties.value", NOT_FINITE)]),
        ({"value": True, "currency": "EUR"}, [("properties.value", "must be a number")]),
        ({"currency": "XYZ"}, [("properties.currency", "unknown currency 'XYZ' " + NOT_LISTED)]),
        ({"contents": [{"content_id": " "}]}, [("properties.contents.0.content_id", REQUIRED)]),
        (
            {"contents": [{"content_id": "a", "quantity": 0}]},
            [("properties.contents.0.quantity", "must be an integer ≥ 1")],
        ),
        (
            {"contents": [{"content_id": "a"}, {"content_id": False}]},
            [("properties.contents.1.content_id", "must be a string or an integer")],
        ),
        (
            {"content_type": "Product"},
            [("properties.content_type", "must be 'product' or 'product_group'")],
        ),
    ],
)  # fmt: skip
def test_property_problems(properties: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    with pytest.raises(EventInvalid) as refused:
        prepare(properties=properties)
    assert [(e.field, e.message) for e in refused.value.errors] == errors


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"event_type": " Buy\u00a0Now "}, "Buy\u00a0Now"),  # not printable, no control character
        ({"event_type": "Bad\x85Name"}, "event_type: must not contain control characters"),
        ({"event_type": "x" * 101}, "event_type: must be at most 100 characters"),
        ({"event_type": Text("Lead")}, "Lead"),
        ({"event_time": 1_705_326_600_000}, 1_705_326_600),
        ({"event_time": NOW + 301}, "event_time: is in the future"),
        ({"event_time": int(NOW) + 301}, "event_time: is in the future"),
        ({"event_time": int(NOW) - 29 * 86400}, "event_time: is older than the 28-day " + WINDOW),
        ({"event_time": True}, "event_time: must be a Unix time (seconds or ms) or an " + ISO),
        ({"event_id": " " * 3}, "event_id: must not be empty"),
        ({"event_id": "i" * 129}, "event_id: must be at most 128 characters"),
        ({"event_id": 7}, "7"),
    ],
)  # fmt: skip
def test_event_fields(fields: dict[str, Any], expected: object) -> None:
    body: dict[str, Any] = {"event_type": "CompletePayment", "event_id": "o1", **fields}
    try:
        prepared = prepare_event(body, now=NOW, rules=RULES)
    except EventInvalid as exc:
        assert exc.message == expected
        return
    (field,) = fields  # the value read from that very field, not merely one of the three
    read = {
        "event_type": prepared.event_name,
        "event_time": prepared.event_time,
        "event_id": prepared.event_id,
    }
    assert expected == read[field]


def test_match_keys_follow_their_order_whichever_way_they_were_found() -> None:
    prepared = prepare(
        user={"last_name": " Pop ", "external_id": 1, "email": "a@b.io", "city": " Cluj "},
        context={"page_url": "https://s.example/?ttclid=C1", "ttp": "T1", "user_agent": "UA"},
    )
    assert prepared.match_keys == (
        "email",
        "external_id",
        "ttclid",
        "ttp",
        "user_agent",
        "last_name",
    )
    user = prepared.payload["user"]
    assert list(user) == ["email", "external_id", "last_name", "city", "ttp", "ttclid"]
    assert (user["last_name"], user["city"]) == (sha("pop"), "cluj")
    assert list(prepared.payload) == [
        "event",
        "event_time",
        "event_id",
        "page",
        "limited_data_use",
        "user",
    ]
