"""NewEvent and PreparedEvent write their `__init__` out (a native constructor when compiled):
every field must be an argument of it and be set by it, or a field added later would stay
unset until read, and `dataclasses.replace` would refuse the record."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest

from tiktok_ads.domain.consent import ConsentVerdict
from tiktok_ads.domain.events import NewEvent
from tiktok_ads.domain.inbound import PreparedEvent
from tiktok_ads.errors import FieldError

NEW_EVENT: dict[str, Any] = {
    "pixel_id": "P1",
    "event_name": "CompletePayment",
    "event_id": "o1",
    "event_time": 1_705_326_600,
    "status": "queued",
    "payload": {"event": "CompletePayment"},
    "ip": "192.168.1.1",
    "user_agent": "Mozilla/5.0",
    "match_keys": "email,ip",
    "identity_hashes": ("a" * 64,),
    "has_ttclid": True,
    "has_ttp": False,
    "value": 150.0,
    "currency": "EUR",
    "skip_reason": "consent denied",
    "event_id_generated": True,
}
PREPARED: dict[str, Any] = {
    "pixel_id": "P1",
    "event_name": "CompletePayment",
    "event_id": "o1",
    "event_id_generated": False,
    "event_time": 1_705_326_600,
    "payload": {"event": "CompletePayment"},
    "consent": ConsentVerdict(False, "ad_storage denied"),
    "limited_data_use": True,
    "ip": "192.168.1.1",
    "user_agent": "Mozilla/5.0",
    "match_keys": ("email", "ip"),
    "identity_hashes": ("a" * 64,),
    "ttclid": "click",
    "ttp": "cookie",
    "value": 150.0,
    "currency": "EUR",
    "warnings": (FieldError("user.phone", "not a phone number"),),
}


@pytest.mark.parametrize(("record", "values"), [(NewEvent, NEW_EVENT), (PreparedEvent, PREPARED)])
def test_every_field_is_set_by_the_constructor(record: type[Any], values: dict[str, Any]) -> None:
    assert sorted(values) == sorted(f.name for f in fields(record))
    made = record(**values)
    assert {name: getattr(made, name) for name in values} == values
    assert replace(made) == made
    assert replace(made, event_id="o2").event_id == "o2"
