"""When the public count may move: in steps, never one signature at a time.

Anyone but the signer (a channel, a page, its JSON and ETag, an organizer who may be a plant)
sees a campaign's count only as it was at its last *step*. If the shown count moved with each
signature, a watcher who also knows who was active at 14:03:05 could name an anonymous signer.

A step is released at a *boundary*: every `window` from the start of the day (in the
campaign's time zone), and each day's start. At a window boundary it is released only if the
signatures and the withdrawals gathered are each none or at least `batch` (the public log
shows them apart); at midnight whatever has gathered is released. A pledge that reached its
threshold is announced at the first boundary after it did, whatever the batch.
With `window` zero the batch alone suffices: the step is released with the signature that
completes it (the operator's choice; that signature's moment is then public).

Releases happen only at boundaries (within `ON_TIME` of one), never because someone signed: a
step's moment says nothing about any one signature. Boundaries are computed in real time from
the local midnight, so a change of clocks moves nothing. This module is pure; the runtime
ticks at `next_boundary`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta, tzinfo

from bot.domain.campaigns import Campaign, Kind

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

    @staticmethod
    def day_start(now: datetime, tz: tzinfo) -> datetime:
        """The start of `now`'s day in `tz`, as a UTC moment (right across changes of clocks)."""
        local = now.astimezone(tz).date()
        return datetime.combine(local, time(0), tzinfo=tz).astimezone(UTC)

    def last_boundary(self, now: datetime, tz: tzinfo) -> datetime:
        """The latest boundary at or before `now`: windows of real time from the day's start."""
        start = self.day_start(now, tz)
        if self.immediate:
            return start
        return start + ((now - start) // self.window) * self.window

    def next_boundary(self, now: datetime, tz: tzinfo) -> datetime:
        """The first boundary strictly after `now` (the next day's start at the latest)."""
        tomorrow = self.day_start(now, tz) + timedelta(hours=25)
        tomorrow = self.day_start(tomorrow, tz)  # 23, 24 or 25 hours away
        if self.immediate:
            return tomorrow
        return min(self.last_boundary(now, tz) + self.window, tomorrow)

    def due(self, campaign: Campaign, now: datetime, tz: tzinfo) -> bool:
        """Should the count as it is now become the shown count, at `now`?"""
        signed, withdrew = waiting(campaign)
        moved = signed + withdrew
        success = campaign.succeeded_at is not None and campaign.shown_succeeded_at is None
        if not moved and not success:
            return False
        since = campaign.shown_at
        midnight = self.day_start(now, tz)
        at_midnight = timedelta(0) <= now - midnight <= ON_TIME
        if since is None or (at_midnight and since < midnight):
            return True  # a new day: whatever gathered is released, at midnight only
        if self.immediate:
            return moved >= self.batch
        boundary = self.last_boundary(now, tz)
        if not timedelta(0) <= now - boundary <= ON_TIME or boundary <= since:
            return False  # only just after a boundary, and one step per boundary
        pledge_success = (
            success
            and campaign.kind is Kind.PLEDGE
            and campaign.succeeded_at is not None
            and campaign.succeeded_at <= boundary
        )
        # The public log shows a step's signatures and withdrawals apart: at a window
        # boundary each is released only in a crowd of `batch`, never one or two alone. (A
        # signature and a withdrawal of the same account, which leave the count as it was,
        # fill neither; one withdrawal holds the count until two more, or midnight.)
        crowds = signed + withdrew > 0 and all(
            n == 0 or n >= self.batch for n in (signed, withdrew)
        )
        return crowds or pledge_success

    def closing(self, campaign: Campaign, now: datetime, tz: tzinfo) -> bool:
        """Release a step as the campaign closes (by its deadline or an organizer)? Only if it
        is due anyway, or if it reached its goal since the last step: a success is never
        reported as a failure. Closing is no boundary of its own, so nobody (an organizer
        choosing the moment, or a deadline moved a minute ahead) can use it to time one
        signature; what gathered otherwise shows at the next day boundary."""
        unshown_success = campaign.succeeded_at is not None and campaign.shown_succeeded_at is None
        return unshown_success or self.due(campaign, now, tz)


def waiting(campaign: Campaign) -> tuple[int, int]:
    """(signatures, withdrawals) since the last step. Every change of the count is one entry
    of the public log, so `waiting` entries moved the count by `count - shown_count`."""
    net = campaign.count - campaign.shown_count
    entries = max(campaign.waiting, abs(net))
    withdrew = (entries - net) // 2
    return entries - withdrew, withdrew


def step(campaign: Campaign, now: datetime) -> tuple[Campaign, int | None]:
    """The campaign with its count released as it is now, and the public count before the
    step when the step shows something new (more signatures, or a pledge's success) that the
    channels are to hear of; None when it shows nothing new."""
    before = campaign.public(now)
    succeeded = campaign.shown_succeeded_at
    if campaign.succeeded_at is not None and succeeded is None:
        succeeded = now
    stepped = replace(
        campaign, shown_count=campaign.count, shown_at=now, shown_succeeded_at=succeeded
    )
    after = stepped.public(now)
    news = after.count > before.count or (
        after.succeeded_at is not None and campaign.shown_succeeded_at is None
    )
    return stepped, before.count if news else None
