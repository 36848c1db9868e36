"""When the public count may move: in steps, never one signature at a time.

Anyone but the signer (a channel, a page, its JSON and ETag, an organizer who may be a plant)
sees a campaign's count only as it was at its last *step*. If the shown count moved with each
signature, a watcher who also knows who was active at 14:03:05 could name an anonymous signer.

A step is released at a *boundary*: every `window` from the start of the day (in the
campaign's time zone), and each day's start. At a window boundary it is released only if at
least `batch` signatures (or withdrawals: the shown count moved by that much) have gathered;
at a day boundary (and at the deadline) whatever has gathered is released. A pledge that
reached its threshold is announced at the first boundary after it did, whatever the batch.
With `window` zero the batch alone suffices: the step is released with the signature that
completes it (the operator's choice; that signature's moment is then public).

Releases happen only at boundaries (within `ON_TIME` of one), never because someone signed: a
step's moment says nothing about any one signature. The deadline closes a campaign with a step
of its own. This module is pure; the runtime ticks at `next_boundary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot.campaigns import Campaign, Kind

SMALLEST_STEP = 3  # never fewer signatures than this in one step (outside day boundaries)
# A step is released only this close after a boundary (the schedule fires on it); a boundary
# missed while nobody ran the schedule is made up at the next one.
ON_TIME = timedelta(seconds=60)


@dataclass(frozen=True)
class StepRule:
    window: timedelta = timedelta(minutes=15)
    batch: int = SMALLEST_STEP

    @property
    def immediate(self) -> bool:
        """No window: a step is released as soon as the batch is full."""
        return self.window <= timedelta(0)

    def day_start(self, now: datetime, tz: tzinfo) -> datetime:
        local = now.astimezone(tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def last_boundary(self, now: datetime, tz: tzinfo) -> datetime:
        """The latest boundary at or before `now`."""
        start = self.day_start(now, tz)
        if self.immediate:
            return start
        steps = (now - start) // self.window
        return start + steps * self.window

    def next_boundary(self, now: datetime, tz: tzinfo) -> datetime:
        """The first boundary strictly after `now` (the next day's start at the latest)."""
        tomorrow = self.day_start(self.day_start(now, tz) + timedelta(hours=36), tz)
        if self.immediate:
            return tomorrow
        following = self.last_boundary(now, tz) + self.window
        return min(following, tomorrow)

    def due(self, campaign: Campaign, now: datetime, tz: tzinfo) -> bool:
        """Should the count as it is now become the shown count, at `now`?"""
        moved = abs(campaign.count - campaign.shown_count)
        success = (
            campaign.kind is Kind.PLEDGE
            and campaign.succeeded_at is not None
            and campaign.shown_succeeded_at is None
        )
        if not moved and not success:
            return False
        since = campaign.shown_at
        if since is not None and campaign.deadline is not None and since < campaign.deadline <= now:
            return True  # the deadline is a boundary everyone knows of
        if self.immediate:
            return since is None or self.day_start(now, tz) > since or moved >= self.batch
        boundary = self.last_boundary(now, tz)
        if now - boundary > ON_TIME:
            return False  # only at a boundary: a step is never released by a signature
        if since is None or self.day_start(now, tz) > since:
            return True  # a new day: whatever gathered is released
        if boundary <= since:
            return False  # no boundary since the last step
        return moved >= self.batch or (
            success and campaign.succeeded_at is not None and campaign.succeeded_at <= boundary
        )
