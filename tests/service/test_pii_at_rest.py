"""Raw emails and phones never reach the disk or a log line: after events with valid and
invalid identifiers (lenient and strict) are taken and delivered, neither the SQLite file, its
WAL nor the captured logs hold them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from tests.service.conftest import SEED_EVENT, ServiceFactory

VALID_EMAIL = "Pii.Probe+Shop@Example.com"
INVALID_EMAIL = "Pii.Typo.Probe@Example"
VALID_PHONE = "+40 721 234 999"
VALID_PHONE_E164 = "+40721234999"
INVALID_PHONE = "+40 12 345"
RAW_VALUES = (VALID_EMAIL, INVALID_EMAIL, VALID_PHONE, VALID_PHONE_E164, INVALID_PHONE)


def with_user(event_id: str, **user: Any) -> dict[str, Any]:
    return {**SEED_EVENT, "event_id": event_id, "user": user}


def leaks(haystack: bytes) -> list[str]:
    """The raw values (as given or lower-cased) found in `haystack`."""
    return [form for raw in RAW_VALUES for form in {raw, raw.lower()} if form.encode() in haystack]


def database_files(tmp_path: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in tmp_path.glob("*.db*") if path.is_file()}


async def test_no_raw_email_or_phone_on_disk_or_in_logs(
    make_service: ServiceFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Valid, invalid (dropped with a warning), strict-refused and consent-denied identifiers
    leave no raw email or phone in the .db, its WAL or any log record."""
    caplog.set_level(logging.DEBUG)
    lenient = await make_service()
    single = with_user("p0", email=VALID_EMAIL, phone=VALID_PHONE)
    typos = with_user("p1", email=[INVALID_EMAIL, VALID_EMAIL], phone=INVALID_PHONE)
    denied = {**with_user("p2", email=VALID_EMAIL, phone=VALID_PHONE), "consent": False}
    assert 202 == (await lenient.post("/events", single)).status_code
    answer = (await lenient.post("/events", typos)).json()
    assert ["user.email.0", "user.phone"] == [w["field"] for w in answer["warnings"]]
    assert "skipped" == (await lenient.post("/events", denied)).json()["status"]
    batch = [with_user("p3", email=INVALID_EMAIL), with_user("p4", phone=VALID_PHONE)]
    assert 2 == (await lenient.post("/events/batch", {"events": batch})).json()["accepted"]
    await lenient.settle()

    strict = await make_service(tiktok_ads_strict_user_data=True)
    refused = await strict.post("/events", with_user("s0", email=INVALID_EMAIL))
    assert (422, 40003) == (refused.status_code, refused.json()["code"])
    batch = [with_user("s1", phone=INVALID_PHONE), with_user("s2", email=VALID_EMAIL)]
    assert 1 == (await strict.post("/events/batch", {"events": batch})).json()["rejected"]
    await strict.settle()

    files = database_files(tmp_path)
    assert {"svc-0.db", "svc-0.db-wal", "svc-1.db", "svc-1.db-wal"} <= set(files)
    assert {name: [] for name in files} == {name: leaks(data) for name, data in files.items()}
    assert caplog.records, "the logs were captured"
    assert [] == leaks(caplog.text.encode())
    assert [] == leaks(repr([record.args for record in caplog.records]).encode())
