"""What the public may see of a published campaign: the rules, with no I/O.

Everything a public page, its JSON, chart or card shows comes from `PublicFacts`, so the safety
rules live in one place: no time finer than the day, no anonymous signer's anything, names
only as the campaign's `names:` allows, and no figure over time that counts fewer than
`SMALLEST_GROUP` signatures (days are merged until each bucket has that many), so "one
signature on Tuesday" can never point at the one person who was in the office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from bot.domain.campaigns import Campaign, Kind
from bot.domain.messages import campaign_language
from bot.domain.public_log import Head
from bot.domain.tally import SMALLEST_GROUP, Tally
from bot.domain.text import name_order


@dataclass(frozen=True)
class Bucket:
    first: date  # first day of the bucket
    last: date  # last day (inclusive)
    signed: int  # signatures made in those days (always >= SMALLEST_GROUP)


@dataclass(frozen=True)
class PublicFacts:
    slug: str
    title: str
    kind: str  # petition | pledge
    addressee: str | None
    action: str | None
    text: str
    version: int
    status: str  # open | closed
    outcome: str | None  # succeeded | failed | None
    signatures: int
    goal: int
    percent: int
    deadline: date | None
    days_left: int | None
    started: date
    updated: date
    buckets: tuple[Bucket, ...]
    projected: int | None  # expected count at the deadline at the present pace
    signatories: tuple[tuple[str, str | None], ...]  # (name, role), sorted by name
    names_shown: bool  # False: sealed (until success) or count-only
    unnamed: int  # signatures not listed by name (anonymous, or all when names aren't shown)
    more_named: int = 0  # named signatories beyond the ones listed (a very long list)
    language: str = "en"  # the campaign's: its images, and its page unless the reader asks
    platforms: tuple[str, ...] = ()  # where it is shared ("slack", …), never which workspace
    closed_on: date | None = None  # the day it closed (by an organizer, or at its deadline)
    succeeded_on: date | None = None  # the day the step that showed success was released
    # The public log as the last step left it (bot/domain/public_log.py): its entries add up
    # to `signatures`; withdrawals and removals are said, never hidden in the count.
    log_size: int = 0
    log_root: str = ""
    log_signatures: int = 0
    log_withdrawals: int = 0
    # How the count moves (bot/domain/steps.py): a rule, never how much waits. Minutes of
    # the window while open (0: steps of `step_batch` alone), or when the final step comes.
    step_minutes: int | None = None
    step_batch: int = 0
    step_zone: str = "UTC"
    final_at: datetime | None = None  # in the campaign's time zone

    def as_json(self) -> dict[str, object]:
        """The small public JSON: no names, no ids, days only."""
        return {
            "slug": self.slug,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "outcome": self.outcome,
            "signatures": self.signatures,
            "goal": self.goal,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "percent": self.percent,
            "updated_at": self.updated.isoformat(),
            "daily": [[b.first.isoformat(), b.last.isoformat(), b.signed] for b in self.buckets],
            "log": {
                "tree_size": self.log_size,
                "root_hash": self.log_root,
                "signatures": self.log_signatures,
                "withdrawals": self.log_withdrawals,
            },
        }


SHARED_ON = frozenset({"slack", "discord", "matrix"})  # where a stranger could go and sign
MAX_BUCKETS = 40  # a year of busy days still fits the JSON in under 2 KB


def day_buckets(
    daily: list[tuple[date, int]],
    today: date,
    minimum: int = SMALLEST_GROUP,
    most: int = MAX_BUCKETS,
) -> tuple[Bucket, ...]:
    """Merge consecutive days until each bucket holds at least `minimum` signatures. Today is
    left out (a partial day would make every trend look like a fall); a remainder too small
    to stand alone joins the bucket before it, or is not shown at all."""
    per_day: dict[date, int] = {}
    for day, signed in daily:
        per_day[day] = per_day.get(day, 0) + signed
    buckets: list[Bucket] = []
    start: date | None = None
    held = 0
    for day, signed in sorted(per_day.items()):
        if day >= today or signed <= 0:
            continue
        start = start or day
        held += signed
        if held >= minimum:
            buckets.append(Bucket(start, day, held))
            start, held = None, 0
    if held and buckets:
        last = buckets.pop()
        end = max(d for d, n in per_day.items() if d < today and n > 0)
        buckets.append(Bucket(last.first, end, last.signed + held))
    while len(buckets) > most:  # coarser, never finer: neighbours merge in pairs
        pairs = [buckets[i : i + 2] for i in range(0, len(buckets), 2)]
        buckets = [Bucket(p[0].first, p[-1].last, sum(b.signed for b in p)) for p in pairs]
    return tuple(buckets)


def public_facts(
    campaign: Campaign,
    *,
    text: str,
    tally: Tally,
    daily: list[tuple[date, int]],
    named: list[tuple[str, str | None]],
    now: datetime,
    named_total: int | None = None,
    tz: tzinfo,
    platforms: tuple[str, ...] = (),
    head: Head | None = None,
) -> PublicFacts:
    today = now.astimezone(tz).date()
    names_shown = campaign.names_visible()
    signatories = tuple(sorted(named, key=lambda p: name_order(p[0]))) if names_shown else ()
    deadline = campaign.deadline.astimezone(tz).date() if campaign.deadline else None
    days_left = (deadline - today).days if deadline and campaign.is_open(now) else None
    closed = None if campaign.is_open(now) else campaign.closed_at
    if campaign.deadline is not None and campaign.deadline_passed(now):
        closed = min(closed or campaign.deadline, campaign.deadline)
    return PublicFacts(
        slug=campaign.slug,
        title=campaign.title,
        kind=campaign.kind.value,
        addressee=campaign.addressee,
        action=campaign.action if campaign.kind is Kind.PLEDGE else None,
        text=text,
        version=campaign.version,
        status=campaign.effective_status(now).value,
        outcome=campaign.outcome(now),
        signatures=campaign.count,
        goal=campaign.goal,
        percent=tally.percent,
        deadline=deadline,
        days_left=max(days_left, 0) if days_left is not None else None,
        started=min(campaign.created_at.astimezone(tz).date(), today),
        updated=today,
        buckets=day_buckets(daily, today),
        projected=tally.pace.projected if tally.pace else None,
        signatories=signatories,
        names_shown=names_shown,
        # of the step, like the count (a named signer who withdraws leaves the list at once,
        # as promised; this figure and the count follow with their part's step)
        unnamed=max(0, campaign.count - campaign.shown_named) if names_shown else campaign.count,
        more_named=max(0, (named_total or 0) - len(signatories)) if names_shown else 0,
        language=campaign_language(campaign.language),
        platforms=tuple(sorted(set(platforms) & SHARED_ON)),
        closed_on=min(closed.astimezone(tz).date(), today) if closed else None,
        succeeded_on=(
            min(campaign.succeeded_at.astimezone(tz).date(), today)
            if campaign.succeeded_at is not None and campaign.kind is Kind.PLEDGE
            else None
        ),
        log_size=head.tree_size if head else 0,
        log_root=head.root_hash.hex() if head else "",
        log_signatures=head.signatures if head else 0,
        log_withdrawals=head.withdrawals if head else 0,
        step_minutes=(
            int(tally.step_window.total_seconds() // 60) if tally.step_window is not None else None
        ),
        step_batch=tally.step_batch,
        step_zone=tally.step_zone,
        final_at=tally.final_at.astimezone(tz) if tally.final_at is not None else None,
    )
