"""The reminder schedule grammar, timezones and daylight-saving time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.errors import UserError
from bot.domain.schedules import Schedule, parse_schedule
from runtime.scheduler import ScheduleTrigger

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


def trigger_of(schedule: Schedule, anchor: datetime) -> BaseTrigger:
    """APScheduler's own trigger for a schedule: the independent check of the core's times."""
    tz = ZoneInfo(schedule.timezone)
    if schedule.every is not None:
        seconds = int(schedule.every.total_seconds())
        return IntervalTrigger(seconds=seconds, start_date=schedule.start(anchor), timezone=tz)
    return CronTrigger(
        day_of_week=schedule.days_of_week, hour=schedule.hour, minute=schedule.minute, timezone=tz
    )


def _apscheduler_next(text: str, tz: ZoneInfo, moment: datetime, anchor: datetime) -> datetime:
    schedule = parse_schedule(text, tz)
    assert schedule is not None
    trigger = trigger_of(schedule, anchor)
    fire = trigger.get_next_fire_time(None, moment)
    if fire is not None and fire <= moment:
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    assert fire is not None
    return fire


def _clocks_change(moment: datetime, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz)
    return local.utcoffset() != (local + timedelta(days=1)).utcoffset()


def test_the_core_agrees_with_apscheduler_on_every_ordinary_day() -> None:
    """The core computes fire times without APScheduler (and the runtime's jobs use them).
    APScheduler's own triggers are the independent check: across two months around both
    changes of clocks in two timezones they agree, except where APScheduler's CronTrigger is
    wrong (a time before the change, on the day of the change: the next test)."""
    texts = [
        "daily 09:00",
        "daily 00:15",
        "daily 23:59",
        "weekdays 09:30",
        "mondays 10:00",
        "sundays 18:45",
        "every 3 days",
        "every 2 days at 08:00",
        "every 5 hours",
        "every 2 weeks 07:00",
    ]
    zones = [ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("UTC")]
    starts = [datetime(2026, 3, 6, 7, 13, tzinfo=UTC), datetime(2026, 10, 20, 22, 1, tzinfo=UTC)]
    checked = 0
    for tz in zones:
        for text in texts:
            schedule = parse_schedule(text, tz)
            assert schedule is not None
            for anchor in starts:
                moment = anchor
                for _ in range(30):  # a month of fires, through the change of clocks
                    ours = schedule.next_after(moment, anchor)
                    if schedule.every is not None or not _clocks_change(moment, tz):
                        theirs = _apscheduler_next(text, tz, moment, anchor)
                        assert ours == theirs, (text, tz, moment)
                    assert ours is not None and ours > moment
                    moment = ours
                    checked += 1
    assert checked == len(zones) * len(texts) * len(starts) * 30


def test_a_daily_reminder_before_the_change_of_clocks_skips_no_day() -> None:
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    ours = fires("daily 00:15 Europe/Berlin", start, 3)
    assert [f"{t.astimezone(BERLIN):%d %H:%M}" for t in ours] == [
        "29 00:15",
        "30 00:15",
        "31 00:15",
    ]
    theirs = [_apscheduler_next("daily 00:15", BERLIN, t, start) for t in (start, *ours[:1])]
    assert f"{theirs[1]:%d}" == "31"  # APScheduler 3.11's CronTrigger skips the 30th


def test_the_runtime_trigger_fires_on_the_core_times() -> None:
    schedule = parse_schedule("daily 00:15 Europe/Berlin", UTC)
    assert schedule is not None
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    trigger = ScheduleTrigger(schedule, start)
    fire = trigger.get_next_fire_time(None, start)
    out = []
    for _ in range(3):
        assert fire is not None
        out.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert out == fires("daily 00:15 Europe/Berlin", start, 3)
    exact = datetime(2026, 3, 30, 0, 15, tzinfo=BERLIN)
    assert trigger.get_next_fire_time(None, exact) == exact  # at or after now, like APScheduler
