"""Deadlines as people type them, and durations as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.errors import UserError

MAX_AHEAD = timedelta(days=3653)  # about ten years: a sane window, far from any calendar edge
DEADLINE_HELP = (
    "Write the deadline as a date like `2026-12-31` (end of that day) or a date and time like "
    "`2026-12-31T17:00` or `2026-12-31T17:00+01:00`."
)


def parse_deadline(value: str, tz: tzinfo, now: datetime, usage: str | None = None) -> datetime:
    """Return an aware UTC datetime; a bare date means the end of that day in `tz`."""
    text = value.strip().replace(" ", "T")
    try:
        if len(text) > 40:
            raise ValueError(text)
        if len(text) == 10:
            day = date.fromisoformat(text)
            local = datetime.combine(day, time(23, 59), tzinfo=tz)
        else:
            local = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if local.tzinfo is None:
                local = local.replace(tzinfo=tz)
        deadline = local.astimezone(UTC)
        if deadline > now + MAX_AHEAD:
            raise UserError(
                f"`{value[:40]}` is more than {MAX_AHEAD.days // 365} years away; pick a "
                f"deadline before {(now + MAX_AHEAD):%Y-%m-%d}.",
                usage,
            )
        format_when(deadline, tz)  # shown in this zone for as long as the campaign lives
    except (ValueError, OverflowError):  # not a date, or a year 1 / 9999 edge in some zone
        raise UserError(
            f"I can't read `{value[:40]}` as a deadline. {DEADLINE_HELP}", usage
        ) from None
    if deadline <= now:
        raise UserError(
            f"The deadline {format_when(deadline, tz)} is already past; pick a future date.", usage
        )
    return deadline


def start_of_day(moment: datetime) -> datetime:
    """The UTC day of a moment: the resolution of every time that could point at a signer."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def format_when(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def format_day(moment: datetime, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%a %d %b}"


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "no time"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days >= 2:
        return f"{days} days"
    if days == 1:
        return f"1 day {hours} h" if hours else "1 day"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{max(minutes, 1)} min"
