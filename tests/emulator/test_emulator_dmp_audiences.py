"""Customer-file audiences: signed hash uploads, create/update above a floor, delete."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from tests.emulator.audience_support import (
    DMP,
    audience_with,
    create,
    emails,
    pair,
    upload,
    upload_rows,
)
from tests.emulator.emulator_support import ADVERTISER, API, call, sha256

from tiktok_ads.emulator import EmulatorConfig, EmulatorState


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(audience_min_members=3, max_upload_bytes=4096)


async def test_upload_returns_a_file_path_and_create_counts_distinct_users(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A signed file of hashes uploads; the audience's cover_num counts each user once."""
    rows = [*emails("a", "b", "c"), emails("a")[0].upper()]
    path = await upload_rows(client, rows)
    created = await create(client, path, retention_in_days=180)
    audience = state.audiences.audiences[created["data"]["custom_audience_id"]]
    assert (0, 3, 180) == (created["code"], audience.cover_num, audience.retention_in_days)


async def test_upload_with_header_line_is_read(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """A first line naming the calculate_type is a header, not an id."""
    path = await upload_rows(client, ["EMAIL_SHA256", *emails("a", "b")])
    assert 2 == len(state.audiences.files[path].members)


async def test_signature_mismatch_is_40900(client: httpx.AsyncClient) -> None:
    """file_signature that is not the bytes' MD5 answers 40900."""
    envelope = await upload(client, "\n".join(emails("a")), signature="0" * 32)
    assert (
        40900,
        "File signature does not match: file_signature must be the file's MD5.",
    ) == pair(envelope)


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"", "users.txt", (40905, "The file is empty.")),
        (b"\n  \n", "users.csv", (40905, "The file is empty.")),
        (b"abc", "users.xlsx", (40906, "Unsupported file type: upload a .csv or .txt file.")),
        (
            b"\xff\xfe\x00bad",
            "users.txt",
            (40907, "The file cannot be read: it must be UTF-8 text."),
        ),
        (b"a" * 5000, "users.txt", (40908, "The file exceeds the size limit of 4096 bytes.")),
        (b"EMAIL_SHA256\n", "users.txt", (40910, "The file contains no IDs.")),
    ],
)
async def test_bad_files_get_file_error_codes(
    client: httpx.AsyncClient, content: bytes, filename: str, expected: tuple[int, str]
) -> None:
    """Empty, wrong type, unreadable, oversized and id-less files get their 4090x code."""
    assert expected == pair(await upload(client, content, filename=filename))


async def test_unhashed_rows_are_40062(client: httpx.AsyncClient) -> None:
    """A plaintext email on line 2 answers 40062 naming the line."""
    envelope = await upload(client, f"{emails('a')[0]}\nbob@example.com\n")
    assert (40062, "PII is not hashed: line 2 is not a valid SHA256 hash.") == pair(envelope)


async def test_md5_types_need_md5_hashes(client: httpx.AsyncClient) -> None:
    """IDFA_MD5 rows must be 32 hex characters; a SHA-256 is refused."""
    md5 = hashlib.md5(b"idfa").hexdigest()
    assert 0 == (await upload(client, md5, calculate_type="IDFA_MD5"))["code"]
    envelope = await upload(client, emails("a")[0], calculate_type="IDFA_MD5")
    assert (40062, "PII is not hashed: line 1 is not a valid MD5 hash.") == pair(envelope)


async def test_multiple_types_files_key_users_by_row(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """MULTIPLE_TYPES: a header of types, one user per row, empty cells allowed."""
    email, phone = emails("a")[0], sha256("+12133734253")
    rows = ["EMAIL_SHA256,PHONE_SHA256", f"{email},{phone}", f",{sha256('+4930123')}", f"{email},"]
    path = await upload_rows(client, rows, calculate_type="MULTIPLE_TYPES")
    assert 2 == len(state.audiences.files[path].members)
    bad = await upload(client, "EMAIL_SHA256,NAME\nx,y\n", calculate_type="MULTIPLE_TYPES")
    assert (40909, "Invalid file header: unknown ID type 'NAME'.") == pair(bad)


CREATE_CASES = [
    (
        {"custom_audience_name": "x" * 129},
        "Invalid value for custom_audience_name: length must be between 1 and 128.",
    ),
    ({"file_paths": []}, "Invalid value for file_paths: length must be between 1 and 500."),
    (
        {"file_paths": ["f"] * 501},
        "Invalid value for file_paths: length must be between 1 and 500.",
    ),
    ({"file_paths": ["nope"]}, "Invalid value for file_paths.0: file nope does not exist."),
    (
        {"retention_in_days": 366},
        "Invalid value for retention_in_days: must be between 1 and 365.",
    ),
    (
        {"calculate_type": "NAME"},
        "Invalid value for calculate_type: must be one of: EMAIL_SHA256, PHONE_SHA256, "
        "IDFA_SHA256, GAID_SHA256, IDFA_MD5, GAID_MD5, FIRST_SHA256, FIRST_MD5, MULTIPLE_TYPES.",
    ),
    (
        {"calculate_type": "PHONE_SHA256"},
        "Invalid value for file_paths.0: the file was uploaded as EMAIL_SHA256, not PHONE_SHA256.",
    ),
]


@pytest.mark.parametrize(("fields", "expected"), CREATE_CASES)
async def test_create_checks_its_parameters(
    client: httpx.AsyncClient, fields: dict[str, Any], expected: str
) -> None:
    """create/ refuses bad names, file lists, retention and calculate_type with 40002."""
    path = await upload_rows(client, emails("a"))
    envelope = await create(client, path, **fields)
    assert (40002, expected) == pair(envelope)


async def test_audience_cap_per_advertiser(
    client: httpx.AsyncClient, config: EmulatorConfig
) -> None:
    """Past max_audiences_per_advertiser, create answers 40002."""
    config.max_audiences_per_advertiser = 2
    path = await upload_rows(client, emails("a"))
    assert [0, 0] == [(await create(client, path))["code"] for _ in range(2)]
    refused = await create(client, path)
    assert (
        40002,
        "Audience limit reached: an advertiser can have at most 2 custom audiences.",
    ) == pair(refused)


async def test_update_append_remove_replace_respect_the_floor(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """APPEND grows, REMOVE under the floor (3) is refused with 40002, REPLACE is the default."""
    audience_id = await audience_with(client, "a", "b")
    more = await upload_rows(client, emails("c", "d"))
    base = {"advertiser_id": ADVERTISER, "custom_audience_id": audience_id}
    appended = await call(
        client, f"{DMP}/update/", {**base, "file_paths": [more], "action": "APPEND"}
    )
    assert (0, 4) == (appended["code"], state.audiences.audiences[audience_id].cover_num)
    removed = await call(
        client, f"{DMP}/update/", {**base, "file_paths": [more], "action": "REMOVE"}
    )
    assert (
        40002,
        "The audience would have 2 users after REMOVE; an audience needs at least 3.",
    ) == pair(removed)
    three = await upload_rows(client, emails("x", "y", "z"))
    replaced = await call(client, f"{DMP}/update/", {**base, "file_paths": [three]})
    assert 0 == replaced["code"]
    assert set(emails("x", "y", "z")) == state.audience_members(audience_id)


async def test_unknown_audience_is_40007(client: httpx.AsyncClient) -> None:
    """update/, get/ and delete/ on an unknown id answer 40007."""
    path = await upload_rows(client, emails("a"))
    update = await call(
        client,
        f"{DMP}/update/",
        {"advertiser_id": ADVERTISER, "custom_audience_id": "999", "file_paths": [path]},
    )
    get = await call(
        client,
        f"{DMP}/get/",
        params={"advertiser_id": ADVERTISER, "custom_audience_ids": '["999"]'},
    )
    delete = await call(
        client, f"{DMP}/delete/", {"advertiser_id": ADVERTISER, "custom_audience_ids": ["999"]}
    )
    expected = (40007, "Custom audience does not exist: 999.")
    assert [expected] * 3 == [pair(update), pair(get), pair(delete)]


async def test_delete_removes_up_to_a_hundred(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """delete/ removes the audiences; more than 100 ids answer 40002."""
    audience_id = await audience_with(client, "a")
    body = {"advertiser_id": ADVERTISER, "custom_audience_ids": [audience_id]}
    assert 0 == (await call(client, f"{DMP}/delete/", body))["code"]
    assert {} == state.audiences.audiences
    too_many = await call(
        client,
        f"{DMP}/delete/",
        {"advertiser_id": ADVERTISER, "custom_audience_ids": [str(i) for i in range(101)]},
    )
    assert (
        40002,
        "Invalid value for custom_audience_ids: length must be between 1 and 100.",
    ) == pair(too_many)


async def test_upload_is_recorded_without_the_file_bytes(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    """The request log keeps the form fields and the file's name and size."""
    await upload_rows(client, emails("a"))
    recorded = state.requests[-1].json
    assert ("EMAIL_SHA256", {"filename": "users.txt", "size": 65}) == (
        recorded["calculate_type"],
        recorded["file"],
    )


async def test_upload_needs_a_file(client: httpx.AsyncClient) -> None:
    """A form without `file` answers 40002."""
    response = await client.post(
        f"{API}/{DMP}/file/upload/",
        data={"advertiser_id": ADVERTISER, "calculate_type": "EMAIL_SHA256", "file_signature": "x"},
    )
    assert (40002, "Invalid value for file: missing data for required field.") == pair(
        response.json()
    )
