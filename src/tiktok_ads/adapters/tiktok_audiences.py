"""TikTok's audience APIs over the shared client: customer files (`dmp/custom_audience/`),
lookalikes, apply/, and partner segments (`segment/`). Every call answers an AudienceAnswer
(TikTok's code decides, as for events); none raises for what TikTok or the network does.

Customer files are written to an anonymous temporary file while the ids stream out of the
database (hashes only; the file vanishes when closed, or with the process), MD5 computed on
the way, split at the size limit, uploaded as a stream: a 1,000,000-row audience is never
in memory.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import IO, Any

from tiktok_ads.adapters.tiktok_client import TikTokClient
from tiktok_ads.domain.audience_jobs import AudienceAnswer
from tiktok_ads.domain.audiences import FILE_COLUMN, IdType, Member

DMP = "/v1.3/dmp/custom_audience"
SEGMENT = "/v1.3/segment"
MAX_FILE_BYTES = 50 * 1024 * 1024  # TikTok's limit per customer file
PAGE_SIZE = 100  # list/ pages at most 100 audiences
UPLOAD_TIMEOUT_S = 300.0
_TYPES = tuple(IdType)
# One id per row under a MULTIPLE_TYPES header: each id stands alone, so a REMOVE file
# removes exactly the ids it lists.
_HEADER = (",".join(FILE_COLUMN[t] for t in _TYPES) + "\n").encode()
_SEGMENT_SCHEMA = [t.name for t in _TYPES]


# A row is the id in its type's column: what comes before and after it, per type.
_BEFORE = {t.value: "," * (t.value - 1) for t in _TYPES}
_AFTER = {t.value: "," * (len(_TYPES) - t.value) + "\n" for t in _TYPES}


def _row(id_type: int, id_hash: str) -> str:
    return _BEFORE[id_type] + id_hash + _AFTER[id_type]


class TikTokAudienceClient:
    def __init__(self, client: TikTokClient, *, max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self._client = client
        row_bytes = len(_row(1, "0" * 64))
        self._rows_per_file = max(1, (max_file_bytes - len(_HEADER)) // row_bytes)

    async def _answer(self, method: str, path: str, token: str, **kw: Any) -> AudienceAnswer:
        answer, data = await self._client.exchange(method, path, token, **kw)
        return AudienceAnswer(answer, data if isinstance(data, dict) else {})

    async def upload_customer_files(
        self, token: str, advertiser_id: str, pages: AsyncIterator[Sequence[Member]]
    ) -> tuple[AudienceAnswer | None, list[str]]:
        """Upload the ids as customer files of at most the size limit each.

        Returns (the first refusal, or None when every file went; the files' paths).
        """
        paths: list[str] = []
        file: IO[bytes] | None = None
        digest = hashlib.md5()
        rows = 0
        try:
            async for page in pages:
                offset = 0
                while offset < len(page):
                    if file is None:
                        # A file spans pages, so no `with`: the `finally` below closes it.
                        file = tempfile.TemporaryFile()  # noqa: SIM115
                        digest, rows = hashlib.md5(), 0
                        file.write(_HEADER)
                        digest.update(_HEADER)
                    taken = page[offset : offset + self._rows_per_file - rows]
                    blob = "".join([_BEFORE[t] + h + _AFTER[t] for t, h in taken]).encode()
                    file.write(blob)
                    digest.update(blob)
                    rows += len(taken)
                    offset += len(taken)
                    if rows == self._rows_per_file:
                        refused = await self._upload(token, advertiser_id, file, digest, paths)
                        file.close()
                        file = None
                        if refused is not None:
                            return refused, paths
            if file is not None:
                refused = await self._upload(token, advertiser_id, file, digest, paths)
                if refused is not None:
                    return refused, paths
        finally:
            if file is not None:
                file.close()
        return None, paths

    async def _upload(
        self, token: str, advertiser_id: str, file: IO[bytes], digest: Any, paths: list[str]
    ) -> AudienceAnswer | None:
        file.seek(0)
        got = await self._answer(
            "POST",
            f"{DMP}/file/upload/",
            token,
            data={
                "advertiser_id": advertiser_id,
                "calculate_type": "MULTIPLE_TYPES",
                "file_signature": digest.hexdigest(),
            },
            files={"file": (f"audience-{len(paths) + 1}.csv", file, "text/csv")},
            timeout_s=UPLOAD_TIMEOUT_S,
        )
        path = got.data.get("file_path")
        if not got.ok or not isinstance(path, str):
            return got
        paths.append(path)
        return None

    async def create_file_audience(
        self, token: str, advertiser_id: str, name: str, file_paths: Sequence[str]
    ) -> AudienceAnswer:
        """create/: `data.custom_audience_id`."""
        body = {
            "advertiser_id": advertiser_id,
            "custom_audience_name": name,
            "calculate_type": "MULTIPLE_TYPES",
            "file_paths": list(file_paths),
        }
        return await self._answer("POST", f"{DMP}/create/", token, json_body=body)

    async def update_file_audience(
        self, token: str, advertiser_id: str, audience_id: str, action: str, paths: Sequence[str]
    ) -> AudienceAnswer:
        """update/ with APPEND or REMOVE files."""
        body = {
            "advertiser_id": advertiser_id,
            "custom_audience_id": audience_id,
            "action": action,
            "file_paths": list(paths),
        }
        return await self._answer("POST", f"{DMP}/update/", token, json_body=body)

    async def rename(
        self, token: str, advertiser_id: str, audience_id: str, name: str
    ) -> AudienceAnswer:
        body = {
            "advertiser_id": advertiser_id,
            "custom_audience_id": audience_id,
            "custom_audience_name": name,
        }
        return await self._answer("POST", f"{DMP}/update/", token, json_body=body)

    async def find_by_name(
        self, token: str, advertiser_id: str, name: str
    ) -> tuple[AudienceAnswer, str | None]:
        """list/, page by page: the id of the first audience named exactly `name`."""
        page = 1
        while True:
            params = {
                "advertiser_id": advertiser_id,
                "page": str(page),
                "page_size": str(PAGE_SIZE),
            }
            got = await self._answer("GET", f"{DMP}/list/", token, params=params)
            if not got.ok:
                return got, None
            for item in got.data.get("list") or []:
                if isinstance(item, dict) and item.get("name") == name:
                    return got, str(item.get("audience_id"))
            total = (got.data.get("page_info") or {}).get("total_page", page)
            if not isinstance(total, int) or page >= total:
                return got, None
            page += 1

    async def details(self, token: str, advertiser_id: str, audience_id: str) -> AudienceAnswer:
        """get/ for one audience: `data.list[0].audience_details` (cover_num, ...)."""
        params = {"advertiser_id": advertiser_id, "custom_audience_ids": json.dumps([audience_id])}
        return await self._answer("GET", f"{DMP}/get/", token, params=params)

    async def delete_file_audience(
        self, token: str, advertiser_id: str, audience_id: str
    ) -> AudienceAnswer:
        body = {"advertiser_id": advertiser_id, "custom_audience_ids": [audience_id]}
        return await self._answer("POST", f"{DMP}/delete/", token, json_body=body)

    async def apply(
        self,
        token: str,
        advertiser_id: str,
        audience_id: str,
        *,
        adgroup_ids: Sequence[str],
        action_mode: str,
        usage_mode: str | None,
    ) -> AudienceAnswer:
        body: dict[str, Any] = {
            "advertiser_id": advertiser_id,
            "custom_audience_id": audience_id,
            "adgroup_ids": list(adgroup_ids),
            "action_mode": action_mode,
        }
        if usage_mode is not None:
            body["usage_mode"] = usage_mode
        return await self._answer("POST", f"{DMP}/apply/", token, json_body=body)

    async def create_lookalike(
        self, token: str, advertiser_id: str, name: str, spec: dict[str, Any]
    ) -> AudienceAnswer:
        """lookalike/create/: `data.custom_audience_id`."""
        body = {
            "advertiser_id": advertiser_id,
            "custom_audience_name": name,
            "lookalike_spec": spec,
        }
        return await self._answer("POST", f"{DMP}/lookalike/create/", token, json_body=body)

    async def create_segment(self, token: str, advertiser_id: str, name: str) -> AudienceAnswer:
        """segment/audience/ create: `data.audience_id`."""
        body = {"advertiser_id": advertiser_id, "action": "create", "custom_audience_name": name}
        return await self._answer("POST", f"{SEGMENT}/audience/", token, json_body=body)

    async def delete_segment(
        self, token: str, advertiser_id: str, audience_id: str
    ) -> AudienceAnswer:
        body = {
            "advertiser_id": advertiser_id,
            "action": "delete",
            "delete_audience_id": audience_id,
        }
        return await self._answer("POST", f"{SEGMENT}/audience/", token, json_body=body)

    async def map_segment(
        self,
        token: str,
        advertiser_id: str,
        audience_id: str,
        action: str,
        members: Sequence[Member],
    ) -> AudienceAnswer:
        """segment/mapping/ add or delete: one user per id, `{}` where it has no other id."""
        batch = []
        for id_type, id_hash in members:
            row: list[dict[str, Any]] = [{} for _ in _TYPES]
            row[id_type - 1] = {"id": id_hash, "audience_ids": [audience_id]}
            batch.append(row)
        body = {
            "advertiser_ids": [advertiser_id],
            "action": action,
            "id_schema": _SEGMENT_SCHEMA,
            "batch_data": batch,
        }
        return await self._answer("POST", f"{SEGMENT}/mapping/", token, json_body=body)
