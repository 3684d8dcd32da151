"""The pure parts of the console's reports: time ranges, funnel drop-off, match keys, charts."""

from __future__ import annotations

import pytest

from tiktok_ads.domain.funnel import drop_off_pct
from tiktok_ads.domain.match_quality import event_score, keys_of, summarise
from tiktok_ads.domain.time_range import TimeRange, parse_time_range
from tiktok_ads.entrypoints.console.charts import nice_ceiling, timeline_chart
from tiktok_ads.errors import EventInvalid
from tiktok_ads.services.insights import percentile

NOW = 1_795_000_000.0  # 2026-11-18


def test_a_range_defaults_to_the_last_seven_days() -> None:
    """No `from` and no `to`: the seven days up to now."""
    span = parse_time_range(None, "", now=NOW)
    assert TimeRange(int(NOW) + 1 - 7 * 86400, int(NOW) + 1) == span


def test_a_range_reads_milliseconds_offsets_and_naive_times_as_utc() -> None:
    """13 digits are milliseconds; a date-time without offset is UTC; offsets are honoured."""
    assert 1_794_000_000 == parse_time_range("1794000000000", None, now=NOW).start
    naive = parse_time_range("2026-11-01T10:00:00", None, now=NOW).start
    offset = parse_time_range("2026-11-01T12:00:00+02:00", None, now=NOW).start
    assert naive == offset


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "field"),
    [("soon", None, "from"), ("2026-11-10", "2026-11-09", "from"), ("2024-01-01", None, "to")],
)
def test_a_bad_range_names_its_field(raw_from: str, raw_to: str | None, field: str) -> None:
    """Unreadable, reversed or longer than 400 days: refused, naming the field."""
    with pytest.raises(EventInvalid) as refused:
        parse_time_range(raw_from, raw_to, now=NOW)
    assert field == refused.value.errors[0].field


def test_drop_off_is_none_without_a_previous_step_and_may_be_negative() -> None:
    """0 before → None; more after than before → a negative drop-off."""
    assert (None, 50.0, -100.0) == (drop_off_pct(0, 3), drop_off_pct(4, 2), drop_off_pct(1, 2))


def test_ip_and_user_agent_count_only_together() -> None:
    """IP alone adds nothing; with the user agent it is one key worth 0.75."""
    assert frozenset({"email"}) == keys_of("email,ip")
    assert 3.25 == event_score(keys_of("email,ip,user_agent"))
    assert 10.0 == event_score(keys_of("email,phone,external_id,ttclid,ttp,ip,user_agent"))


def test_summary_of_no_events_has_no_shares_and_no_advice_crash() -> None:
    """No events: zero score, nothing supplied, no division by zero."""
    empty = summarise([])
    assert (0, 0.0, None) == (
        empty["overall"]["events"],
        empty["overall"]["score"],
        empty["dedup"]["supplied_pct"],
    )


def test_percentile_is_nearest_rank() -> None:
    """p50 of 1..4 is 2, p95 is 4; no values, no percentile."""
    values = [1.0, 2.0, 3.0, 4.0]
    assert (2.0, 4.0, None) == (
        percentile(values, 0.5),
        percentile(values, 0.95),
        percentile([], 0.5),
    )


def test_chart_axis_tops_are_round_numbers() -> None:
    """The y axis ends on a multiple of its step, 1, 2 or 5 times a power of ten."""
    assert [(4.0, 1.0), (8.0, 2.0), (60.0, 20.0), (6000.0, 2000.0)] == [
        nice_ceiling(v) for v in (0, 7, 43, 4100)
    ]


def test_a_timeline_chart_stacks_each_bucket_to_its_total() -> None:
    """The stacked bars of a bucket are as tall, together, as its received count."""
    series = {"received": [0, 10], "delivered": [0, 6], "failed": [0, 1], "skipped": [0, 3]}
    chart = timeline_chart(["2026-11-26T13:00:00Z", "2026-11-26T14:00:00Z"], series, 3600)
    bars = [r for r in chart.rects if r.css != "bar-empty"]
    full = 240 - 14 - 28  # the plot's height
    assert ["bar-delivered", "bar-failed", "bar-skipped"] == [r.css for r in bars]
    assert pytest.approx(full) == sum(r.height for r in bars)  # the top of the axis is 10
