"""Items stored with `user` last become TikTok's items by a splice, equal to a parse-and-merge."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from tiktok_ads.domain.tiktok_item import item_bytes, stored_item, track_body

HASH = "a" * 64


def expected(payload: dict[str, Any], ip: str | None, user_agent: str | None) -> dict[str, Any]:
    """What TikTok must get: the payload, ip and user agent inside `user`, no empty `user`."""
    extra = {key: value for key, value in (("ip", ip), ("user_agent", user_agent)) if value}
    user = {**(payload.get("user") or {}), **extra}
    rest = {key: value for key, value in payload.items() if key != "user"}
    return {**rest, "user": user} if user else rest


SEED = {
    "event": "CompletePayment",
    "event_time": 1_760_000_000,
    "event_id": "order_123",
    "user": {"email": [HASH], "phone": [HASH], "ttclid": 'E.C.P.x}y{"z'},
    "properties": {"value": 150.0, "currency": "EUR"},
    "page": {"url": 'https://shop.example/checkout?a="user":{}}'},
    "limited_data_use": False,
}


def test_user_goes_last_and_the_splice_fills_it() -> None:
    text = stored_item(SEED)
    assert list(orjson.loads(text))[-1] == "user"
    ua = 'Mozilla/5.0 "quoted" } { \\ ü \u2028'
    sent = orjson.loads(item_bytes(text, True, "203.0.113.9", ua))
    assert expected(SEED, "203.0.113.9", ua) == sent
    assert list(sent["user"])[-2:] == ["ip", "user_agent"]


def test_an_event_without_user_data_gets_a_user_only_for_ip_or_agent() -> None:
    bare = {k: v for k, v in SEED.items() if k != "user"}
    text = stored_item(bare)
    assert orjson.loads(text)["user"] == {}
    assert "user" not in orjson.loads(item_bytes(text, True, None, None))
    assert {"ip": "::1"} == orjson.loads(item_bytes(text, True, "::1", None))["user"]
    assert {"user_agent": "UA"} == orjson.loads(item_bytes(text, True, None, "UA"))["user"]


def test_items_stored_before_or_rewritten_by_an_erasure_are_merged_by_a_parse() -> None:
    legacy = orjson.dumps(SEED).decode()  # `user` in the middle
    assert expected(SEED, "1.2.3.4", "UA") == orjson.loads(
        item_bytes(legacy, False, "1.2.3.4", "UA")
    )
    emptied = orjson.dumps({**SEED, "user": {}}).decode()
    assert "user" not in orjson.loads(item_bytes(emptied, False, None, None))


def test_the_body_is_the_items_joined() -> None:
    items = [
        item_bytes(stored_item({**SEED, "event_id": f"e{n}"}), True, "::1", None) for n in range(3)
    ]
    body = orjson.loads(track_body("CPIXEL", items, "TEST123"))
    assert body["event_source"] == "web"
    assert body["event_source_id"] == "CPIXEL"
    assert body["test_event_code"] == "TEST123"
    assert ["e0", "e1", "e2"] == [item["event_id"] for item in body["data"]]
    assert "test_event_code" not in orjson.loads(track_body("CPIXEL", items, None))


_text = st.text(max_size=40)
_user = st.dictionaries(
    st.sampled_from(["email", "phone", "external_id", "ttclid", "ttp", "locale"]),
    st.one_of(_text, st.lists(_text, max_size=3)),
    max_size=4,
)
_payload = st.fixed_dictionaries(
    {"event": _text, "event_id": _text},
    optional={
        "user": _user,
        "properties": st.dictionaries(
            _text, st.one_of(_text, st.floats(allow_nan=False, allow_infinity=False)), max_size=3
        ),
        "page": st.fixed_dictionaries({"url": _text}),
        "limited_data_use": st.booleans(),
    },
)


@given(_payload, st.one_of(st.none(), _text), st.one_of(st.none(), _text))
def test_splice_equals_parse_and_merge(
    payload: dict[str, Any], ip: str | None, ua: str | None
) -> None:
    text = stored_item(payload)
    spliced = orjson.loads(item_bytes(text, True, ip, ua))
    assert expected(payload, ip, ua) == spliced
    assert spliced == orjson.loads(item_bytes(orjson.dumps(payload).decode(), False, ip, ua))
