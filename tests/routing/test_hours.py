from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from kefu.domain.routing import BusinessHours, OpenSpan
from kefu.routing.hours import is_open, next_open

SHANGHAI = BusinessHours(
    time_zone="Asia/Shanghai",
    weekly={
        "mon": [OpenSpan(start="09:00", end="12:00"), OpenSpan(start="13:00", end="18:00")],
        "tue": [OpenSpan(start="09:00", end="18:00")],
        "fri": [OpenSpan(start="20:00", end="24:00")],
    },
    holidays=[date(2026, 12, 8)],  # a Tuesday
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_no_hours_is_always_open() -> None:
    at = utc(2026, 12, 6, 3, 0)
    assert is_open(None, at)
    assert next_open(None, at) == at


def test_open_inside_a_span_in_the_team_time_zone() -> None:
    # Monday 2026-12-07 10:00 in Shanghai is 02:00 UTC.
    assert is_open(SHANGHAI, utc(2026, 12, 7, 2, 0))
    assert not is_open(SHANGHAI, utc(2026, 12, 7, 4, 30))  # 12:30, lunch
    assert not is_open(SHANGHAI, utc(2026, 12, 7, 10, 0))  # 18:00 sharp: the end is excluded


def test_next_open_is_the_next_span_start() -> None:
    assert next_open(SHANGHAI, utc(2026, 12, 7, 4, 30)) == utc(2026, 12, 7, 5, 0)  # 13:00


def test_holidays_are_closed_and_skipped() -> None:
    # Tuesday 2026-12-08 is a holiday: Monday evening's next opening is Friday 20:00.
    assert not is_open(SHANGHAI, utc(2026, 12, 8, 2, 0))
    assert next_open(SHANGHAI, utc(2026, 12, 7, 11, 0)) == utc(2026, 12, 11, 12, 0)


def test_a_span_to_midnight() -> None:
    assert is_open(SHANGHAI, utc(2026, 12, 11, 15, 59))  # Friday 23:59
    assert not is_open(SHANGHAI, utc(2026, 12, 11, 16, 0))  # Saturday 00:00


def test_a_schedule_that_never_opens() -> None:
    assert next_open(BusinessHours(time_zone="UTC"), utc(2026, 1, 1)) is None


def test_invalid_hours_are_refused() -> None:
    with pytest.raises(ValidationError):
        BusinessHours(time_zone="Mars/Olympus")
    with pytest.raises(ValidationError):
        OpenSpan(start="9:00", end="10:00")
    with pytest.raises(ValidationError):
        BusinessHours(time_zone="UTC", weekly={"mon": [OpenSpan(start="09:00", end="10:00")] * 9})


def test_a_span_that_ends_before_it_starts_runs_past_midnight() -> None:
    """22:00 to 06:00 on Monday is open Monday night and early Tuesday (not Monday morning);
    09:00 to 09:00 is open around the clock, until Tuesday 09:00."""
    night = BusinessHours(time_zone="UTC", weekly={"mon": [OpenSpan(start="22:00", end="06:00")]})
    # 2026-01-05 is a Monday.
    assert not is_open(night, utc(2026, 1, 5, 5))
    assert is_open(night, utc(2026, 1, 5, 23))
    assert is_open(night, utc(2026, 1, 6, 5, 59))
    assert not is_open(night, utc(2026, 1, 6, 6))
    assert next_open(night, utc(2026, 1, 6, 7)) == utc(2026, 1, 12, 22)
    day = BusinessHours(time_zone="UTC", weekly={"mon": [OpenSpan(start="09:00", end="09:00")]})
    assert is_open(day, utc(2026, 1, 6, 8, 59)) and not is_open(day, utc(2026, 1, 6, 9))
