"""Helpers for the emulator's audience tests: uploads, audiences of each kind, get/ items."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from tests.emulator.emulator_support import ADVERTISER, call, sha256

DMP = "dmp/custom_audience"


def pair(envelope: dict[str, Any]) -> tuple[int, str]:
    """An envelope's (code, message)."""
    return envelope["code"], envelope["message"]


def emails(*names: str) -> list[str]:
    return [sha256(f"{name}@example.com") for name in names]


async def upload(
    client: httpx.AsyncClient,
    content: bytes | str,
    *,
    calculate_type: str = "EMAIL_SHA256",
    signature: str | None = None,
    filename: str = "users.txt",
) -> dict[str, Any]:
    raw = content.encode() if isinstance(content, str) else content
    form = {
        "advertiser_id": ADVERTISER,
        "calculate_type": calculate_type,
        "file_signature": signature or hashlib.md5(raw).hexdigest(),
    }
    return await call(client, f"{DMP}/file/upload/", form, files={"file": (filename, raw)})


async def upload_rows(client: httpx.AsyncClient, rows: list[str], **kwargs: Any) -> str:
    envelope = await upload(client, "\n".join(rows) + "\n", **kwargs)
    assert 0 == envelope["code"], envelope
    file_path: str = envelope["data"]["file_path"]
    return file_path


async def create(client: httpx.AsyncClient, *paths: str, **fields: Any) -> dict[str, Any]:
    body = {
        "advertiser_id": ADVERTISER,
        "custom_audience_name": "Buyers",
        "calculate_type": "EMAIL_SHA256",
        "file_paths": list(paths),
        **fields,
    }
    return await call(client, f"{DMP}/create/", body)


async def audience_with(client: httpx.AsyncClient, *names: str) -> str:
    path = await upload_rows(client, emails(*names))
    audience_id: str = (await create(client, path))["data"]["custom_audience_id"]
    return audience_id


async def get_one(client: httpx.AsyncClient, audience_id: str, **params: Any) -> dict[str, Any]:
    """get/ for one audience: its `{"audience_details", "audience_history"}` item."""
    envelope = await call(
        client,
        f"{DMP}/get/",
        params={"advertiser_id": ADVERTISER, "custom_audience_ids": f'["{audience_id}"]', **params},
    )
    assert 0 == envelope["code"], envelope
    item: dict[str, Any]
    [item] = envelope["data"]["list"]
    return item


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
