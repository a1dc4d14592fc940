"""Business hours: is a team open at a moment, and when does it open next."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kefu.domain.routing import WEEKDAYS, BusinessHours, OpenSpan

HORIZON_DAYS = 400  # a schedule that opens later than this (or never) has no next opening


def _bounds(day: date, span: OpenSpan, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.fromisoformat(span.start), tzinfo=tz)
    if span.end == "24:00":
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    else:
        end_day = day + timedelta(days=1) if span.overnight else day
        end = datetime.combine(end_day, time.fromisoformat(span.end), tzinfo=tz)
    return start, end


def _spans(hours: BusinessHours, day: date) -> list[OpenSpan]:
    if day in hours.holidays:
        return []
    return sorted(hours.weekly.get(WEEKDAYS[day.weekday()], []), key=lambda s: s.start)


def is_open(hours: BusinessHours | None, at: datetime) -> bool:
    """True when ``at`` falls in an opening span (no hours at all: always open)."""
    if hours is None:
        return True
    tz = ZoneInfo(hours.time_zone)
    local = at.astimezone(tz)
    # Today's spans, and yesterday's that run past midnight (22:00 to 06:00) into today.
    today = local.date()
    for day in (today - timedelta(days=1), today):
        for span in _spans(hours, day):
            start, end = _bounds(day, span, tz)
            if start <= local < end:
                return True
    return False


def next_open(hours: BusinessHours | None, at: datetime) -> datetime | None:
    """``at`` itself when open, else the start of the next opening span (UTC), or None."""
    if is_open(hours, at):
        return at
    assert hours is not None
    tz = ZoneInfo(hours.time_zone)
    local = at.astimezone(tz)
    for offset in range(HORIZON_DAYS):
        day = local.date() + timedelta(days=offset)
        for span in _spans(hours, day):
            start, _ = _bounds(day, span, tz)
            if start > local:
                return start.astimezone(UTC)
    return None
