"""The reminder schedule grammar, timezones and daylight-saving time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.schedules import parse_schedule

BERLIN = ZoneInfo("Europe/Berlin")


def fires(text: str, start: datetime, n: int, tz: ZoneInfo | None = None) -> list[datetime]:
    schedule = parse_schedule(text, tz or UTC)  # type: ignore[arg-type]
    assert schedule is not None
    out, moment = [], start
    for _ in range(n):
        moment = schedule.next_after(moment, start)
        assert moment is not None
        out.append(moment)
    return out


def test_daily_keeps_local_time_across_dst() -> None:
    times = fires("daily 09:00 Europe/Berlin", datetime(2026, 3, 27, 12, tzinfo=UTC), 3)
    assert [t.astimezone(BERLIN).hour for t in times] == [9, 9, 9]
    assert [t.astimezone(UTC).hour for t in times] == [8, 7, 7]  # CET, then CEST from Mar 29


def test_weekdays_skip_the_weekend_and_default_timezone_applies() -> None:
    friday = datetime(2026, 11, 27, 10, tzinfo=UTC)
    times = fires("weekdays 09:30", friday, 2, BERLIN)
    assert [t.astimezone(BERLIN).strftime("%a %H:%M") for t in times] == ["Mon 09:30", "Tue 09:30"]


def test_named_day_interval_and_hours() -> None:
    start = datetime(2026, 11, 26, 12, tzinfo=UTC)  # a Thursday
    assert [t.strftime("%a %H:%M") for t in fires("mondays 10:00", start, 2)] == [
        "Mon 10:00",
        "Mon 10:00",
    ]
    assert fires("every 3 days", start, 2) == [
        datetime(2026, 11, 29, 12, tzinfo=UTC),
        datetime(2026, 12, 2, 12, tzinfo=UTC),
    ]
    assert fires("every 2 hours", start, 1) == [datetime(2026, 11, 26, 14, tzinfo=UTC)]
    assert parse_schedule("every day at 08:15 UTC", UTC).text == "every 1 day at 08:15 UTC"  # type: ignore[union-attr]


def test_off_and_friendly_errors() -> None:
    assert parse_schedule("off", UTC) is None
    for bad in ["", "sometimes", "daily 25:00", "every 0 days", "daily 09:00 Mars/Base", "weekly"]:
        with pytest.raises(UserError) as err:
            parse_schedule(bad, UTC)
        assert "daily 09:00" in err.value.message or "Tell me" in err.value.message
