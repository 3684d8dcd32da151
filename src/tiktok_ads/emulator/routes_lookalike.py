"""Derived audiences and their use: lookalike create/update, rule (pixel) audiences, apply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tiktok_ads.emulator.audiences import LOOKALIKE_FACTORS, Audience
from tiktok_ads.emulator.auth import authenticate
from tiktok_ads.emulator.envelope import invalid, json_body, ok
from tiktok_ads.emulator.params import (
    advertiser,
    choice,
    emulator_state,
    flag,
    id_list,
    identifier,
    nonempty_list,
    obj,
    text,
)
from tiktok_ads.emulator.validation import NOT_OBJECT, REQUIRED, one_of

DMP = "/open_api/v1.3/dmp/custom_audience"
MOBILE_OS = ("ALL", "ANDROID", "IOS")
AUDIENCE_SIZES = tuple(LOOKALIKE_FACTORS)
PLACEMENTS = ("TikTok", "Pangle")
RULE_OPERATIONS = ("OR", "AND")
USAGE_MODES = ("Include", "Exclude")
ACTION_MODES = ("Apply", "Disconnect")
router = APIRouter()


@router.post(f"{DMP}/lookalike/create")
async def create_lookalike(request: Request) -> Response:
    """A lookalike of a ≥100-user source audience that is not itself a lookalike."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    name = text(body, "custom_audience_name", max_length=128)
    spec = _lookalike_spec(obj(body.get("lookalike_spec"), "lookalike_spec"))
    source = state.audiences.find(advertiser_id, spec["source_audience_id"])
    where = "lookalike_spec.source_audience_id"
    if source.kind == "lookalike":
        invalid(where, "a lookalike audience cannot be a source audience.")
    needed = state.config.lookalike_min_source
    if source.cover_num < needed:
        invalid(where, f"the source audience has {source.cover_num} users; it needs {needed}.")
    state.audiences.check_cap(advertiser_id, state.config.max_audiences_per_advertiser)
    book = state.audiences
    audience = Audience(
        book.new_audience_id(), advertiser_id, name, "lookalike", None, state.clock(),
        lookalike_spec=spec, synthetic_size=_reach(source, spec),
    )  # fmt: skip
    book.add(audience)
    return ok(request, {"custom_audience_id": audience.audience_id})


@router.post(f"{DMP}/lookalike/update")
async def refresh_lookalikes(request: Request) -> Response:
    """Recompute lookalikes, listed in `custom_audience_ids`, from their sources' members."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    ids = id_list(body.get("custom_audience_ids"), "custom_audience_ids", 1, 100)
    refreshed = []
    for index, audience_id in enumerate(ids):
        audience = state.audiences.find(advertiser_id, audience_id)
        spec = audience.lookalike_spec
        if audience.kind != "lookalike" or spec is None:
            invalid(f"custom_audience_ids.{index}", "not a lookalike audience.")
        source = state.audiences.find(advertiser_id, spec["source_audience_id"])
        refreshed.append((audience, _reach(source, spec)))
    now = state.clock()
    for audience, reach in refreshed:
        audience.synthetic_size = reach
        audience.record("REFRESH", f"Refreshed: reach {reach}.", now)
    return ok(request)


@router.post(f"{DMP}/rule/create")
async def create_rule_audience(request: Request) -> Response:
    """A pixel/engagement audience: only the rule_spec's shape is checked, then it is stored."""
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    name = text(body, "custom_audience_name", max_length=128)
    spec = obj(body.get("rule_spec"), "rule_spec")
    _rule_set(spec.get("inclusion_rule_set"), "rule_spec.inclusion_rule_set", required=True)
    _rule_set(spec.get("exclusion_rule_set"), "rule_spec.exclusion_rule_set", required=False)
    state.audiences.check_cap(advertiser_id, state.config.max_audiences_per_advertiser)
    book = state.audiences
    audience = Audience(
        book.new_audience_id(), advertiser_id, name, "rule", None, state.clock(), rule_spec=spec
    )
    book.add(audience)
    return ok(request, {"custom_audience_id": audience.audience_id})


@router.post(f"{DMP}/apply")
async def apply(request: Request) -> Response:
    """`action_mode` Apply (with `usage_mode` Include | Exclude) or Disconnect, on ad groups.

    Exclusion lists are used this way; with Disconnect `usage_mode` is not read.
    """
    state = emulator_state(request)
    caller = authenticate(request)
    body = await json_body(request)
    advertiser_id = advertiser(body, caller)
    audience = state.audiences.find(advertiser_id, identifier(body, "custom_audience_id"))
    adgroup_ids = id_list(body.get("adgroup_ids"), "adgroup_ids", 1, 100)
    action_mode = _enum(body, "action_mode", ACTION_MODES)
    if action_mode == "Disconnect":
        for adgroup_id in adgroup_ids:
            audience.usages.pop(adgroup_id, None)
        return ok(request)
    usage_mode = _enum(body, "usage_mode", USAGE_MODES)
    audience.usages.update(dict.fromkeys(adgroup_ids, usage_mode))
    return ok(request)


def _enum(body: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    """A required value of `choices`; TikTok's docs spell them "Apply", clients also "APPLY"."""
    value = body.get(key)
    if value is None:
        invalid(key, REQUIRED)
    normalised = {choice.upper(): choice for choice in choices}.get(str(value).upper())
    if normalised is None:
        invalid(key, one_of(choices))
    return normalised


def _lookalike_spec(spec: dict[str, Any]) -> dict[str, Any]:
    source_id = identifier(spec, "source_audience_id", "lookalike_spec.source_audience_id")
    include_source = flag(spec, "include_source", False, "lookalike_spec.include_source")
    mobile_os = choice(spec, "mobile_os", MOBILE_OS, "ALL", "lookalike_spec.mobile_os")
    audience_size = choice(
        spec, "audience_size", AUDIENCE_SIZES, where="lookalike_spec.audience_size"
    )
    placements = nonempty_list(spec.get("placements", ["TikTok"]), "lookalike_spec.placements")
    for index, placement in enumerate(placements):
        if placement not in PLACEMENTS:
            invalid(f"lookalike_spec.placements.{index}", one_of(PLACEMENTS))
    location_ids = id_list(spec.get("location_ids"), "lookalike_spec.location_ids", 1, 1000)
    return {
        "source_audience_id": source_id,
        "include_source": include_source,
        "mobile_os": mobile_os,
        "placements": placements,
        "location_ids": location_ids,
        "audience_size": audience_size,
    }


def _rule_set(value: object, where: str, *, required: bool) -> None:
    if value is None and not required:
        return
    rule_set = obj(value, where)
    operation = rule_set.get("operation", "OR")
    if operation not in RULE_OPERATIONS:
        invalid(f"{where}.operation", one_of(RULE_OPERATIONS))
    rules = nonempty_list(rule_set.get("rules"), f"{where}.rules")
    for index, rule in enumerate(rules):
        if type(rule) is not dict:
            invalid(f"{where}.rules.{index}", NOT_OBJECT)


def _reach(source: Audience, spec: dict[str, Any]) -> int:
    reach = source.cover_num * LOOKALIKE_FACTORS[spec["audience_size"]]
    return reach + (source.cover_num if spec["include_source"] else 0)
