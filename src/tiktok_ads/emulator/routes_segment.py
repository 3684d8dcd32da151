"""Partner audiences: `segment/audience/` (create, delete) and `segment/mapping/` (users)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tiktok_ads.emulator.audiences import Audience, AudienceBook, hash_name, is_hashed
from tiktok_ads.emulator.auth import authenticate
from tiktok_ads.emulator.envelope import ApiError, invalid, json_body, ok
from tiktok_ads.emulator.params import (
    advertiser,
    choice,
    emulator_state,
    id_list,
    identifier,
    nonempty_list,
    text,
)
from tiktok_ads.emulator.validation import NOT_LIST, NOT_OBJECT, NOT_STRING, REQUIRED, one_of

SEGMENT = "/open_api/v1.3/segment"
#: Longer names are cut to 67 characters and end in "..." (TikTok's docs).
MAX_SEGMENT_NAME = 70
ID_SCHEMAS = (
    "EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_SHA256", "IDFA_MD5", "AAID_MD5",
)  # fmt: skip
router = APIRouter()

# One user's ids per audience: audience id -> the row's hashes that name it, in schema order.
UserIds = dict[str, list[str]]


@router.post(f"{SEGMENT}/audience")
async def segment_audience(request: Request) -> Response:
    """Create (the default action; long names cut to 70 chars) or delete a partner audience."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    action = choice(body, "action", ("create", "delete"), default="create")
    book = state.audiences
    if action == "delete":
        audience = book.find(advertiser_id, identifier(body, "delete_audience_id"))
        del book.audiences[audience.audience_id]
        return ok(request)
    name = text(body, "custom_audience_name")
    if len(name) > MAX_SEGMENT_NAME:
        name = name[: MAX_SEGMENT_NAME - 3] + "..."
    book.check_cap(advertiser_id, state.config.max_audiences_per_advertiser)
    audience = Audience(book.new_audience_id(), advertiser_id, name, "partner", None, state.clock())
    book.add(audience)
    return ok(request, {"audience_id": audience.audience_id})


@router.post(f"{SEGMENT}/mapping")
async def segment_mapping(request: Request) -> Response:
    """Add (default) or remove users; each user is an array aligned by position with `id_schema`."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_ids = id_list(body.get("advertiser_ids"), "advertiser_ids", 1, 100)
    for advertiser_id in advertiser_ids:
        caller.require_advertiser(advertiser_id)
    action = choice(body, "action", ("add", "delete"), default="add")
    id_schema = _id_schema(body.get("id_schema"))
    batch = body.get("batch_data")
    if batch is None:
        invalid("batch_data", REQUIRED)
    if type(batch) is not list:
        invalid("batch_data", NOT_LIST)
    if not batch:
        raise ApiError(40061, "Invalid batch size: batch_data must hold at least one user.")
    users = [
        _user(row, i, id_schema, advertiser_ids, state.audiences) for i, row in enumerate(batch)
    ]
    now = state.clock()
    for user in users:
        for audience_id, ids in user.items():
            audience = state.audiences.audiences[audience_id]
            if action == "add":
                # A user counts once per audience, keyed by the first id naming the audience.
                audience.members.add(ids[0])
            else:
                audience.members.difference_update(ids)
            audience.updated_at = now
    return ok(request)


def _id_schema(value: object) -> list[str]:
    """id_schema in upper case: TikTok takes the types in lower case too, but each only once."""
    id_schema: list[str] = []
    for index, schema in enumerate(nonempty_list(value, "id_schema")):
        upper = schema.upper() if type(schema) is str else schema
        if upper not in ID_SCHEMAS:
            invalid(f"id_schema.{index}", one_of(ID_SCHEMAS))
        if upper in id_schema:
            invalid(f"id_schema.{index}", f"{upper} is repeated; each id type may appear once.")
        id_schema.append(upper)
    return id_schema


def _user(
    row: object, i: int, id_schema: list[str], advertiser_ids: list[str], book: AudienceBook
) -> UserIds:
    """Check one user's row and say which of its hashes go to which audience."""
    if type(row) is not list:
        invalid(f"batch_data.{i}", NOT_LIST)
    if len(row) != len(id_schema):
        invalid(
            f"batch_data.{i}",
            f"length must match id_schema ({len(id_schema)}); use {{}} for a missing id.",
        )
    user: UserIds = {}
    for j, (cell, schema) in enumerate(zip(row, id_schema, strict=True)):
        where = f"batch_data.{i}.{j}"
        if type(cell) is not dict:
            invalid(where, NOT_OBJECT)
        if not cell:
            continue
        hashed = cell.get("id")
        if hashed is None:
            invalid(f"{where}.id", REQUIRED)
        if type(hashed) is not str:
            invalid(f"{where}.id", NOT_STRING)
        if not is_hashed(hashed, schema):
            raise ApiError(
                40062, f"PII is not hashed: {where}.id is not a valid {hash_name(schema)} hash."
            )
        for audience_id in id_list(cell.get("audience_ids"), f"{where}.audience_ids", 1, 100):
            book.find(advertiser_ids, audience_id)
            user.setdefault(audience_id, []).append(hashed.lower())
    return user
