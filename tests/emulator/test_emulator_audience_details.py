"""Reading audiences as TikTok answers: list/ and get/ items, history, expiry, renames."""

from __future__ import annotations

import httpx
import pytest
from tests.emulator.audience_support import (
    DMP,
    audience_with,
    create,
    emails,
    get_one,
    pair,
    upload_rows,
)
from tests.emulator.emulator_support import ADVERTISER, START, FakeClock, call

from tiktok_ads.emulator import EmulatorConfig, EmulatorState


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(audience_min_members=3, max_upload_bytes=4096)


async def test_list_pages_and_filters_with_json_arrays(client: httpx.AsyncClient) -> None:
    """list/ pages with page_info, filters by a JSON id array, caps page_size at 100."""
    ids = [await audience_with(client, "a") for _ in range(3)]
    page = await call(
        client, f"{DMP}/list/", params={"advertiser_id": ADVERTISER, "page": 2, "page_size": 2}
    )
    assert [ids[2]] == [item["audience_id"] for item in page["data"]["list"]]
    assert {"page": 2, "page_size": 2, "total_number": 3, "total_page": 2} == page["data"][
        "page_info"
    ]
    filtered = await call(
        client,
        f"{DMP}/list/",
        params={"advertiser_id": ADVERTISER, "custom_audience_ids": f'["{ids[1]}"]'},
    )
    assert [ids[1]] == [item["audience_id"] for item in filtered["data"]["list"]]
    too_big = await call(
        client, f"{DMP}/list/", params={"advertiser_id": ADVERTISER, "page_size": 101}
    )
    assert (40002, "Invalid value for page_size: must be between 1 and 100.") == pair(too_big)


async def test_get_and_list_name_the_id_audience_id_with_tiktoks_fields(
    client: httpx.AsyncClient,
) -> None:
    """list/ and get/ items carry `audience_id`, owner_id, is_expiring, expired_time (§10)."""
    audience_id = await audience_with(client, "a", "b", "c")
    item = await get_one(client, audience_id)
    expected = {
        "audience_id": audience_id,
        "name": "Buyers",
        "audience_type": "Customer File Audience",
        "audience_sub_type": "NORMAL",
        "calculate_type": "EMAIL_SHA256",
        "cover_num": 3,
        "shared": False,
        "is_creator": True,
        "owner_id": ADVERTISER,
        "is_valid": True,
        "is_expiring": False,
        "create_time": "2024-01-15 13:50:00",
        "expired_time": "2025-01-14 13:50:00",
        "lookalike_spec": None,
    }
    assert expected == item["audience_details"]
    listed = await call(client, f"{DMP}/list/", params={"advertiser_id": ADVERTISER})
    assert [expected] == listed["data"]["list"]


async def test_get_history_entries_have_tiktoks_shape(client: httpx.AsyncClient) -> None:
    """History entries are {action, action_detail, editor, msg, opt_time}; history_size: newest."""
    audience_id = await audience_with(client, "a", "b", "c")
    rename = {"advertiser_id": ADVERTISER, "custom_audience_id": audience_id}
    await call(client, f"{DMP}/update/", {**rename, "custom_audience_name": "Fans"})
    history = (await get_one(client, audience_id))["audience_history"]
    assert [
        {
            "action": "CREATE",
            "action_detail": "Created with 3 users.",
            "editor": "open_api",
            "msg": "",
            "opt_time": "2024-01-15 13:50:00",
        },
        {
            "action": "RENAME",
            "action_detail": "Renamed to Fans.",
            "editor": "open_api",
            "msg": "",
            "opt_time": "2024-01-15 13:50:00",
        },
    ] == history
    newest = (await get_one(client, audience_id, history_size=1))["audience_history"]
    assert ["RENAME"] == [entry["action"] for entry in newest]


async def test_audiences_expire_after_their_retention(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """With retention_in_days 90: expiring from day 30 (60 days before), invalid at day 90."""
    path = await upload_rows(client, emails("a", "b", "c"))
    audience_id = (await create(client, path, retention_in_days=90))["data"]["custom_audience_id"]
    states = []
    for day in (29, 31, 90):
        clock.now = START + day * 86_400
        details = (await get_one(client, audience_id))["audience_details"]
        states.append((day, details["is_expiring"], details["is_valid"]))
    assert [(29, False, True), (31, True, True), (90, False, False)] == states
    assert "2024-04-14 13:50:00" == details["expired_time"]


async def test_update_may_rename_only(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """custom_audience_name without file_paths renames and keeps the members (§10)."""
    audience_id = await audience_with(client, "a", "b", "c")
    body = {"advertiser_id": ADVERTISER, "custom_audience_id": audience_id}
    renamed = await call(client, f"{DMP}/update/", {**body, "custom_audience_name": "Fans"})
    assert (0, audience_id) == (renamed["code"], renamed["data"]["custom_audience_id"])
    assert ("Fans", set(emails("a", "b", "c"))) == (
        (await get_one(client, audience_id))["audience_details"]["name"],
        state.audience_members(audience_id),
    )
    neither = await call(client, f"{DMP}/update/", body)
    assert (
        40002,
        "Invalid value for file_paths: pass file_paths, custom_audience_name or both.",
    ) == pair(neither)
    too_long = await call(client, f"{DMP}/update/", {**body, "custom_audience_name": "n" * 129})
    assert (
        40002,
        "Invalid value for custom_audience_name: length must be between 1 and 128.",
    ) == pair(too_long)


async def test_refused_update_changes_nothing(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A rename with files under the floor is refused whole: the name stays too."""
    audience_id = await audience_with(client, "a", "b", "c")
    small = await upload_rows(client, emails("z"))
    body = {
        "advertiser_id": ADVERTISER,
        "custom_audience_id": audience_id,
        "custom_audience_name": "Fans",
        "file_paths": [small],
    }
    assert 40002 == (await call(client, f"{DMP}/update/", body))["code"]
    assert ("Buyers", 3) == (
        (await get_one(client, audience_id))["audience_details"]["name"],
        len(state.audience_members(audience_id)),
    )


def test_audience_members_names_an_unknown_audience(state: EmulatorState) -> None:
    """The read API refuses an unknown id with a KeyError naming it."""
    with pytest.raises(KeyError, match="no audience '404'"):
        state.audience_members("404")
