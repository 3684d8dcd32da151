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
from tiktok_ads.emulator.state import EmulatorState
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
    """Rename, and/or APPEND, REMOVE or REPLACE (default) files above the member floor."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    audience = state.audiences.find(advertiser_id, identifier(body, "custom_audience_id"))
    if body.get("custom_audience_name") is None and body.get("file_paths") is None:
        invalid("file_paths", "pass file_paths, custom_audience_name or both.")
    name = None
    if body.get("custom_audience_name") is not None:
        name = text(body, "custom_audience_name", max_length=MAX_NAME)
    change = None
    if body.get("file_paths") is not None:
        change = _file_change(body, advertiser_id, audience, state)
    # Everything is checked before anything changes: a refused update leaves no trace.
    now = state.clock()
    if name is not None:
        audience.name = name
        audience.record("RENAME", f"Renamed to {name}.", now)
    if change is not None:
        action, audience.members = change
        audience.record(action, f"{action} files: {len(audience.members)} users.", now)
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
    now = state.clock()
    start = (page - 1) * page_size
    chosen = [a.details(floor, now) for a in audiences[start : start + page_size]]
    return ok(request, {"list": chosen, "page_info": page_info(page, page_size, len(audiences))})


@router.get(f"{DMP}/get")
async def get_audiences(request: Request) -> Response:
    """Details and history (newest `history_size` entries) of up to 100 audiences."""
    state = emulator_state(request)
    caller = authenticate(request)
    fields = query_fields(request, "advertiser_id", "history_size")
    advertiser_id = advertiser(fields, caller)
    ids = id_list(query_json(request, "custom_audience_ids"), "custom_audience_ids", 1, 100)
    history_size = None
    if fields.get("history_size") is not None:
        history_size = whole_number(fields["history_size"], "history_size", 1, 1000)
    floor = state.config.audience_min_members
    now = state.clock()
    found = [state.audiences.find(advertiser_id, audience_id) for audience_id in ids]
    return ok(
        request,
        {
            "list": [
                {
                    "audience_details": audience.details(floor, now),
                    "audience_history": audience.history[-history_size:]
                    if history_size
                    else audience.history,
                }
                for audience in found
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


def _file_change(
    body: dict[str, Any], advertiser_id: str, audience: Audience, state: EmulatorState
) -> tuple[str, set[str]]:
    """The update's action and the members it would leave, refused under the floor."""
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
    return action, result


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
