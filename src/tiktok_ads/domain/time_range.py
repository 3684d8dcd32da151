"""The time range of a report (`from` / `to`): ISO-8601 dates or date-times, or Unix seconds."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tiktok_ads.errors import EventInvalid, FieldError

DEFAULT_DAYS = 7
MAX_DAYS = 400  # a year and a bit: longer ranges are a data export, not a report
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS = re.compile(r"^\d{1,13}$")
_MS_THRESHOLD = 10**12  # 13 digits: milliseconds, as for event_time
_EXPECTED = "an ISO-8601 date (2026-11-26) or date-time, or Unix seconds"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """[start, end) in Unix seconds."""

    start: int
    end: int

    @property
    def days(self) -> float:
        return (self.end - self.start) / 86400


def parse_time_range(
    raw_from: str | None,
    raw_to: str | None,
    *,
    now: float,
    default_days: int = DEFAULT_DAYS,
) -> TimeRange:
    """The range a caller asked for; `to` defaults to now, `from` to `default_days` before `to`.

    A bare date as `to` means the end of that day (a person picking "to 26 November" means
    the 26th included). Raises EventInvalid naming `from` or `to`.
    """
    errors: list[FieldError] = []
    end = _instant(raw_to, "to", errors, end_of_day=True)
    start = _instant(raw_from, "from", errors, end_of_day=False)
    if errors:
        raise EventInvalid(errors)
    end = int(now) + 1 if end is None else end
    start = end - default_days * 86400 if start is None else start
    if start >= end:
        raise EventInvalid([FieldError("from", "must be before `to`")])
    if end - start > MAX_DAYS * 86400:
        raise EventInvalid([FieldError("to", f"the range may span at most {MAX_DAYS} days")])
    return TimeRange(start, end)


def _instant(
    raw: str | None, field: str, errors: list[FieldError], *, end_of_day: bool
) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    if _SECONDS.match(text):
        value = int(text)
        return value // 1000 if value >= _MS_THRESHOLD else value
    try:
        if _DATE.match(text):
            day = dt.date.fromisoformat(text)
            if end_of_day:
                day += dt.timedelta(days=1)
            return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(field, f"not a date: {_EXPECTED}"))
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())
