"""CSV customer lists through POST /audiences/{id}/upload: raw body or multipart, streamed,
hashed in worker processes when big, split into customer files, bad input refused by field."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from pathlib import Path

from tests.service.audience_support import (
    ADVERTISER,
    create,
    emails,
    settled,
    sha256,
)
from tests.service.conftest import AUTH, Service, ServiceFactory
from tests.service.test_pii_at_rest import database_files

from tiktok_ads.domain.normalize import hash_email, hash_phone


async def upload(
    service: Service, audience_id: str, body: bytes, **kw: object
) -> dict[str, object]:
    response = await service.post(
        f"/audiences/{audience_id}/upload",
        content=body,
        headers={**AUTH, "Content-Type": "text/csv"},
        **kw,
    )
    assert 202 == response.status_code, response.text
    result: dict[str, object] = response.json()
    return result


async def test_a_csv_upload_reports_bad_rows_by_line_and_skips_other_columns(
    make_service: ServiceFactory,
) -> None:
    """Header email,phone,external_id: ids hashed, external_id skipped and listed, bad lines
    named by line number and column."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    csv = (
        b"email,phone,external_id\r\n"
        b"a@example.com,+40721234567,u1\r\n"
        b"\r\n"
        b"broken,+40721234568,u2\r\n"
        b'"b@example.com",,u3\r\n'
        b"c@example.com,+40721234569\r\n"
    )
    accepted = await upload(service, audience["id"], csv)
    assert (4, 4, 2, ["external_id"]) == (
        accepted["rows"],
        accepted["accepted_ids"],
        accepted["invalid"],
        accepted["ignored_columns"],
    )
    assert [(4, "email"), (6, "row")] == [
        (p["row"], p["field"])
        for p in accepted["report"]  # type: ignore[union-attr]
    ]
    view = await settled(service, audience["id"])
    expected = {
        hash_email("a@example.com"),
        hash_phone("+40721234567", None),
        hash_phone("+40721234568", None),
        hash_email("b@example.com"),
    }
    assert expected == service.tiktok.audience_members(view["tiktok_audience_id"])


async def test_a_big_multipart_upload_is_hashed_in_workers_and_split_into_files(
    make_service: ServiceFactory,
) -> None:
    """6,000 rows as a multipart file: hashed by the worker processes, sent as several files
    under the size limit, every id at TikTok."""
    service = await make_service(
        tiktok_advertiser_id=ADVERTISER,
        tiktok_audience_hash_workers=1,
        tiktok_audience_file_max_bytes=100_000,
    )
    audience = await create(service)
    rows = emails(6000)
    csv = ("EMAIL\n" + "\n".join(rows) + "\n").encode()
    response = await service.post(
        f"/audiences/{audience['id']}/upload",
        files={"file": ("fans.csv", csv, "text/csv")},
        data={"note": "ignored"},
        params={"action": "replace"},
    )
    assert (202, 6000, "REPLACE") == (
        response.status_code,
        response.json()["accepted_ids"],
        response.json()["action"],
    )
    view = await settled(service, audience["id"], within=60)
    assert {hash_email(e) for e in rows} == service.tiktok.audience_members(
        view["tiktok_audience_id"]
    )
    sizes = [
        r.json["file"]["size"] for r in service.tiktok.requests if r.path.endswith("file/upload")
    ]
    assert 5 == len(sizes)  # 6,000 rows of 68 bytes, at most 100,000 bytes a file
    assert max(sizes) <= 100_000


async def hashing_processes(within: float = 10.0, *, gone: bool) -> list[multiprocessing.Process]:
    """This process's multiprocessing children (the hashing pool's) once some are running, or
    once all have left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while bool(children := multiprocessing.active_children()) == gone:
        assert loop.time() < deadline, f"hashing processes: {children}"
        await asyncio.sleep(0.02)
    return children


async def test_the_hashing_processes_leave_with_the_upload_and_return_for_the_next(
    make_service: ServiceFactory,
) -> None:
    """Each upload starts the hashing processes and shuts them down when it is done, refused
    or accepted; the next upload starts them again."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER, tiktok_audience_hash_workers=1)
    audience = await create(service)
    path = f"/audiences/{audience['id']}/upload"
    headers = {**AUTH, "Content-Type": "text/csv"}
    seen: list[multiprocessing.Process] = []

    async def body(first: list[str], rest: bytes) -> AsyncIterator[bytes]:
        """The rest is sent once a worker process hashes the first lines."""
        yield ("email\n" + "".join(f"{e}\n" for e in first)).encode()
        seen.extend(await hashing_processes(within=30, gone=False))
        yield rest

    refused = await service.post(
        path, content=body(emails(100), b"bad@\xff.com\n"), headers=headers
    )
    assert (422, "file") == (refused.status_code, refused.json()["errors"][0]["field"])
    assert [] == await hashing_processes(gone=True)
    assert 1 == len(seen) and not seen[0].is_alive()

    rows = emails(3000)
    second = "".join(f"{e}\n" for e in rows[100:]).encode()
    accepted = await service.post(path, content=body(rows[:100], second), headers=headers)
    assert (202, 3000) == (accepted.status_code, accepted.json()["accepted_ids"])
    assert [] == await hashing_processes(gone=True)
    assert 2 == len(seen) and seen[0].pid != seen[1].pid
    view = await settled(service, audience["id"])
    assert {hash_email(e) for e in rows} == service.tiktok.audience_members(
        view["tiktok_audience_id"]
    )


async def test_uploads_are_capped_and_bad_csv_refused_without_a_trace(
    make_service: ServiceFactory,
) -> None:
    """Past TIKTOK_ADS_MAX_UPLOAD_BYTES: 413; no id column: 422 naming the header; not UTF-8:
    422 naming the file; REPLACE with no valid id: 422; none of them leaves a job."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER, tiktok_ads_max_upload_bytes=2048)
    audience = await create(service)
    path = f"/audiences/{audience['id']}/upload"
    headers = {**AUTH, "Content-Type": "text/csv"}

    async def refused(body: bytes, **kw: object) -> tuple[int, str]:
        response = await service.post(path, content=body, headers=headers, **kw)
        return response.status_code, response.json()["errors"][0]["field"]

    assert (413, "body") == await refused(b"email\n" + b"x@example.com\n" * 200)
    assert (422, "header") == await refused(b"name,city\nAna,Cluj\n")
    assert (422, "file") == await refused(b"email\n\xff\xfe@example.com\n")
    assert (422, "members") == await refused(b"email\nnope\n", params={"action": "REPLACE"})
    assert (422, "action") == await refused(b"email\na@b.co\n", params={"action": "MERGE"})
    view = (await service.get(f"/audiences/{audience['id']}")).json()
    assert ({}, "pending") == (view["jobs"]["counts"], view["status"])


async def test_prehashed_lists_pass_through_and_nothing_raw_is_stored(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    """Hashes upper or lower case go as they are (lower-cased); raw emails never reach the
    database file."""
    service = await make_service(tiktok_advertiser_id=ADVERTISER)
    audience = await create(service)
    hashed = [sha256(f"h{i}@x.com") for i in range(3)]
    lines = ["email", hashed[0].upper(), *hashed[1:], "secret.person@example.com"]
    await upload(service, audience["id"], "\n".join(lines).encode())
    view = await settled(service, audience["id"])
    assert set(hashed) | {hash_email("secret.person@example.com")} == (
        service.tiktok.audience_members(view["tiktok_audience_id"])
    )
    assert [] == [name for name, data in database_files(tmp_path).items() if b"secret." in data]
