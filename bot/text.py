"""Field limits and the cleaning of user-supplied text, shared by every entry point."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import UserError

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
TITLE_MAX = 200
TEXT_MAX = 20_000
ADDRESSEE_MAX = 200
ACTION_MAX = 200
ROLE_MAX = 100
COMMENT_MAX = 500
NAME_MAX = 80
GOAL_MAX = 10_000_000

# Zero-width and bidi-control characters: invisible, so they are dropped rather than refused.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    None,
)


def strip_invisible(value: str) -> str:
    return value.translate(_INVISIBLE)


def _has_control(value: str, allow_newlines: bool) -> bool:
    for ch in value:
        if allow_newlines and ch in "\n\t":
            continue
        if unicodedata.category(ch) == "Cc":
            return True
    return False


def clean(
    value: str | None,
    *,
    field: str,
    limit: int,
    required: bool = False,
    multiline: bool = False,
    usage: str | None = None,
) -> str | None:
    """Return the trimmed value, or raise a friendly UserError naming the field and its limit."""
    if value is None:
        value = ""
    value = strip_invisible(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        if required:
            raise UserError(f"The {field} can't be empty.", usage)
        return None
    if _has_control(value, multiline):
        raise UserError(
            f"The {field} contains control characters; please retype it as plain text.", usage
        )
    if len(value) > limit:
        raise UserError(
            f"The {field} is {len(value):,} characters long; the limit is {limit:,}.", usage
        )
    return value


def clean_display_name(value: str | None, fallback: str) -> str:
    """Platform-supplied names are cleaned rather than refused: the user did not type them here."""
    value = strip_invisible(value or "")
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Cc").strip()
    return (value or fallback)[:NAME_MAX]


# Words the grammar reads as keywords after /sign, so they can't name a campaign.
RESERVED_SLUGS = frozenset({"anonymous", "anonymously", "anon", "mine", "help"})


def check_slug(slug: str, usage: str | None = None) -> str:
    if slug in RESERVED_SLUGS:
        raise UserError(f"`{slug}` is a command word; pick another campaign name.", usage)
    if not SLUG_RE.match(slug):
        raise UserError(
            f"`{slug[:60]}` can't be a campaign name: use 2–40 lowercase letters, digits or "
            "dashes, like `walkout-2026`.",
            usage,
        )
    if len(slug) < 2:
        raise UserError("A campaign name needs at least 2 characters.", usage)
    return slug


def looks_like_slug(token: str) -> bool:
    return 2 <= len(token) <= 40 and bool(SLUG_RE.match(token))


def check_goal(goal: int, usage: str | None = None, *, field: str = "goal") -> int:
    if goal < 1:
        raise UserError(f"The {field} must be at least 1.", usage)
    if goal > GOAL_MAX:
        raise UserError(f"The {field} can be at most {GOAL_MAX:,}.", usage)
    return goal
