"""Segments as pure rules: identifiers grouped into people, who qualifies, a rule read back as
it was stored, and what an erased person's event keeps."""

from __future__ import annotations

import orjson

from tiktok_ads.domain.audience_rules import SegmentRule, read_rule
from tiktok_ads.domain.audiences import IdType
from tiktok_ads.domain.erasure import remaining_match_keys, without_identity
from tiktok_ads.domain.segments import SegmentBuilder, SegmentCounts

EMAIL, PHONE = IdType.EMAIL_SHA256.value, IdType.PHONE_SHA256.value


def buy(
    builder: SegmentBuilder, *, matches: bool = True, limited: bool = False, **ids: object
) -> None:
    keys = {"emails": "email", "phones": "phone", "external_ids": "external_id"}
    user = {keys[k]: v for k, v in ids.items() if k in keys}
    who = [user or None, limited]
    value = ids.get("value", 10.0)
    assert isinstance(value, float)
    builder.add_events([(matches, value, orjson.dumps(who).decode())])


def test_identifiers_seen_together_are_one_person_across_events() -> None:
    """Email+external_id, external_id+phone, then the phone alone: three events of one person,
    whose members are the email and the phone (external_id is never sent)."""
    builder = SegmentBuilder(min_count=3, min_value=None)
    buy(builder, emails="a", external_ids="u")
    buy(builder, external_ids="u", phones=["p", "q"])
    buy(builder, phones="q")
    buy(builder, emails=["b"])
    assert SegmentCounts(1, 1, 1, 1, 3) == builder.finish()
    assert [(EMAIL, "a"), (PHONE, "p"), (PHONE, "q")] == sorted(builder.members())


def test_an_excluding_event_or_limited_data_use_keeps_people_out() -> None:
    """A linked excluding event (even under LDU) removes the person; LDU events never qualify;
    the value floor adds up a person's events; nobody identifiable, nobody counted."""
    builder = SegmentBuilder(min_count=1, min_value=100.0)
    buy(builder, emails="a", external_ids="u", value=150.0)
    buy(builder, matches=False, limited=True, external_ids="u")
    buy(builder, emails="b", value=60.0)
    buy(builder, emails="b", value=40.0)
    buy(builder, emails="c", value=500.0, limited=True)
    buy(builder, value=900.0)
    assert SegmentCounts(1, 1, 0, 1, 1) == builder.finish()
    assert [(EMAIL, "b")] == list(builder.members())


def test_a_stored_rule_reads_back_with_its_defaults_written_out() -> None:
    """Defaults are resolved when the rule is made (the window: everything events keep)."""
    rule = read_rule({"event_type": " AddToCart ", "content_ids": [7, "7"]}, max_days=90)
    assert SegmentRule("AddToCart", 90, content_ids=("7",)) == rule
    assert rule == SegmentRule.from_json(rule.to_json())


def test_an_erased_event_keeps_only_what_names_nobody() -> None:
    """No identifiers, names, click ids (nor in the page URL); country, locale and the rest
    stay; match keys follow."""
    payload = {
        "event": "CompletePayment",
        "user": {"email": "h", "phone": ["h"], "ttclid": "E.C.P.x", "ttp": "t", "country": "ro"}
        | {"locale": "ro-RO", "first_name": "h", "zip_code": "h", "city": "cluj"},
        "page": {"url": "https://s.example/p?ttclid=E.C.P.x&utm=a", "referrer": "https://t.co/"},
        "properties": {"value": 1.0},
    }
    assert {
        "event": "CompletePayment",
        "user": {"country": "ro", "locale": "ro-RO"},
        "page": {"url": "https://s.example/p?utm=a", "referrer": "https://t.co/"},
        "properties": {"value": 1.0},
    } == without_identity(payload)
    assert "" == remaining_match_keys("email,phone,ttclid,ip,user_agent")
