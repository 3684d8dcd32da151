"""/metrics label values come from a bounded set, whatever event names callers invent."""

from __future__ import annotations

import re

from tests.service.conftest import PIXEL, Service

_COUNTER_SAMPLE = re.compile(r"^(tiktok_events_\w+_total)\{(.*)\} ", re.MULTILINE)


async def test_custom_event_names_share_one_label_value(service: Service) -> None:
    """300 distinct custom names (single and batch) add one `custom` series per counter."""
    page = {"page_url": "https://shop.example/e/1"}
    for i in range(150):
        event = {"event_type": f"Custom{i}", "event_id": f"s{i}", "context": page}
        assert 202 == (await service.post("/events", event)).status_code
    batch = [
        {"event_type": f"Custom{i}", "event_id": f"b{i}", "context": page} for i in range(150, 300)
    ]
    assert 200 == (await service.post("/events/batch", {"events": batch})).status_code
    await service.post("/events", {"event_type": "ViewContent", "event_id": "v", "context": page})
    await service.settle()
    metrics = (await service.http.get("/metrics")).text
    received = "tiktok_events_received_total"
    delivered = "tiktok_events_delivered_total"
    assert [
        (delivered, f'event_type="ViewContent",pixel_id="{PIXEL}"'),
        (delivered, f'event_type="custom",pixel_id="{PIXEL}"'),
        (received, f'event_type="ViewContent",outcome="queued",pixel_id="{PIXEL}"'),
        (received, f'event_type="custom",outcome="queued",pixel_id="{PIXEL}"'),
    ] == sorted(_COUNTER_SAMPLE.findall(metrics))
    assert (
        f'tiktok_events_received_total{{event_type="custom",outcome="queued",pixel_id="{PIXEL}"}}'
        " 300.0" in metrics
    )
