"""A stored event as one item of TikTok's `data` list, and a batch body made by joining items.

Events are stored as TikTok items with `user` written last, present even when empty
(`stored_item`). The ip and user agent are kept apart, so that retention can drop them; at
send time they are written into the end of `user` without parsing the item (`item_bytes`),
and a batch body is the items joined (`track_body`). Items stored otherwise (before this
format, or rewritten by an erasure) are merged through a parse, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

_EMPTY_USER = ',"user":{}}'


def stored_item(payload: dict[str, Any]) -> str:
    """The item's JSON with `user` as its last key (an empty `{}` when there is none yet)."""
    user = payload.get("user")
    if user is None or next(reversed(payload)) != "user":
        payload = {key: value for key, value in payload.items() if key != "user"}
        payload["user"] = user or {}
    return orjson.dumps(payload).decode()


def item_bytes(payload: str, user_last: bool, ip: str | None, user_agent: str | None) -> bytes:
    """The item TikTok gets: the stored JSON with ip and user agent in `user`; an empty `user`
    left out. `user_last`: the item was written by `stored_item`."""
    if not user_last:
        return _merged(payload, ip, user_agent)
    extra = ""
    if ip:
        extra += ',"ip":' + orjson.dumps(ip).decode()
    if user_agent:
        extra += ',"user_agent":' + orjson.dumps(user_agent).decode()
    if payload.endswith(_EMPTY_USER):
        if not extra:
            return (payload[: -len(_EMPTY_USER)] + "}").encode()
        return (payload[:-2] + extra[1:] + "}}").encode()
    return (payload[:-2] + extra + "}}").encode()


def _merged(payload: str, ip: str | None, user_agent: str | None) -> bytes:
    item: dict[str, Any] = orjson.loads(payload)
    user = item.get("user") or {}
    if ip:
        user["ip"] = ip
    if user_agent:
        user["user_agent"] = user_agent
    if user:
        item["user"] = user
    else:
        item.pop("user", None)
    return orjson.dumps(item)


def track_body(pixel_id: str, items: Sequence[bytes], test_event_code: str | None) -> bytes:
    """An Events API 2.0 request body around items already serialised."""
    head = b'{"event_source":"web","event_source_id":' + orjson.dumps(pixel_id)
    if test_event_code:
        head += b',"test_event_code":' + orjson.dumps(test_event_code)
    return head + b',"data":[' + b",".join(items) + b"]}"
