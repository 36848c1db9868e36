"""When the public count may move: in steps, never one signature at a time.

Anyone but the signer (a channel, a page, its JSON and ETag, an organizer who may be a plant)
sees a campaign's count only as it was at its last *step*. If the shown count moved with each
signature, a watcher who also knows who was active at 14:03:05 could name an anonymous signer.

The rule, in one sentence: **every figure a watcher can tell apart moves by none or by a crowd
of at least `batch` people, except at midnight, when the whole day goes at once.** The parts a
watcher can tell apart are named signatures, anonymous ones, named withdrawals and anonymous
withdrawals (names, the log's kinds and the count subtract into each); each waits for its own
crowd, and one part never holds another back. A signature withdrawn before its step is taken
out of the step with its withdrawal, so an account that signs and withdraws fills no crowd.

A step is released at a *boundary*: every `window` from the start of the day (in the
campaign's time zone), and each day's start. At a window boundary the parts that hold a crowd
go; at midnight everything goes. Closing (by an organizer or a deadline) is no boundary: a
closed campaign's *final* step is released at the first boundary after the midnight that
follows its closing, whatever waits (even nothing: its moment says nothing about what waited).
A pledge's success shows with the step that shows it, never on its own.
With `window` zero a part goes with the signature that completes its crowd (the operator's
choice; that signature's moment is then public), and midnight releases the rest.

Releases happen only at boundaries (within `ON_TIME` of one), never because someone signed.
Boundaries are computed in real time from the local midnight, so a change of clocks moves
nothing. This module is pure; the runtime ticks at `next_boundary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache

from bot.domain.campaigns import Campaign

SMALLEST_STEP = 3  # never fewer people than this in one part of a step (outside midnight)
# A step is released only this close after a boundary (the schedule fires on it); a boundary
# missed while nobody ran the schedule is made up at the next one.
ON_TIME = timedelta(seconds=60)


class Part(StrEnum):
    """What a watcher can tell apart in a step. `UNSORTED`: entries from before the parts
    were recorded (an upgrade); they go at midnight only."""

    NAMED_SIGN = "sign:named"
    ANON_SIGN = "sign:anonymous"
    NAMED_WITHDRAW = "withdraw:named"
    ANON_WITHDRAW = "withdraw:anonymous"
    UNSORTED_SIGN = "sign:"
    UNSORTED_WITHDRAW = "withdraw:"

    @staticmethod
    def of(kind: str, named: bool | None) -> Part:
        return Part(f"{kind}:{'' if named is None else 'named' if named else 'anonymous'}")

    @property
    def kind(self) -> str:
        """The log entry's kind: `sign` or `withdraw`."""
        return self.value.split(":", 1)[0]

    @property
    def signs(self) -> bool:
        return self.kind == "sign"

    @property
    def named(self) -> bool:
        return self.value.endswith(":named")

    @property
    def sorted(self) -> bool:
        return not self.value.endswith(":")


Waiting = Mapping[Part, int]  # entries since the last step, by part


@dataclass(frozen=True)
class Release:
    """What a step releases: some parts, or everything (`whole`); `final` ends a closed one."""

    parts: frozenset[Part]
    whole: bool
    final: bool = False


def ended_at(campaign: Campaign, now: datetime) -> datetime | None:
    """When the campaign stopped taking signatures (closed, or its deadline passed)."""
    if campaign.closed_at is not None:
        return campaign.closed_at
    if campaign.deadline_passed(now):
        return campaign.deadline
    return None


@dataclass(frozen=True)
class StepRule:
    window: timedelta = timedelta(minutes=15)
    batch: int = SMALLEST_STEP

    @property
    def immediate(self) -> bool:
        """No window: a part is released as soon as its crowd is full."""
        return self.window <= timedelta(0)

    @property
    def stepless(self) -> bool:
        """Every signature public at once (the operator's choice): nothing ever waits, so a
        campaign's final step comes with its closing."""
        return self.immediate and self.batch <= 1

    @staticmethod
    def day_start(now: datetime, tz: tzinfo) -> datetime:
        """The start of `now`'s day in `tz`, as a UTC moment (right across changes of clocks)."""
        return _day_span(now.astimezone(tz).date(), tz)[0]

    def next_day(self, now: datetime, tz: tzinfo) -> datetime:
        """The start of the day after `now`'s (23, 24 or 25 hours after this one's)."""
        return _day_span(now.astimezone(tz).date(), tz)[1]

    def last_boundary(self, now: datetime, tz: tzinfo) -> datetime:
        """The latest boundary at or before `now`: windows of real time from the day's start."""
        start = self.day_start(now, tz)
        if self.immediate:
            return start
        return start + ((now - start) // self.window) * self.window

    def next_boundary(self, now: datetime, tz: tzinfo) -> datetime:
        """The first boundary strictly after `now` (the next day's start at the latest).
        Every sign reply says it: the window `now` falls in is remembered."""
        key = (self.window, tz)
        known = _WINDOWS.get(key)
        if known is not None and known[0] <= now < known[1]:
            return known[1]
        tomorrow = self.next_day(now, tz)
        last = self.last_boundary(now, tz)
        nxt = tomorrow if self.immediate else min(last + self.window, tomorrow)
        _WINDOWS[key] = (last, nxt)
        return nxt

    def next_change(self, campaign: Campaign, now: datetime, tz: tzinfo) -> datetime | None:
        """When the public count may next move, as anyone may be told: the next boundary
        for an open campaign (the window's, or midnight with no window), the final step's
        moment for a closed one, None once that is out. Never how much waits."""
        ended = ended_at(campaign, now)
        if ended is None:
            return self.next_boundary(now, tz)
        if campaign.final_at is not None:
            return None
        final = self.final_due_at(campaign, now, tz)
        if final is None:
            return None
        return final if final > now else self.next_boundary(now, tz)

    def final_due_at(self, campaign: Campaign, now: datetime, tz: tzinfo) -> datetime | None:
        """The moment a closed campaign's final step is released (None: open, or it is out)."""
        ended = ended_at(campaign, now)
        if ended is None or campaign.final_at is not None:
            return None
        return ended if self.stepless else self.next_day(ended, tz)

    def looks_now(self, now: datetime, tz: tzinfo) -> bool:
        """Is `now` just after a boundary, when the schedule's look counts?"""
        return timedelta(0) <= now - self.last_boundary(now, tz) <= ON_TIME

    def decide(
        self, campaign: Campaign, waiting: Waiting, now: datetime, tz: tzinfo
    ) -> Release | None:
        """What, if anything, goes public at `now`."""
        gathered = {part: n for part, n in waiting.items() if n > 0}
        everything = frozenset(gathered)
        since = campaign.shown_at
        looked = max(since, campaign.step_checked_at or since) if since is not None else None
        boundary = self.last_boundary(now, tz)
        on_boundary = timedelta(0) <= now - boundary <= ON_TIME and (
            looked is None or looked < boundary
        )
        final = self.final_due_at(campaign, now, tz)
        if final is not None and self.stepless:
            return Release(everything, whole=True, final=True)
        if final is not None and final <= boundary and on_boundary:
            return Release(everything, whole=True, final=True)  # even empty: a fixed moment
        unshown = campaign.succeeded_at is not None and campaign.shown_succeeded_at is None
        if not gathered and not unshown:
            return None
        midnight = self.day_start(now, tz)
        at_midnight = timedelta(0) <= now - midnight <= ON_TIME
        if since is None or (at_midnight and looked is not None and looked < midnight):
            return Release(everything, whole=True)  # a new day: whatever gathered goes
        if not self.immediate and not on_boundary:
            return None  # only just after a boundary, and one step per boundary
        if any(not part.sorted for part in gathered):
            return None  # entries from before an upgrade: the next midnight takes them all
        crowds = frozenset(part for part, n in gathered.items() if n >= self.batch)
        if not crowds:
            return None
        return Release(crowds, whole=crowds == everything)


_WINDOWS: dict[tuple[timedelta, tzinfo], tuple[datetime, datetime]] = {}


@lru_cache(maxsize=64)
def _day_span(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """A local day's start and the next one's, as UTC moments (every reply asks: cached)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def released_change(waiting: Waiting, release: Release) -> tuple[int, int]:
    """(count, named count) moved by the parts a step releases."""
    count = named = 0
    for part, n in waiting.items():
        if part not in release.parts:
            continue
        sign = 1 if part.signs else -1
        count += sign * n
        named += sign * n if part.named else 0
    return count, named


def step(
    campaign: Campaign, waiting: Waiting, release: Release, now: datetime
) -> tuple[Campaign, int | None]:
    """The campaign with what `release` lets through shown, and the public count before the
    step when the step shows something new (more signatures, or a pledge's success) that the
    channels are to hear of; None when it shows nothing new."""
    before = campaign.public(now)
    moved, named = released_change(waiting, release)
    shown = campaign.count if release.whole else campaign.shown_count + moved
    shown_named = campaign.shown_named + named
    succeeded = campaign.shown_succeeded_at
    if (
        campaign.succeeded_at is not None
        and succeeded is None
        and (release.whole or shown >= campaign.goal)
    ):
        succeeded = now
    stepped = replace(
        campaign,
        shown_count=shown,
        shown_named=max(0, shown_named),
        shown_at=now,
        shown_succeeded_at=succeeded,
        final_at=now if release.final else campaign.final_at,
    )
    after = stepped.public(now)
    news = after.count > before.count or (
        after.succeeded_at is not None and campaign.shown_succeeded_at is None
    )
    return stepped, before.count if news else None
