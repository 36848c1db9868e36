"""The tally: count against goal, time left, and PledgeBank-style pace and projection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.domain.campaigns import Campaign, Kind
from bot.domain.messages import _, clock, duration, ngettext, number, percent, short_day
from bot.domain.steps import StepRule

PACE_WINDOW = timedelta(days=7)
SMALLEST_GROUP = 5  # no public figure counts fewer people than this in one group


PROJECTION_DAYS = 2  # whole days of history before the pace is projected to the deadline
PROJECTION_SIGNATURES = 10  # and at least this many signatures in them


@dataclass(frozen=True)
class Pace:
    per_day: float
    projected: int | None  # expected count at the deadline at this pace
    needed_per_day: int | None  # signatures a day still needed to reach the goal in time


@dataclass(frozen=True)
class Tally:
    count: int
    goal: int
    deadline: datetime | None
    time_left: timedelta | None
    recent_public: tuple[str, ...]
    pace: Pace | None
    names_sealed: bool
    noun: str = "signatures"  # what is counted: "pledges" for a pledge, in every rendering
    # A pledge that reached its threshold in time: irreversible, so it reads as success
    # everywhere even after withdrawals bring the count below the threshold.
    succeeded: bool = False
    # How the public count moves (bot/domain/steps.py), said wherever it is shown: a rule
    # that stays true in a post nobody refreshes, never how much waits. `final_at`: when a
    # closed campaign's final step comes.
    step_window: timedelta | None = None
    step_batch: int = 0
    step_tz: tzinfo = UTC
    step_zone: str = "UTC"
    final_at: datetime | None = None

    @property
    def percent(self) -> int:
        if self.succeeded:
            return 100
        return min(100, math.floor(100 * self.count / self.goal)) if self.goal else 0

    @property
    def remaining(self) -> int:
        return max(0, self.goal - self.count)

    @property
    def goal_met_now(self) -> bool:
        """The count is at or above the goal right now (compare `Campaign.reached_in_time`)."""
        return self.count >= self.goal

    def bar(self, width: int = 20) -> str:
        filled = min(width, round(width * self.count / self.goal)) if self.goal else 0
        if self.succeeded:
            filled = width
        return "█" * filled + "░" * (width - filled)

    def summary(self) -> str:
        """`1,234 of 5,000 signatures (24%)`, in the language being spoken."""
        values = {"goal": number(self.goal), "percent": percent(self.percent)}
        if self.succeeded:
            return ngettext(
                "It succeeded: the threshold of {goal} was reached ({n} pledge now)",
                "It succeeded: the threshold of {goal} was reached ({n} pledges now)",
                self.count,
                goal=number(self.goal),
            )
        if self.count > self.goal:  # never "4 of 3"
            return self.past_goal()
        if self.noun == "pledges":
            return ngettext(
                "{n} of {goal} pledges ({percent})",
                "{n} of {goal} pledges ({percent})",
                self.count,
                **values,
            )
        return ngettext(
            "{n} of {goal} signatures ({percent})",
            "{n} of {goal} signatures ({percent})",
            self.count,
            **values,
        )

    def past_goal(self) -> str:
        return past_goal(self.count, self.goal, self.noun)

    def pace_sentence(self, tz: tzinfo) -> str | None:
        """PledgeBank's nudge, as a sentence: the projection and what a day still needs."""
        if self.pace is None or self.deadline is None or self.time_left is None:
            return None
        if self.goal_met_now:
            return None
        by = short_day(self.deadline, tz)
        projected, needed = self.pace.projected, self.pace.needed_per_day
        if projected is not None and needed is not None:
            return _(
                "At this pace about {projected} by {day}; reaching {goal} takes {needed} a day.",
                projected=number(projected),
                day=by,
                needed=number(needed),
                goal=number(self.goal),
            )
        if projected is not None:
            return _(
                "At this pace about {projected} by {day}.", projected=number(projected), day=by
            )
        if needed is not None:
            return ngettext(
                "Too early for a projection (it needs {n} whole days and {least} signatures); "
                "reaching {goal} takes {needed} a day.",
                "Too early for a projection (it needs {n} whole days and {least} signatures); "
                "reaching {goal} takes {needed} a day.",
                PROJECTION_DAYS,
                least=number(PROJECTION_SIGNATURES),
                needed=number(needed),
                goal=number(self.goal),
            )
        return None

    def steps_text(self) -> str | None:
        """One short line: the count moves in steps, and when it may."""
        minutes = None
        if self.step_window is not None:
            minutes = int(self.step_window.total_seconds() // 60)
        return steps_note(minutes, self.step_batch, self.step_zone, self.final_at, self.step_tz)

    def notes(self) -> str:
        """What follows the count on its line: time left, and how the count moves."""
        parts = [p for p in (self.time_left_text(), self.steps_text()) if p]
        return "".join(f" · {p}" for p in parts)

    def time_left_text(self) -> str | None:
        if self.time_left is None or self.time_left <= timedelta(0):
            return None
        return _("{duration} left", duration=duration(self.time_left))


def steps_note(
    minutes: int | None, batch: int, zone: str, final_at: datetime | None, tz: tzinfo
) -> str | None:
    """How a count moves, as a rule that stays true in a post nobody refreshes: every
    `minutes` (0: in steps of `batch` alone) while open, or when the final step comes."""
    if final_at is not None:
        return _("final count at {time}", time=clock(final_at, tz))
    if minutes is None:
        return None
    if minutes <= 0:
        return ngettext(
            "counted in steps of {n}, the rest at midnight ({zone})",
            "counted in steps of {n}, the rest at midnight ({zone})",
            batch,
            zone=zone,
        )
    return ngettext(
        "counted in steps: every {n} minute once enough have signed, the rest at midnight ({zone})",
        "counted in steps: every {n} minutes once enough have signed, the rest at midnight "
        "({zone})",
        minutes,
        zone=zone,
    )


def pace_days(now: datetime, tz: tzinfo) -> tuple[date, date]:
    """The pace window: a week of whole local days, up to (not including) today. Those days
    are all released (at each midnight), so the pace moves at day boundaries only."""
    today = now.astimezone(tz).date()
    return today - PACE_WINDOW, today


def compute_pace(
    campaign: Campaign, now: datetime, signed_in_window: int | None, tz: tzinfo = UTC
) -> Pace | None:
    """Rate over the last week of whole days (or since launch, at least a day), projected to
    the deadline."""
    if signed_in_window is None or campaign.deadline is None or not campaign.is_open(now):
        return None
    # Whole days only (`signed_in_window` stops before today): the pace moves at day
    # boundaries, never with one signature.
    today = now.astimezone(tz).date()
    whole_days = (today - campaign.created_at.astimezone(tz).date()).days
    window_days = float(max(1, min(PACE_WINDOW.days, whole_days)))
    per_day = signed_in_window / window_days
    days_left = (campaign.deadline - now).total_seconds() / 86_400
    # A projection from a first hour's rush (or from nothing) misleads in public: only with
    # enough history, else the tally says it is too early.
    enough = whole_days >= PROJECTION_DAYS and signed_in_window >= PROJECTION_SIGNATURES
    projected = campaign.count + math.floor(per_day * days_left) if enough else None
    remaining = max(0, campaign.goal - campaign.count)
    needed = math.ceil(remaining / max(days_left, 1 / 24)) if remaining else None
    return Pace(per_day=per_day, projected=projected, needed_per_day=needed)


def build_tally(
    campaign: Campaign,
    now: datetime,
    signed_in_window: int | None,
    recent_public: list[str],
    tz: tzinfo = UTC,
    steps: StepRule | None = None,
) -> Tally:
    """`signed_in_window=None` skips the pace (a quick tally for sign replies); `steps`: the
    rule the count moves by, to say when it next may."""
    sealed = not campaign.names_visible()
    final = steps.final_due_at(campaign, now, tz) if steps is not None else None
    return Tally(
        count=campaign.count,
        goal=campaign.goal,
        deadline=campaign.deadline,
        time_left=(campaign.deadline - now) if campaign.deadline else None,
        step_window=(
            steps.window
            if steps is not None and not steps.stepless and campaign.is_open(now)
            else None
        ),
        step_zone=now.astimezone(tz).tzname() or "UTC",
        step_batch=steps.batch if steps is not None else 0,
        step_tz=tz,
        final_at=final,
        recent_public=() if sealed else tuple(recent_public),
        pace=compute_pace(campaign, now, signed_in_window, tz),
        names_sealed=sealed,
        noun="pledges" if campaign.kind is Kind.PLEDGE else "signatures",
        succeeded=campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None,
    )


def workspace_groups(
    counts: dict[str, int], minimum: int = SMALLEST_GROUP
) -> tuple[list[tuple[str, int]], int]:
    """Where named signatures came from, for a campaign shared by several workspaces.

    Each workspace with at least `minimum` signatures is shown by name; the rest are added up
    as "other", and "other" too must reach `minimum` (the smallest named workspace joins it
    until it does), so no figure points at a handful of people in a small workspace. Returns
    `([], 0)` unless at least two groups remain.
    """
    if len([n for n in counts.values() if n > 0]) < 2:
        return [], 0
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    named = [(label, n) for label, n in ranked if n >= minimum]
    other = sum(n for _, n in ranked if n < minimum)
    while 0 < other < minimum and named:
        other += named.pop()[1]
    if len(named) + (1 if other else 0) < 2:
        return [], 0
    return named, other


def past_goal(count: int, goal: int, noun: str) -> str:
    """More than the goal, said as such (chat and link previews), not as "4 of 3 (100%)"."""
    if noun == "pledges":
        return ngettext(
            "{n} pledge, past the goal of {goal}",
            "{n} pledges, past the goal of {goal}",
            count,
            goal=number(goal),
        )
    return ngettext(
        "{n} signature, past the goal of {goal}",
        "{n} signatures, past the goal of {goal}",
        count,
        goal=number(goal),
    )
