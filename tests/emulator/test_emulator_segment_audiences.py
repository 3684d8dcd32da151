"""Partner segment audiences: create/delete, and users mapped by position with id_schema."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from tests.emulator.audience_support import mapping, pair, partner_audience
from tests.emulator.emulator_support import ADVERTISER, call, sha256

from tiktok_ads.emulator import EmulatorConfig, EmulatorState


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(audience_min_members=3, lookalike_min_source=3)


async def test_segment_audience_names_over_70_are_cut_with_an_ellipsis(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """segment/audience/ keeps 70 characters; longer names become 67 plus "..."."""
    long_id = await partner_audience(client, "n" * 80)
    exact_id = await partner_audience(client, "x" * 70)
    assert ["n" * 67 + "...", "x" * 70] == [
        state.audiences.audiences[audience_id].name for audience_id in (long_id, exact_id)
    ]


async def test_segment_audience_action_defaults_to_create(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Without `action`, segment/audience/ creates (§10)."""
    body = {"advertiser_id": ADVERTISER, "custom_audience_name": "Buyers"}
    envelope = await call(client, "segment/audience/", body)
    assert (0, [envelope["data"]["audience_id"]]) == (
        envelope["code"],
        state.audience_ids(name="Buyers"),
    )


async def test_mapping_action_defaults_to_add_and_id_schema_may_be_lower_case(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """Without `action` users are added; "email_sha256" is read as EMAIL_SHA256 (§10)."""
    audience_id = await partner_audience(client)
    email = sha256("a@x.com")
    body = mapping(["email_sha256"], [[{"id": email.upper(), "audience_ids": [audience_id]}]])
    del body["action"]
    assert 0 == (await call(client, "segment/mapping/", body))["code"]
    assert frozenset({email}) == state.audience_members(audience_id)


async def test_mapping_id_schema_may_not_repeat_a_type(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A type given twice (in any case) answers 40002 naming the repeat; nothing is added."""
    audience_id = await partner_audience(client)
    row = [{"id": sha256(f"{n}@x.com"), "audience_ids": [audience_id]} for n in "ab"]
    body = mapping(["EMAIL_SHA256", "email_sha256"], [row])
    assert (
        40002,
        "Invalid value for id_schema.1: EMAIL_SHA256 is repeated; each id type may appear once.",
    ) == pair(await call(client, "segment/mapping/", body))
    assert frozenset() == state.audience_members(audience_id)


async def test_segment_audience_delete(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """action delete removes the audience; deleting it again answers 40007."""
    audience_id = await partner_audience(client)
    body = {"advertiser_id": ADVERTISER, "action": "delete", "delete_audience_id": audience_id}
    assert 0 == (await call(client, "segment/audience/", body))["code"]
    again = await call(client, "segment/audience/", body)
    assert (40007, f"Custom audience does not exist: {audience_id}.") == pair(again)


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
    assert (0, {email, other_phone}) == (envelope["code"], state.audience_members(audience_id))
    removal = mapping(["EMAIL_SHA256", "PHONE_SHA256"], users[:1], action="delete")
    assert 0 == (await call(client, "segment/mapping/", removal))["code"]
    assert {other_phone} == state.audience_members(audience_id)


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
    ) == pair(envelope)


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
    assert (40062, "PII is not hashed: batch_data.1.0.id is not a valid SHA256 hash.") == pair(
        envelope
    )
    assert set() == state.audience_members(audience_id)


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
    assert (40007, "Custom audience does not exist: 123.") == pair(envelope)


async def test_mapping_empty_batch_is_40061(client: httpx.AsyncClient) -> None:
    """An empty batch_data answers 40061."""
    envelope = await call(client, "segment/mapping/", mapping(["EMAIL_SHA256"], []))
    assert (40061, "Invalid batch size: batch_data must hold at least one user.") == pair(envelope)


async def test_mapping_id_schema_values_are_checked(client: httpx.AsyncClient) -> None:
    """id_schema accepts only TikTok's six identifier types."""
    envelope = await call(client, "segment/mapping/", mapping(["EMAIL"], [[{}]]))
    assert (
        40002,
        "Invalid value for id_schema.0: must be one of: EMAIL_SHA256, PHONE_SHA256, "
        "IDFA_SHA256, AAID_SHA256, IDFA_MD5, AAID_MD5.",
    ) == pair(envelope)


async def test_partner_audiences_count_toward_the_cap(
    client: httpx.AsyncClient, config: EmulatorConfig
) -> None:
    """segment/audience/ create obeys the per-advertiser audience cap."""
    config.max_audiences_per_advertiser = 1
    await partner_audience(client)
    body = {"advertiser_id": ADVERTISER, "action": "create", "custom_audience_name": "Two"}
    assert 40002 == (await call(client, "segment/audience/", body))["code"]
