"""TikTok's less common answers, through the dispatcher: 20001, `Batch.<i>` messages, 40700.

TikTok here is an httpx.MockTransport answering with TikTok's envelope, so each answer is
exactly the one under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
from tests.service.conftest import ServiceFactory

PAGE = {"page_url": "https://shop.example/e"}
Answer = Callable[[list[str]], tuple[int, str]]


class ScriptedTikTok:
    """Answers each Events API request with `answer(event_ids)`; keeps the event_ids it got."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[list[str]] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        event_ids = [item["event_id"] for item in orjson.loads(request.content)["data"]]
        self.requests.append(event_ids)
        code, message = self.answer(event_ids)
        envelope = {"code": code, "message": message, "request_id": f"R{len(self.requests)}"}
        return httpx.Response(200, json={**envelope, "data": {}})


def events(*event_ids: str) -> dict[str, Any]:
    return {
        "events": [
            {"event_type": "ViewContent", "event_id": event_id, "context": PAGE}
            for event_id in event_ids
        ]
    }


async def test_partial_success_20001_counts_as_delivered(make_service: ServiceFactory) -> None:
    """20001 (partial OK): the events are delivered, with TikTok's code kept."""
    tiktok = ScriptedTikTok(lambda _: (20001, "Partial success"))
    service = await make_service(transport=tiktok.transport)
    await service.post("/events/batch", events("a", "b"))
    await service.settle()
    view = (await service.get("/events/a")).json()
    assert ("delivered", 20001, 1) == (view["status"], view["tiktok"]["code"], view["attempts"])
    assert [["a", "b"]] == tiktok.requests


async def test_batch_index_in_a_40002_message_fails_that_event_alone(
    make_service: ServiceFactory,
) -> None:
    """`Batch.1.…` names the bad event: it fails, the rest goes in one more request."""

    def answer(event_ids: list[str]) -> tuple[int, str]:
        if "bad" in event_ids:
            index = event_ids.index("bad")
            return 40002, f"Batch.{index}.properties.contents.0.content_id: Not a valid string"
        return 0, "OK"

    tiktok = ScriptedTikTok(answer)
    service = await make_service(transport=tiktok.transport)
    await service.post("/events/batch", events("a", "bad", "c"))
    await service.settle()
    assert [["a", "bad", "c"], ["a", "c"]] == tiktok.requests
    assert {"delivered": 2, "failed": 1} == (await service.get("/stats")).json()["by_status"]
    assert "failed" == (await service.get("/events/bad")).json()["status"]


async def test_40700_is_retried(make_service: ServiceFactory) -> None:
    """40700 is passing trouble at TikTok: the same events go again and are delivered."""
    answers = iter([(40700, "Request too frequent"), (0, "OK")])
    tiktok = ScriptedTikTok(lambda _: next(answers))
    service = await make_service(transport=tiktok.transport)
    await service.post("/events/batch", events("a"))
    await service.settle()
    view = (await service.get("/events/a")).json()
    assert ("delivered", 2) == (view["status"], view["attempts"])
    assert [["a"], ["a"]] == tiktok.requests
