"""Reminder schedules as people type them: `daily 09:00`, `weekdays 09:30 Europe/Berlin`,
`mondays 10:00`, `every 3 days`, `every 2 hours`, `off`.

A schedule is a plain value in its timezone, so daylight-saving changes keep "09:00" at nine
o'clock local time. Its next fire time is computed here (for replies and catch-up); the runtime's
scheduler turns the same value into an APScheduler trigger, and a test checks both agree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import UserError
from bot.domain.messages import _


def _examples() -> str:
    return _(
        "Examples: `daily 09:00`, `weekdays 09:30 Europe/Berlin`, `mondays 10:00`, "
        "`every 3 days`, `every 2 hours`, `off`."
    )


USAGE = "/petition remind CAMPAIGN SCHEDULE"
_DAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


@dataclass(frozen=True)
class Schedule:
    text: str  # normalised, as shown back to people
    timezone: str
    days_of_week: str | None = None  # cron day_of_week, e.g. "mon-fri"; None = every day
    hour: int | None = None
    minute: int | None = None
    every: timedelta | None = None  # interval schedules

    def start(self, anchor: datetime) -> datetime:
        """When an interval schedule counts from: its anchor, at the set time of day if any."""
        if self.hour is None or self.minute is None:
            return anchor
        local = anchor.astimezone(ZoneInfo(self.timezone))
        return local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)

    def weekdays(self) -> frozenset[int]:
        """Days it fires on (Monday is 0), from the cron-style `days_of_week`."""
        if self.days_of_week is None:
            return frozenset(range(7))
        names = list(_DAYS.values())
        first, _, last = self.days_of_week.partition("-")
        return frozenset(range(names.index(first), names.index(last or first) + 1))

    def next_after(self, moment: datetime, anchor: datetime) -> datetime | None:
        """The first fire time strictly after `moment` (an aware datetime)."""
        tz = ZoneInfo(self.timezone)
        if self.every is not None:
            start, step = self.start(anchor).timestamp(), self.every.total_seconds()
            now = moment.timestamp()
            fire = start if start > now else start + step * math.ceil((now - start) / step)
            if fire <= now:
                fire += step
            return datetime.fromtimestamp(fire, tz)
        assert self.hour is not None and self.minute is not None
        day, days = moment.astimezone(tz).date(), self.weekdays()
        for offset in range(8):
            candidate = datetime.combine(
                day + timedelta(days=offset), time(self.hour, self.minute), tzinfo=tz
            )
            if candidate.weekday() in days and candidate > moment:
                return candidate
        return None


def parse_schedule(text: str, default_tz: tzinfo) -> Schedule | None:
    """None means `off`. Raises a friendly UserError with examples otherwise."""
    words = text.strip().split()
    if not words:
        raise UserError(_("Tell me when to remind.") + " " + _examples(), USAGE)
    if [w.lower() for w in words] == ["off"]:
        return None
    tz_name = getattr(default_tz, "key", None) or str(default_tz)
    if "/" in words[-1] or words[-1].upper() == "UTC":
        tz_name = words.pop()
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(
                _("I don't know the timezone `{zone}`.", zone=tz_name[:40]) + " " + _examples(),
                USAGE,
            ) from None
    lowered = [w.lower() for w in words]
    try:
        return _parse_words(lowered, tz_name)
    except (ValueError, IndexError):
        raise UserError(
            _("I can't read `{text}` as a schedule.", text=text.strip()[:60]) + " " + _examples(),
            USAGE,
        ) from None


def _at(word: str) -> tuple[int, int]:
    m = _TIME.match(word)
    if not m:
        raise ValueError(word)
    return int(m.group(1)), int(m.group(2))


def _parse_words(words: list[str], tz: str) -> Schedule:
    head = words[0]
    if words[-2:-1] == ["at"]:
        words = words[:-2] + words[-1:]
    if head == "every":
        n = int(words[1]) if words[1].isdigit() else 1
        unit = words[2] if words[1].isdigit() else words[1]
        rest = words[3:] if words[1].isdigit() else words[2:]
        if n < 1 or n > 365:
            raise ValueError(n)
        if unit.rstrip("s") == "day":
            hour, minute = _at(rest[0]) if rest else (None, None)
            shown = f"every {n} day{'s' if n > 1 else ''}" + (
                f" at {hour:02d}:{minute:02d}" if rest else ""
            )
            return Schedule(f"{shown} {tz}", tz, hour=hour, minute=minute, every=timedelta(days=n))
        if unit.rstrip("s") == "hour" and not rest:
            return Schedule(f"every {n} hour{'s' if n > 1 else ''}", tz, every=timedelta(hours=n))
        if unit.rstrip("s") == "week":
            hour, minute = _at(rest[0]) if rest else (None, None)
            return Schedule(
                f"every {n} week{'s' if n > 1 else ''} {tz}",
                tz,
                hour=hour,
                minute=minute,
                every=timedelta(weeks=n),
            )
        raise ValueError(unit)
    if len(words) != 2:
        raise ValueError(words)
    hour, minute = _at(words[1])
    if head in {"daily", "everyday", "day"}:
        days, shown = None, "daily"
    elif head in {"weekdays", "weekday"}:
        days, shown = "mon-fri", "weekdays"
    elif head.rstrip("s") in _DAYS:
        days, shown = _DAYS[head.rstrip("s")], head.rstrip("s") + "s"
    else:
        raise ValueError(head)
    return Schedule(
        f"{shown} {hour:02d}:{minute:02d} {tz}", tz, days_of_week=days, hour=hour, minute=minute
    )
