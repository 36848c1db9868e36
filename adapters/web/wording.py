"""The sentences the public page, its embed, chart and card share, from `PublicFacts` only.

Each one says the campaign's state as it is: a success stays one after withdrawals, past the
goal is said as such, a closed letter reads as closed. In the language being spoken.
"""

from __future__ import annotations

import re
from datetime import UTC

from bot import commands as cmd
from bot.domain.messages import _, calendar_day, ngettext, number, percent
from bot.domain.public import PublicFacts
from bot.domain.tally import past_goal, steps_note

PLATFORM_NAMES = {"slack": "Slack", "discord": "Discord", "matrix": "Matrix"}


def state_line(f: PublicFacts) -> str:
    if f.outcome == "succeeded":
        return _("The pledge succeeded: the threshold was reached in time.")
    if f.outcome == "failed":
        return _("The deadline passed before the threshold was reached.")
    if f.status != "open":
        if f.closed_on is not None:
            return _("Closed on {when}.", when=calendar_day(f.closed_on))
        return _("Closed to new signatures.")
    if f.deadline and f.days_left is not None:
        if f.days_left == 0:
            return _("Open until {day} (the last day).", day=calendar_day(f.deadline))
        return ngettext(
            "Open until {day} ({n} day left).",
            "Open until {day} ({n} days left).",
            f.days_left,
            day=calendar_day(f.deadline),
        )
    return _("Open, with no deadline.")


def steps(f: PublicFacts) -> str | None:
    """How the count moves, under it: a sentence that changes only with a step."""
    tz = f.final_at.tzinfo if f.final_at is not None and f.final_at.tzinfo else UTC
    note = steps_note(f.step_minutes, f.step_batch, f.step_zone, f.final_at, tz)
    return note[:1].upper() + note[1:] + "." if note else None


def badge(f: PublicFacts) -> tuple[str, str]:
    """(`succeeded` | `closed` | `open`, its word): the state at a glance."""
    if f.outcome == "succeeded":
        return "succeeded", _("Succeeded")
    if f.outcome == "failed":
        return "closed", _("Threshold not reached")
    if f.status != "open":
        return "closed", _("Closed")
    return "open", _("Open")


def dates(f: PublicFacts) -> str:
    """Opened, the deadline, closed, succeeded: the days only."""
    said = [_("Opened on {day}.", day=calendar_day(f.started))]
    if f.deadline and (f.closed_on is None or f.closed_on >= f.deadline):
        said.append(_("Deadline: {day}.", day=calendar_day(f.deadline)))
    if f.succeeded_on is not None:
        said.append(_("Succeeded on {when}.", when=calendar_day(f.succeeded_on)))
    if f.closed_on is not None:
        said.append(_("Closed on {when}.", when=calendar_day(f.closed_on)))
    return " ".join(said)


def card_date(f: PublicFacts) -> str:
    """The one date a link preview has room for."""
    if f.succeeded_on is not None:
        return _("Succeeded on {when}.", when=calendar_day(f.succeeded_on)).rstrip(".")
    if f.closed_on is not None:
        return _("Closed on {when}.", when=calendar_day(f.closed_on)).rstrip(".")
    if f.deadline:
        return _("Deadline: {day}.", day=calendar_day(f.deadline)).rstrip(".")
    return _("Opened on {day}.", day=calendar_day(f.started)).rstrip(".")


def terms(f: PublicFacts) -> str:
    if f.deadline:
        return ngettext(
            "If {n} person pledges by {day}, they will {action}.",
            "If {n} people pledge by {day}, they will all {action}.",
            f.goal,
            action=f.action,
            day=calendar_day(f.deadline),
        )
    return ngettext(
        "If {n} person pledges, they will {action}.",
        "If {n} people pledge, they will all {action}.",
        f.goal,
        action=f.action,
    )


def names_hidden(f: PublicFacts) -> str:
    if f.kind == "pledge" or (f.outcome is None and f.status == "open"):
        return _("Names stay sealed, even from the organizers, until the goal is reached in time.")
    return _("This campaign shows no names, only the count.")


def figure(f: PublicFacts) -> str:
    """The count in words: the chart's first sentence."""
    if f.outcome == "succeeded":
        return ngettext(
            "It succeeded: the threshold of {goal} was reached ({n} pledge now).",
            "It succeeded: the threshold of {goal} was reached ({n} pledges now).",
            f.signatures,
            goal=number(f.goal),
        )
    if f.kind == "pledge":
        return ngettext(
            "{n} of {goal} pledges so far.",
            "{n} of {goal} pledges so far.",
            f.signatures,
            goal=number(f.goal),
        )
    return ngettext(
        "{n} of {goal} signatures so far.",
        "{n} of {goal} signatures so far.",
        f.signatures,
        goal=number(f.goal),
    )


def of_goal(f: PublicFacts) -> str:
    """What follows the big number on the card."""
    if f.outcome == "succeeded":
        return ngettext(
            "pledged · it succeeded: {n} was the threshold",
            "pledged · it succeeded: {n} was the threshold",
            f.goal,
        )
    if f.kind == "pledge":
        return ngettext(
            "of {n} pledges · {percent}",
            "of {n} pledges · {percent}",
            f.goal,
            percent=percent(f.percent),
        )
    return ngettext(
        "of {n} signatures · {percent}",
        "of {n} signatures · {percent}",
        f.goal,
        percent=percent(f.percent),
    )


_MARKS = re.compile(r"!?\[[^\]]*\]\([^)]*\)|<[^>]*>")  # images, links, tags: not in a preview
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(letter: str, limit: int = 160) -> str:
    """The letter's opening, as link previews show it: its first sentence, markdown marks
    left out, cut at a word."""
    plain = _MARKS.sub(" ", letter).replace("*", "").replace("_", " ").replace("#", "")
    plain = " ".join(plain.split())
    sentence = _SENTENCE_END.split(plain, maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
    return sentence


def summary(f: PublicFacts) -> str:
    """The count in one sentence, for link previews: a success stays one, past the goal is
    said as such."""
    if f.outcome == "succeeded":
        return figure(f)
    if f.signatures > f.goal and f.kind != "pledge":
        return past_goal(f.signatures, f.goal, "signatures")
    return ngettext(
        "{n} of {goal} has signed ({percent}).",
        "{n} of {goal} have signed ({percent}).",
        f.signatures,
        goal=number(f.goal),
        percent=percent(f.percent),
    )


def sign_commands(platform: str, slug: str) -> tuple[str, str]:
    """(to sign, to sign anonymously) as each platform's users type them, from the registry's
    `/sign` (Discord names each option: `/sign campaign:maven anonymous:True`)."""
    spec = next(s for s in cmd.REGISTRY if s.name == "sign")
    campaign = next(o.name for o in spec.options if o.kind is cmd.ValueKind.CAMPAIGN)
    anonymous = next(o.name for o in spec.options if o.kind is cmd.ValueKind.FLAG)
    if platform == "discord":
        named = f"/{spec.name} {campaign}:{slug}"
        return named, f"{named} {anonymous}:True"
    prefix = "!" if platform == "matrix" else "/"
    return f"{prefix}{spec.name} {slug}", f"{prefix}{spec.name} {slug} {anonymous}"


def where_to_sign(f: PublicFacts) -> list[tuple[str, str, str]]:
    """(platform's name, command, anonymous command) for each platform the campaign is shared
    on: the platform only, never which workspace or server (its name may be private)."""
    return [(PLATFORM_NAMES[p], *sign_commands(p, f.slug)) for p in f.platforms]
