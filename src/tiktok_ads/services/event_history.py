"""The error log by kind, and an event's lifecycle: what the console's errors and events pages
show. Hashes and metadata only, never a payload."""

from __future__ import annotations

from typing import Any

from tiktok_ads.domain.events import Status
from tiktok_ads.services.ports import FailureStore
from tiktok_ads.services.queries import event_view, iso


def lifecycle(row: Any) -> list[dict[str, Any]]:
    """The steps an event went through, oldest first: received, attempts, TikTok's answer,
    and where it stands now."""
    view = event_view(row)
    steps: list[dict[str, Any]] = [
        {"step": "received", "at": iso(row["received_at"]), "detail": _received(row)}
    ]
    status, attempts, code = row["status"], row["attempts"], row["tiktok_code"]
    if attempts:
        times = "once" if attempts == 1 else f"{attempts} times"
        steps.append({"step": "sent", "at": None, "detail": f"sent to TikTok {times}"})
    if code is not None or row["tiktok_message"]:
        steps.append(
            {
                "step": "answered",
                "at": iso(row["updated_at"]),
                "detail": f"TikTok code {code}: {row['tiktok_message'] or ''}".strip(),
            }
        )
    final = {
        Status.DELIVERED.value: ("delivered", row["delivered_at"], "TikTok accepted it"),
        Status.FAILED.value: ("failed", row["updated_at"], row["last_error"] or "failed"),
        Status.SKIPPED.value: ("skipped", row["received_at"], row["skip_reason"] or "not sent"),
        Status.RETRYING.value: ("next attempt", view["next_attempt_at"], row["last_error"]),
        Status.QUEUED.value: ("queued", row["next_attempt_at"], "waiting for its batch"),
        Status.SENDING.value: ("sending", row["updated_at"], "in a request to TikTok"),
    }[status]
    steps.append({"step": final[0], "at": iso(final[1]), "detail": final[2] or ""})
    return steps


def _received(row: Any) -> str:
    made = "generated here" if row.get("event_id_generated") else "supplied by the shop"
    return f"{row['event_name']} for pixel {row['pixel_id']}; event_id {made}"


class EventHistory:
    def __init__(self, store: FailureStore) -> None:
        self._store = store

    async def failed(
        self,
        *,
        pixel_id: str | None = None,
        event_type: str | None = None,
        code: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
        pixels: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Failed events, newest first, with TikTok's code, message and request_id; the
        cursor of the next page."""
        rows = await self._store.failed_events(
            pixel_id=pixel_id,
            event_name=event_type,
            code=code,
            limit=limit,
            before_id=before_id,
            pixels=pixels,
        )
        cursor = rows[-1]["id"] if len(rows) == limit else None
        return {"events": [event_view(r) for r in rows], "cursor": cursor}

    async def failure_kinds(self, pixels: frozenset[str] | None = None) -> list[dict[str, Any]]:
        """Failed events by pixel, event type and TikTok code: what "replay all like this"
        replays."""
        kinds = await self._store.failure_kinds(pixels)
        for kind in kinds:
            kind["last_failed_at"] = iso(kind["last_failed_at"])
        return kinds

    async def records(
        self, event_id: str, pixels: frozenset[str] | None = None
    ) -> list[dict[str, Any]]:
        """Every record with this event_id (one per pixel and event type), each with its
        lifecycle; newest first."""
        rows = await self._store.events_with_id(event_id, pixels)
        return [
            {
                **event_view(r),
                "event_id_generated": bool(r["event_id_generated"]),
                "lifecycle": lifecycle(r),
            }
            for r in rows
        ]
