"""Lookalike, rule and applied audiences; partner segment audiences with positional id_schema."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from tests.emulator.emulator_support import ADVERTISER, call, sha256

from tiktok_ads.emulator import EmulatorConfig, EmulatorState

DMP = "dmp/custom_audience"


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(audience_min_members=3, lookalike_min_source=3)


def _pair(envelope: dict[str, Any]) -> tuple[int, str]:
    return envelope["code"], envelope["message"]


async def partner_audience(client: httpx.AsyncClient, name: str = "Buyers") -> str:
    body = {"advertiser_id": ADVERTISER, "action": "create", "custom_audience_name": name}
    envelope = await call(client, "segment/audience/", body)
    audience_id: str = envelope["data"]["audience_id"]
    return audience_id


async def customer_file_audience(client: httpx.AsyncClient, size: int) -> str:
    raw = "\n".join(sha256(f"user{i}@x.com") for i in range(size)).encode()
    form = {
        "advertiser_id": ADVERTISER,
        "calculate_type": "EMAIL_SHA256",
        "file_signature": hashlib.md5(raw).hexdigest(),
    }
    uploaded = await call(client, f"{DMP}/file/upload/", form, files={"file": ("u.csv", raw)})
    created = await call(
        client,
        f"{DMP}/create/",
        {
            "advertiser_id": ADVERTISER,
            "custom_audience_name": "Source",
            "calculate_type": "EMAIL_SHA256",
            "file_paths": [uploaded["data"]["file_path"]],
        },
    )
    audience_id: str = created["data"]["custom_audience_id"]
    return audience_id


def lookalike_body(source_id: str, **spec: Any) -> dict[str, Any]:
    return {
        "advertiser_id": ADVERTISER,
        "custom_audience_name": "Lookalike",
        "lookalike_spec": {
            "source_audience_id": source_id,
            "include_source": False,
            "mobile_os": "ALL",
            "placements": ["TikTok"],
            "location_ids": ["6252001"],
            "audience_size": "BALANCED",
            **spec,
        },
    }


def mapping(
    id_schema: list[str], batch_data: list[list[dict[str, Any]]], action: str = "add"
) -> dict[str, Any]:
    return {
        "advertiser_ids": [ADVERTISER],
        "action": action,
        "id_schema": id_schema,
        "batch_data": batch_data,
    }


async def test_lookalike_from_a_large_enough_source(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A source with enough members gives a lookalike with a reach larger than the source."""
    source_id = await customer_file_audience(client, 3)
    envelope = await call(client, f"{DMP}/lookalike/create/", lookalike_body(source_id))
    lookalike = state.audiences.audiences[envelope["data"]["custom_audience_id"]]
    assert (0, "lookalike", 90) == (envelope["code"], lookalike.kind, lookalike.cover_num)


async def test_lookalike_source_too_small(client: httpx.AsyncClient) -> None:
    """A source under lookalike_min_source answers 40002."""
    source_id = await customer_file_audience(client, 2)
    envelope = await call(client, f"{DMP}/lookalike/create/", lookalike_body(source_id))
    assert (
        40002,
        "Invalid value for lookalike_spec.source_audience_id: "
        "the source audience has 2 users; it needs 3.",
    ) == _pair(envelope)


async def test_lookalike_of_a_lookalike_is_refused(client: httpx.AsyncClient) -> None:
    """A lookalike cannot be a source."""
    source_id = await customer_file_audience(client, 3)
    first = await call(client, f"{DMP}/lookalike/create/", lookalike_body(source_id))
    second = await call(
        client,
        f"{DMP}/lookalike/create/",
        lookalike_body(first["data"]["custom_audience_id"]),
    )
    assert (
        40002,
        "Invalid value for lookalike_spec.source_audience_id: "
        "a lookalike audience cannot be a source audience.",
    ) == _pair(second)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"audience_size": "HUGE"},
            "Invalid value for lookalike_spec.audience_size: "
            "must be one of: NARROW, BALANCED, BROAD.",
        ),
        (
            {"mobile_os": "WINDOWS"},
            "Invalid value for lookalike_spec.mobile_os: must be one of: ALL, ANDROID, IOS.",
        ),
        (
            {"location_ids": []},
            "Invalid value for lookalike_spec.location_ids: length must be between 1 and 1000.",
        ),
        (
            {"placements": ["Facebook"]},
            "Invalid value for lookalike_spec.placements.0: must be one of: TikTok, Pangle.",
        ),
        (
            {"include_source": "yes"},
            "Invalid value for lookalike_spec.include_source: not a valid boolean.",
        ),
    ],
)
async def test_lookalike_spec_is_checked(
    client: httpx.AsyncClient, spec: dict[str, Any], expected: str
) -> None:
    """Each lookalike_spec field is checked and named with its full path."""
    source_id = await customer_file_audience(client, 3)
    envelope = await call(client, f"{DMP}/lookalike/create/", lookalike_body(source_id, **spec))
    assert (40002, expected) == _pair(envelope)


async def test_lookalike_of_unknown_source_is_40007(client: httpx.AsyncClient) -> None:
    """An unknown source audience answers 40007."""
    envelope = await call(client, f"{DMP}/lookalike/create/", lookalike_body("404"))
    assert (40007, "Custom audience does not exist: 404.") == _pair(envelope)


async def test_lookalike_update_follows_the_source(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """lookalike/update/ recomputes the reach from the source's current size."""
    source_id = await customer_file_audience(client, 3)
    created = await call(
        client, f"{DMP}/lookalike/create/", lookalike_body(source_id, audience_size="NARROW")
    )
    lookalike_id = created["data"]["custom_audience_id"]
    state.audiences.audiences[source_id].members.add(sha256("late@x.com"))
    body = {"advertiser_id": ADVERTISER, "custom_audience_id": lookalike_id}
    assert 0 == (await call(client, f"{DMP}/lookalike/update/", body))["code"]
    assert 40 == state.audiences.audiences[lookalike_id].cover_num
    not_lookalike = await call(
        client, f"{DMP}/lookalike/update/", {**body, "custom_audience_id": source_id}
    )
    assert (40002, "Invalid value for custom_audience_id: not a lookalike audience.") == _pair(
        not_lookalike
    )


async def test_rule_audience_shape_is_checked(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """rule/create/ needs an inclusion_rule_set with rules; a valid one is stored."""
    base = {"advertiser_id": ADVERTISER, "custom_audience_name": "Carts not bought"}
    rules = {"operation": "OR", "rules": [{"event_source_ids": ["PIX"], "retention_days": 30}]}
    missing = await call(client, f"{DMP}/rule/create/", {**base, "rule_spec": {}})
    empty = await call(
        client, f"{DMP}/rule/create/", {**base, "rule_spec": {"inclusion_rule_set": {"rules": []}}}
    )
    created = await call(
        client,
        f"{DMP}/rule/create/",
        {**base, "rule_spec": {"inclusion_rule_set": rules, "exclusion_rule_set": rules}},
    )
    assert (
        40002,
        "Invalid value for rule_spec.inclusion_rule_set: missing data for required field.",
    ) == _pair(missing)
    assert (
        40002,
        "Invalid value for rule_spec.inclusion_rule_set.rules: must not be empty.",
    ) == _pair(empty)
    audience = state.audiences.audiences[created["data"]["custom_audience_id"]]
    assert ("rule", rules) == (audience.kind, audience.rule_spec["inclusion_rule_set"])


async def test_apply_records_include_and_exclude(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """apply/ records the usage mode on ad groups; unknown modes answer 40002."""
    audience_id = await customer_file_audience(client, 3)
    body = {"advertiser_id": ADVERTISER, "custom_audience_id": audience_id, "adgroup_ids": ["1"]}
    assert 0 == (await call(client, f"{DMP}/apply/", {**body, "usage_mode": "Exclude"}))["code"]
    bad = await call(client, f"{DMP}/apply/", {**body, "usage_mode": "Maybe"})
    assert (40002, "Invalid value for usage_mode: must be one of: Include, Exclude.") == _pair(bad)
    assert [{"usage_mode": "Exclude", "adgroup_ids": ["1"]}] == (
        state.audiences.audiences[audience_id].usages
    )


async def test_segment_audience_names_are_cut_to_70(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """segment/audience/ create answers audience_id; names over 70 characters are cut."""
    audience_id = await partner_audience(client, "n" * 80)
    assert "n" * 70 == state.audiences.audiences[audience_id].name


async def test_segment_audience_delete(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """action delete removes the audience; deleting it again answers 40007."""
    audience_id = await partner_audience(client)
    body = {"advertiser_id": ADVERTISER, "action": "delete", "delete_audience_id": audience_id}
    assert 0 == (await call(client, "segment/audience/", body))["code"]
    again = await call(client, "segment/audience/", body)
    assert (40007, f"Custom audience does not exist: {audience_id}.") == _pair(again)


async def test_mapping_aligns_ids_with_id_schema_by_position(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """One inner array per user; `{}` fills a missing id; a user counts once per audience."""
    audience_id = await partner_audience(client)
    email, phone, other_phone = sha256("a@x.com"), sha256("+1"), sha256("+2")
    users = [
        [
            {"id": email, "audience_ids": [audience_id]},
            {"id": phone, "audience_ids": [audience_id]},
        ],
        [{}, {"id": other_phone, "audience_ids": [audience_id]}],
    ]
    envelope = await call(
        client, "segment/mapping/", mapping(["EMAIL_SHA256", "PHONE_SHA256"], users)
    )
    assert (0, 2) == (envelope["code"], state.audiences.audiences[audience_id].cover_num)
    removal = mapping(["EMAIL_SHA256", "PHONE_SHA256"], users[:1], action="delete")
    assert 0 == (await call(client, "segment/mapping/", removal))["code"]
    assert {other_phone} == state.audiences.audiences[audience_id].members


async def test_mapping_row_length_must_match_id_schema(client: httpx.AsyncClient) -> None:
    """A user array shorter than id_schema answers 40002 naming the row."""
    audience_id = await partner_audience(client)
    users = [[{"id": sha256("a@x.com"), "audience_ids": [audience_id]}]]
    envelope = await call(
        client, "segment/mapping/", mapping(["EMAIL_SHA256", "PHONE_SHA256"], users)
    )
    assert (
        40002,
        "Invalid value for batch_data.0: length must match id_schema (2); use {} for a missing id.",
    ) == _pair(envelope)


async def test_mapping_refuses_unhashed_ids(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A plaintext email answers 40062 and nothing is added."""
    audience_id = await partner_audience(client)
    users = [
        [{"id": sha256("a@x.com"), "audience_ids": [audience_id]}],
        [{"id": "bob@example.com", "audience_ids": [audience_id]}],
    ]
    envelope = await call(client, "segment/mapping/", mapping(["EMAIL_SHA256"], users))
    assert (40062, "PII is not hashed: batch_data.1.0.id is not a valid SHA256 hash.") == _pair(
        envelope
    )
    assert set() == state.audiences.audiences[audience_id].members


async def test_mapping_md5_schema_needs_md5(client: httpx.AsyncClient) -> None:
    """IDFA_MD5 ids must be 32 hex characters."""
    audience_id = await partner_audience(client)
    md5 = hashlib.md5(b"IDFA-1").hexdigest()
    good = [[{"id": md5, "audience_ids": [audience_id]}]]
    bad = [[{"id": sha256("IDFA-1"), "audience_ids": [audience_id]}]]
    assert 0 == (await call(client, "segment/mapping/", mapping(["IDFA_MD5"], good)))["code"]
    assert 40062 == (await call(client, "segment/mapping/", mapping(["IDFA_MD5"], bad)))["code"]


async def test_mapping_unknown_audience_is_40007(client: httpx.AsyncClient) -> None:
    """An audience id that does not exist answers 40007."""
    users = [[{"id": sha256("a@x.com"), "audience_ids": ["123"]}]]
    envelope = await call(client, "segment/mapping/", mapping(["EMAIL_SHA256"], users))
    assert (40007, "Custom audience does not exist: 123.") == _pair(envelope)


async def test_mapping_empty_batch_is_40061(client: httpx.AsyncClient) -> None:
    """An empty batch_data answers 40061."""
    envelope = await call(client, "segment/mapping/", mapping(["EMAIL_SHA256"], []))
    assert (40061, "Invalid batch size: batch_data must hold at least one user.") == _pair(envelope)


async def test_mapping_id_schema_values_are_checked(client: httpx.AsyncClient) -> None:
    """id_schema accepts only TikTok's six identifier types."""
    envelope = await call(client, "segment/mapping/", mapping(["EMAIL"], [[{}]]))
    assert (
        40002,
        "Invalid value for id_schema.0: must be one of: EMAIL_SHA256, PHONE_SHA256, "
        "IDFA_SHA256, AAID_SHA256, IDFA_MD5, AAID_MD5.",
    ) == _pair(envelope)


async def test_partner_audiences_count_toward_the_cap(
    client: httpx.AsyncClient, config: EmulatorConfig
) -> None:
    """segment/audience/ create obeys the per-advertiser audience cap."""
    config.max_audiences_per_advertiser = 1
    await partner_audience(client)
    body = {"advertiser_id": ADVERTISER, "action": "create", "custom_audience_name": "Two"}
    assert 40002 == (await call(client, "segment/audience/", body))["code"]
