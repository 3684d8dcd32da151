"""Generated events: the quick road of `prepare_event` (exact `str` and `int` values taken at
once) and the checking readers give one answer. The same event is prepared twice, once as sent
and once with every string and integer wrapped in a subclass, which the quick road never takes;
payload, warnings, match keys, hashes and errors must agree."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_ads.domain.inbound import IngestRules, PreparedEvent, prepare_event
from tiktok_ads.errors import ValidationFailed

NOW = 1_705_326_700.0


class Text(str):
    """Never taken by the quick road (it checks the exact type)."""


class Whole(int):
    """Never taken by the quick road (it checks the exact type)."""


def wrapped(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: wrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wrapped(item) for item in value]
    if type(value) is str:
        return Text(value)
    if type(value) is int:
        return Whole(value)
    return value


def optional(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values) | st.text(max_size=12)


EMAILS = ["a@b.io", " Customer@Example.COM ", "bad@", "", " ", "x" * 300 + "@b.io", "ü@ö.de"]
PHONES = ["+40721234567", "0721 234 567", "+1 (415) 555-0100", "12", "", "+999999999999999999"]
IDS = ["user_456", " u ", "", "E233D4A29013E9D87150C6237C6777BEDF379EBF1ACDC5D6126FEC7E8BB74FB5"]
URLS = [
    "https://shop.example/checkout",
    "https://shop.example/p?ttclid=abc123",
    "http://user:pw@shop.example/",
    "ftp://shop.example/",
    "not a url",
    "https://" + "a" * 2100 + ".io/",
]
IPS = ["192.168.1.1", "2001:db8::1", "999.1.1.1", "", "::ffff:10.0.0.1"]
NAMES = ["CompletePayment", " ViewContent ", "AddToCart", "MyCustom", "", "x" * 101, "Bad\x00"]

user = st.fixed_dictionaries(
    {},
    optional={
        "email": optional(EMAILS) | st.lists(st.sampled_from(EMAILS), max_size=3),
        "phone": optional(PHONES) | st.lists(st.sampled_from(PHONES), max_size=3),
        "external_id": optional(IDS) | st.integers(-5, 10**12),
        "ttclid": optional(["abc", ""]),
        "ttp": optional(["cookie.1", " "]),
        "first_name": optional(["Ana", " ÉVA "]),
        "country": optional(["RO", "de"]),
    },
)
content = st.fixed_dictionaries(
    {},
    optional={
        "content_id": optional(["ticket_789", ""]) | st.integers(0, 99),
        "quantity": st.integers(-1, 5) | st.sampled_from(["2", 1.5]),
        "price": st.sampled_from([75.0, 0, -1, "12.50", float("nan")]) | st.integers(0, 500),
        "content_name": optional(["Concert VIP Pass"]),
    },
)
properties = st.fixed_dictionaries(
    {},
    optional={
        "value": st.sampled_from([150.0, 0, -3, "99.90", "x", float("inf")])
        | st.integers(0, 10**6),
        "currency": optional(["EUR", "eur", "XXX", "E"]),
        "content_type": optional(["product", "product_group", "ticket"]),
        "contents": st.lists(content, max_size=3) | st.just("none"),
        "order_id": optional(["o-1"]) | st.integers(0, 10),
    },
)
context = st.fixed_dictionaries(
    {},
    optional={
        "page_url": optional(URLS),
        "referrer_url": optional(URLS),
        "ip": optional(IPS),
        "user_agent": optional(["Mozilla/5.0 (X11; Linux x86_64)", "", "\x00"]),
        "ttclid": optional(["from-context"]),
    },
)
events = st.fixed_dictionaries(
    {
        "event_type": optional(NAMES) | st.integers(0, 3),
        "event_time": st.integers(int(NOW) - 40 * 86400, int(NOW) + 600)
        | st.sampled_from([int(NOW) * 1000, "2024-01-15T13:51:40Z", str(int(NOW)), "soon", 2**70]),
    },
    optional={
        "event_id": optional(["o1", " o2 ", "", "x" * 200]) | st.integers(0, 10**6),
        "pixel_id": optional(["PIXEL1", " ", ""]),
        "user": user | st.just("nobody"),
        "properties": properties,
        "context": context,
        "consent": st.sampled_from([True, False, None, {"ad_storage": "denied"}, "yes"]),
        "limited_data_use": st.sampled_from([True, False, "no"]),
    },
)


def outcome(raw: dict[str, Any], rules: IngestRules) -> object:
    try:
        prepared = prepare_event(raw, now=NOW, rules=rules)
    except ValidationFailed as exc:
        return (type(exc).__name__, [(e.field, e.message) for e in exc.errors])
    seen = {f.name: _plain(getattr(prepared, f.name)) for f in fields(PreparedEvent)}
    if prepared.event_id_generated:  # a random id each time: compared as "one was made"
        seen["event_id"] = seen["payload"]["event_id"] = "<generated>"
    return seen


def _plain(value: Any) -> Any:
    """Warnings and errors compared by field and message."""
    if isinstance(value, tuple) and value and hasattr(value[0], "field"):
        return [(e.field, e.message) for e in value]
    return value


@settings(max_examples=400, deadline=None)
@given(events, st.booleans())
def test_quick_road_and_checking_readers_agree(raw: dict[str, Any], strict: bool) -> None:
    rules = IngestRules(strict_user_data=strict)
    assert outcome(raw, rules) == outcome(wrapped(raw), rules)


valid_content = st.fixed_dictionaries(
    {"content_id": st.sampled_from(["ticket_789", " t2 "]) | st.integers(0, 99)},
    optional={
        "quantity": st.integers(1, 5),
        "price": st.sampled_from([75.0, 0, "12.50"]) | st.integers(0, 500),
        "content_name": optional(["Concert VIP Pass"]),
    },
)
accepted_events = st.fixed_dictionaries(
    {
        "event_type": st.sampled_from(["CompletePayment", " ViewContent ", "MyCustom", "Lead"]),
        "event_time": st.integers(int(NOW) - 20 * 86400, int(NOW) + 200)
        | st.sampled_from([int(NOW) * 1000, "2024-01-15T13:51:40Z", str(int(NOW))]),
        "properties": st.fixed_dictionaries(
            {},
            optional={
                "value": st.sampled_from([150.0, 0, "99.90"]) | st.integers(0, 10**6),
                "currency": st.sampled_from(["EUR", "eur", " RON "]),
                "contents": st.lists(valid_content, max_size=3),
                "order_id": optional(["o-1"]),
            },
        ),
    },
    optional={
        "event_id": optional(["o1", " o2 ", "x" * 200]) | st.integers(0, 10**6),
        "pixel_id": st.sampled_from(["PIXEL1", " PIXEL2 "]),
        "user": user,
        "context": context,
        "limited_data_use": st.booleans(),
    },
)


@settings(max_examples=400, deadline=None)
@given(accepted_events)
def test_the_roads_agree_on_accepted_events(raw: dict[str, Any]) -> None:
    """Most of these are accepted (the other test's are mostly refused): the payloads,
    hashes and warnings themselves are compared."""
    assert outcome(raw, IngestRules()) == outcome(wrapped(raw), IngestRules())
