"""Deadlines as people type them, and durations as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.domain import messages
from bot.domain.errors import UserError
from bot.domain.messages import _, number

MAX_AHEAD = timedelta(days=3653)  # about ten years: a sane window, far from any calendar edge


def _deadline_help() -> str:
    return _(
        "Write the deadline as a date like `2026-12-31` (end of that day) or a date and time "
        "like `2026-12-31T17:00` or `2026-12-31T17:00+01:00`."
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
            latest = f"{(now + MAX_AHEAD):%Y-%m-%d}"
            raise UserError(
                _(
                    "`{value}` is more than {years} years away; pick a deadline before {day}.",
                    value=value[:40],
                    years=number(MAX_AHEAD.days // 365),
                    day=latest,
                ),
                usage,
            )
        format_when(deadline, tz)  # shown in this zone for as long as the campaign lives
    except (ValueError, OverflowError):  # not a date, or a year 1 / 9999 edge in some zone
        raise UserError(
            _("I can't read `{value}` as a deadline.", value=value[:40]) + " " + _deadline_help(),
            usage,
        ) from None
    if deadline <= now:
        raise UserError(
            _(
                "The deadline {when} is already past; pick a future date.",
                when=format_when(deadline, tz),
            ),
            usage,
        )
    return deadline


def start_of_day(moment: datetime) -> datetime:
    """The UTC day of a moment: the resolution of every time that could point at a signer."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def format_when(moment: datetime, tz: tzinfo) -> str:
    """A date and time in `tz`, written as the current language writes them."""
    return messages.when(moment, tz)
