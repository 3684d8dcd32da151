"""The audience client against the emulator: files split and signed, lookups across pages,
rename, segment deletion; what the network does becomes an answer, never an exception."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx

from tiktok_ads.adapters.tiktok_audiences import TikTokAudienceClient
from tiktok_ads.adapters.tiktok_client import TikTokClient
from tiktok_ads.domain.audiences import IdType, Member
from tiktok_ads.domain.normalize import hash_email
from tiktok_ads.emulator import EmulatorState
from tiktok_ads.emulator import create_app as create_emulator

TOKEN = "0123456789abcdef0123456789abcdef01234567"
ADVERTISER = "7000000042"


def client_for(state: EmulatorState, **kw: int) -> TikTokAudienceClient:
    transport = httpx.ASGITransport(app=create_emulator(state=state))
    return TikTokAudienceClient(
        TikTokClient("http://tiktok.test/open_api", transport=transport), **kw
    )


async def pages_of(members: list[Member], size: int) -> AsyncIterator[Sequence[Member]]:
    for start in range(0, len(members), size):
        yield members[start : start + size]


async def test_ids_go_as_signed_files_under_the_size_limit_and_make_one_audience() -> None:
    """500 ids, 10,000-byte files: 4 files, each accepted (MD5 right), the audience exact."""
    state = EmulatorState()
    client = client_for(state, max_file_bytes=10_000)
    members = [(IdType.EMAIL_SHA256.value, hash_email(f"f{i}@x.com")) for i in range(400)] + [
        (IdType.AAID_SHA256.value, hash_email(f"d{i}@x.com")) for i in range(100)
    ]
    refused, paths = await client.upload_customer_files(TOKEN, ADVERTISER, pages_of(members, 77))
    assert (None, 4) == (refused, len(paths))
    created = await client.create_file_audience(TOKEN, ADVERTISER, "Files", paths)
    audience_id = created.data["custom_audience_id"]
    assert {h for _, h in members} == state.audience_members(audience_id)
    uploads = [r.json for r in state.requests if r.path.endswith("file/upload")]
    assert all(u["file"]["size"] <= 10_000 for u in uploads)
    assert {"MULTIPLE_TYPES"} == {u["calculate_type"] for u in uploads}


async def test_an_audience_is_found_by_exact_name_across_list_pages_and_renamed() -> None:
    """list/ pages of 100 are walked until the name turns up; rename keeps the id."""
    state = EmulatorState()
    client = client_for(state)
    for i in range(120):
        await client.create_segment(TOKEN, ADVERTISER, f"Segment {i}")
    answer, found = await client.find_by_name(TOKEN, ADVERTISER, "Segment 110")
    assert (True, state.audience_ids(name="Segment 110")) == (answer.ok, [found])
    _, missing = await client.find_by_name(TOKEN, ADVERTISER, "Segment 1100")
    assert None is missing
    pages = [r.query for r in state.requests if r.path.endswith("/list")]
    assert 4 == len(pages)  # two pages for each lookup
    renamed = await client.rename(TOKEN, ADVERTISER, found or "", "Holders 2026")
    assert renamed.ok
    assert [found] == state.audience_ids(name="Holders 2026")
    gone = await client.delete_segment(TOKEN, ADVERTISER, found or "")
    assert (True, []) == (gone.ok, state.audience_ids(name="Holders 2026"))


class Refusing(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)


async def test_no_answer_becomes_an_answer_to_retry() -> None:
    """A refused connection is an answer without a code (retried by the job's rules)."""
    client = TikTokAudienceClient(TikTokClient("http://tiktok.test", transport=Refusing()))
    answer = await client.create_segment(TOKEN, ADVERTISER, "X")
    assert (False, None, None) == (answer.ok, answer.answer.code, answer.answer.http_status)
    assert "no answer from TikTok" in answer.answer.message
