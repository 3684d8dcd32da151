"""Customer-file audiences, `dmp/custom_audience/`: upload, create, update, list, get, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from tiktok_ads.emulator.audiences import (
    CALCULATE_TYPES,
    Audience,
    AudienceBook,
    UploadedFile,
    tiktok_time,
)
from tiktok_ads.emulator.auth import authenticate
from tiktok_ads.emulator.customer_files import read_members
from tiktok_ads.emulator.envelope import ApiError, invalid, json_body, ok, remember_json
from tiktok_ads.emulator.params import (
    advertiser,
    choice,
    emulator_state,
    id_list,
    identifier,
    page_info,
    paging,
    query_fields,
    query_json,
    text,
    whole_number,
)
from tiktok_ads.emulator.validation import REQUIRED

DMP = "/open_api/v1.3/dmp/custom_audience"
UPDATE_ACTIONS = ("APPEND", "REMOVE", "REPLACE")
MAX_NAME = 128
MAX_FILE_PATHS = 500
router = APIRouter()


@router.post(f"{DMP}/file/upload")
async def upload_file(request: Request) -> Response:
    """Multipart customer file: hashes only, signed with its MD5; answers `data.file_path`."""
    state = emulator_state(request)
    caller = authenticate(request)
    async with request.form() as form:
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        upload = form.get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else None
        filename = (upload.filename or "") if isinstance(upload, UploadFile) else ""
    remember_json(request, {**fields, "file": {"filename": filename, "size": len(content or b"")}})
    advertiser_id = advertiser(fields, caller)
    calculate_type = choice(fields, "calculate_type", CALCULATE_TYPES)
    if content is None:
        invalid("file", REQUIRED)
    signature = text(fields, "file_signature")
    limit = state.config.max_upload_bytes
    members = read_members(content, filename, calculate_type, signature, limit)
    book = state.audiences
    file_path = book.new_file_path(advertiser_id)
    book.files[file_path] = UploadedFile(
        file_path, advertiser_id, calculate_type, members, len(content), filename, state.clock()
    )
    return ok(request, {"file_path": file_path})


@router.post(f"{DMP}/create")
async def create(request: Request) -> Response:
    """A customer-file audience from 1 to 500 uploaded files; answers `data.custom_audience_id`."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    name = text(body, "custom_audience_name", max_length=MAX_NAME)
    calculate_type = choice(body, "calculate_type", CALCULATE_TYPES)
    members = _file_members(body, advertiser_id, calculate_type, state.audiences)
    retention = body.get("retention_in_days")
    if retention is not None:
        whole_number(retention, "retention_in_days", 1, 365)
    state.audiences.check_cap(advertiser_id, state.config.max_audiences_per_advertiser)
    book = state.audiences
    audience = Audience(
        book.new_audience_id(), advertiser_id, name, "customer_file", calculate_type,
        state.clock(), set(members), retention_in_days=retention,
    )  # fmt: skip
    book.add(audience)
    return ok(request, {"custom_audience_id": audience.audience_id})


@router.post(f"{DMP}/update")
async def update(request: Request) -> Response:
    """APPEND, REMOVE or REPLACE (default) files; refused if the result is under the floor."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    audience = state.audiences.find(advertiser_id, identifier(body, "custom_audience_id"))
    if audience.kind != "customer_file":
        invalid("custom_audience_id", "only customer file audiences can be updated with files.")
    action = choice(body, "action", UPDATE_ACTIONS, default="REPLACE")
    calculate_type = audience.calculate_type or ""
    members = _file_members(body, advertiser_id, calculate_type, state.audiences)
    if action == "APPEND":
        result = audience.members | members
    elif action == "REMOVE":
        result = audience.members - members
    else:
        result = set(members)
    floor = state.config.audience_min_members
    if len(result) < floor:
        raise ApiError(
            40002,
            f"The audience would have {len(result)} users after {action}; "
            f"an audience needs at least {floor}.",
        )
    audience.members = result
    audience.updated_at = state.clock()
    audience.history.append(
        {"action": action, "cover_num": len(result), "time": tiktok_time(audience.updated_at)}
    )
    return ok(request, {"custom_audience_id": audience.audience_id})


@router.get(f"{DMP}/list")
async def list_audiences(request: Request) -> Response:
    """An advertiser's audiences, `page_size` ≤ 100, optionally narrowed by a JSON id array."""
    state = emulator_state(request)
    caller = authenticate(request)
    fields = query_fields(request, "advertiser_id", "page", "page_size")
    advertiser_id = advertiser(fields, caller)
    page, page_size = paging(fields)
    wanted_raw = query_json(request, "custom_audience_ids")
    wanted = None if wanted_raw is None else set(id_list(wanted_raw, "custom_audience_ids", 0, 100))
    audiences = [
        audience
        for audience in state.audiences.audiences.values()
        if audience.advertiser_id == advertiser_id
        and (wanted is None or audience.audience_id in wanted)
    ]
    floor = state.config.audience_min_members
    start = (page - 1) * page_size
    chosen = [a.details(floor) for a in audiences[start : start + page_size]]
    return ok(request, {"list": chosen, "page_info": page_info(page, page_size, len(audiences))})


@router.get(f"{DMP}/get")
async def get_audiences(request: Request) -> Response:
    """Details and history of up to 100 audiences named by a JSON id array."""
    state = emulator_state(request)
    caller = authenticate(request)
    advertiser_id = advertiser(query_fields(request, "advertiser_id"), caller)
    ids = id_list(query_json(request, "custom_audience_ids"), "custom_audience_ids", 1, 100)
    floor = state.config.audience_min_members
    found = [state.audiences.find(advertiser_id, audience_id) for audience_id in ids]
    return ok(
        request,
        {
            "list": [
                {"audience_details": a.details(floor), "audience_history": a.history} for a in found
            ]
        },
    )


@router.post(f"{DMP}/delete")
async def delete(request: Request) -> Response:
    """Delete up to 100 audiences; one unknown id refuses the request (40007)."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    ids = id_list(body.get("custom_audience_ids"), "custom_audience_ids", 1, 100)
    for audience_id in ids:
        state.audiences.find(advertiser_id, audience_id)
    for audience_id in ids:
        state.audiences.audiences.pop(audience_id, None)
    return ok(request)


def _file_members(
    body: dict[str, Any], advertiser_id: str, calculate_type: str, book: AudienceBook
) -> set[str]:
    paths = body.get("file_paths")
    ids = id_list(paths, "file_paths", 1, MAX_FILE_PATHS)
    members: set[str] = set()
    for index, path in enumerate(ids):
        uploaded = book.find_file(advertiser_id, index, path)
        if uploaded.calculate_type != calculate_type:
            invalid(
                f"file_paths.{index}",
                f"the file was uploaded as {uploaded.calculate_type}, not {calculate_type}.",
            )
        members |= uploaded.members
    return members
