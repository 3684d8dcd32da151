"""Lookalike, rule and applied audiences."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.emulator.audience_support import (
    DMP,
    customer_file_audience,
    lookalike_body,
    pair,
)
from tests.emulator.emulator_support import ADVERTISER, call, sha256

from tiktok_ads.emulator import EmulatorConfig, EmulatorState


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(audience_min_members=3, lookalike_min_source=3)


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
    ) == pair(envelope)


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
    ) == pair(second)


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
    assert (40002, expected) == pair(envelope)


async def test_lookalike_of_unknown_source_is_40007(client: httpx.AsyncClient) -> None:
    """An unknown source audience answers 40007."""
    envelope = await call(client, f"{DMP}/lookalike/create/", lookalike_body("404"))
    assert (40007, "Custom audience does not exist: 404.") == pair(envelope)


async def test_lookalike_update_takes_a_list_and_follows_the_source(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """lookalike/update/ takes `custom_audience_ids` and recomputes each reach (§10)."""
    source_id = await customer_file_audience(client, 3)
    created = await call(
        client, f"{DMP}/lookalike/create/", lookalike_body(source_id, audience_size="NARROW")
    )
    lookalike_id = created["data"]["custom_audience_id"]
    state.audiences.audiences[source_id].members.add(sha256("late@x.com"))
    body = {"advertiser_id": ADVERTISER, "custom_audience_ids": [lookalike_id]}
    assert 0 == (await call(client, f"{DMP}/lookalike/update/", body))["code"]
    assert 40 == state.audiences.audiences[lookalike_id].cover_num
    assert ["CREATE", "REFRESH"] == [
        entry["action"] for entry in state.audiences.audiences[lookalike_id].history
    ]


async def test_lookalike_update_refuses_a_non_lookalike_and_the_old_shape(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A source id in the list is named by index and nothing refreshes; a lone id is refused."""
    source_id = await customer_file_audience(client, 3)
    created = await call(client, f"{DMP}/lookalike/create/", lookalike_body(source_id))
    lookalike_id = created["data"]["custom_audience_id"]
    state.audiences.audiences[source_id].members.add(sha256("late@x.com"))
    mixed = {"advertiser_id": ADVERTISER, "custom_audience_ids": [lookalike_id, source_id]}
    refused = await call(client, f"{DMP}/lookalike/update/", mixed)
    assert (40002, "Invalid value for custom_audience_ids.1: not a lookalike audience.") == pair(
        refused
    )
    assert 90 == state.audiences.audiences[lookalike_id].cover_num
    lone = {"advertiser_id": ADVERTISER, "custom_audience_id": lookalike_id}
    assert (
        40002,
        "Invalid value for custom_audience_ids: missing data for required field.",
    ) == pair(await call(client, f"{DMP}/lookalike/update/", lone))


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
    ) == pair(missing)
    assert (
        40002,
        "Invalid value for rule_spec.inclusion_rule_set.rules: must not be empty.",
    ) == pair(empty)
    audience = state.audiences.audiences[created["data"]["custom_audience_id"]]
    assert ("rule", rules) == (audience.kind, audience.rule_spec["inclusion_rule_set"])


async def test_apply_and_disconnect_with_action_mode(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """action_mode Apply records Include/Exclude per ad group; Disconnect removes it (§10)."""
    audience_id = await customer_file_audience(client, 3)
    body = {"advertiser_id": ADVERTISER, "custom_audience_id": audience_id}
    apply = {**body, "action_mode": "Apply", "adgroup_ids": ["1", "2"], "usage_mode": "Exclude"}
    assert 0 == (await call(client, f"{DMP}/apply/", apply))["code"]
    assert {"1": "Exclude", "2": "Exclude"} == state.audiences.audiences[audience_id].usages
    disconnect = {**body, "action_mode": "Disconnect", "adgroup_ids": ["1"]}
    assert 0 == (await call(client, f"{DMP}/apply/", disconnect))["code"]
    assert {"2": "Exclude"} == state.audiences.audiences[audience_id].usages


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"usage_mode": "Include"},
            "Invalid value for action_mode: missing data for required field.",
        ),
        (
            {"action_mode": "Attach", "usage_mode": "Include"},
            "Invalid value for action_mode: must be one of: Apply, Disconnect.",
        ),
        (
            {"action_mode": "Apply"},
            "Invalid value for usage_mode: missing data for required field.",
        ),
        (
            {"action_mode": "Apply", "usage_mode": "Maybe"},
            "Invalid value for usage_mode: must be one of: Include, Exclude.",
        ),
    ],
)
async def test_apply_checks_action_mode_and_usage_mode(
    client: httpx.AsyncClient, state: EmulatorState, fields: dict[str, Any], expected: str
) -> None:
    """action_mode is required; usage_mode is required with Apply; bad values answer 40002."""
    audience_id = await customer_file_audience(client, 3)
    body = {"advertiser_id": ADVERTISER, "custom_audience_id": audience_id, "adgroup_ids": ["1"]}
    assert (40002, expected) == pair(await call(client, f"{DMP}/apply/", {**body, **fields}))
    assert {} == state.audiences.audiences[audience_id].usages
