"""One validator for a campaign's form, used by create and edit: every field a person types is
cleaned and checked here, with the same limits and the same friendly refusals."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from bot.domain.campaigns import Kind, Names
from bot.domain.errors import UserError
from bot.domain.messages import _, translate
from bot.domain.text import (
    ACTION_MAX,
    ADDRESSEE_MAX,
    FIELD_NAMES,
    TITLE_MAX,
    Field,
    check_goal,
    check_slug,
    clean,
    parse_language,
)
from bot.domain.timeparse import parse_deadline

_WHOLE = re.compile(r"\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:_\d{3})+")


def whole_number(value: str, field: str, usage: str) -> int:
    """`1,000`, `1.000` and `1_000` are a thousand (a separator between groups of three
    digits); anything else, `1.5` too, is refused (it used to read as 15)."""
    if _WHOLE.fullmatch(value.strip()):
        return int(re.sub(r"[,._]", "", value.strip()))
    raise UserError(
        _(
            "The {field} must be a whole number, like `{key}:1000`.",
            field=translate(FIELD_NAMES[field]),
            key=field,
        ),
        usage,
    )


def checked_fields(
    options: dict[str, str],
    kind: Kind,
    now: datetime,
    tz: tzinfo,
    usage: str,
    *,
    goal_field: str,
) -> dict[str, Any]:
    """The fields given in `options`, each checked: title, goal, deadline, addressee, action
    and language. Only what was given is returned (an edit changes only those)."""
    values: dict[str, Any] = {}
    if "title" in options:
        values["title"] = clean(
            options["title"], field=Field.TITLE, limit=TITLE_MAX, required=True, usage=usage
        )
    goal_text = options.get("goal") or options.get("threshold")
    if goal_text is not None:
        goal = whole_number(goal_text, goal_field, usage)
        values["goal"] = check_goal(goal, usage, field=goal_field)
    if "deadline" in options:
        values["deadline"] = parse_deadline(options["deadline"], tz, now, usage)
    if "to" in options or "addressee" in options:
        values["addressee"] = clean(
            options.get("to") or options.get("addressee"),
            field=Field.ADDRESSEE,
            limit=ADDRESSEE_MAX,
            usage=usage,
        )
    if "action" in options:
        if kind is not Kind.PLEDGE:
            raise UserError(_("Only pledges have an action."), usage)
        values["action"] = clean(
            options["action"], field=Field.ACTION, limit=ACTION_MAX, required=True, usage=usage
        )
    if "lang" in options:
        values["language"] = parse_language(options["lang"], usage)
    return values


def _kind(options: dict[str, str], usage: str) -> Kind:
    pledgy = "action" in options or "threshold" in options
    word = options.get("kind", "pledge" if pledgy else "petition")
    try:
        return Kind(word.lower())
    except ValueError:
        raise UserError(_("`kind:` is either `petition` or `pledge`."), usage) from None


def _names(options: dict[str, str], kind: Kind, usage: str) -> Names:
    default = Names.SEALED if kind is Kind.PLEDGE else Names.PUBLIC
    word = options.get("names", default.value).lower()
    if word not in {n.value for n in Names}:
        raise UserError(
            _(
                "`names:` is `public`, `sealed` (hidden until the goal is reached) or "
                "`count-only` (never shown in chat)."
            ),
            usage,
        )
    return Names(word)


def new_campaign(
    slug: str,
    options: dict[str, str],
    created_by: str,
    when: tuple[datetime, tzinfo],
    usage: str,
    house: str,
) -> dict[str, Any]:
    """A new campaign's stored fields, every one checked, the required ones present. Without
    `lang:` it speaks `house`, the server's language at its creation."""
    now, tz = when
    check_slug(slug, usage)
    kind = _kind(options, usage)
    title = clean(
        options.get("title"), field=Field.TITLE, limit=TITLE_MAX, required=True, usage=usage
    )
    noun = Field.THRESHOLD if kind is Kind.PLEDGE else Field.GOAL
    if options.get("threshold") is None and options.get("goal") is None:
        if kind is Kind.PLEDGE:
            raise UserError(_("Give a threshold, like `threshold:1000`."), usage)
        raise UserError(_("Give a goal, like `goal:1000`."), usage)
    # A new campaign's `threshold:` wins over `goal:` (an edit's `goal:` wins: as before).
    given = {"goal": options.get("threshold") or options.get("goal") or ""}
    if "deadline" in options:
        given["deadline"] = options["deadline"]
    checked = checked_fields(given, kind, now, tz, usage, goal_field=noun)
    action = clean(options.get("action"), field=Field.ACTION, limit=ACTION_MAX, usage=usage)
    if kind is Kind.PLEDGE:
        if action is None:
            raise UserError(_('A pledge needs an action, like `action:"walk out"`.'), usage)
        if checked.get("deadline") is None:
            raise UserError(_("A pledge needs a deadline, like `deadline:2026-12-31`."), usage)
    names = _names(options, kind, usage)
    given = {k: v for k, v in options.items() if k in ("to", "addressee", "lang")}
    checked |= checked_fields(given, kind, now, tz, usage, goal_field=noun)
    return {
        "slug": slug,
        "kind": kind.value,
        "title": title,
        "addressee": checked.get("addressee"),
        "action": action,
        "goal": checked["goal"],
        "deadline": checked.get("deadline"),
        "names": names.value,
        "language": checked.get("language") or house,
        "created_by": created_by,
        "created_at": now,
    }
