"""Field limits and the cleaning of user-supplied text, shared by every entry point."""

from __future__ import annotations

import re
import unicodedata

from bot.domain.errors import UserError
from bot.domain.messages import LANGUAGES, N_, _, language_of, number, translate

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
TITLE_MAX = 200
TEXT_MAX = 20_000
ADDRESSEE_MAX = 200
ACTION_MAX = 200
ROLE_MAX = 100
COMMENT_MAX = 500
NAME_MAX = 80
GOAL_MAX = 10_000_000

COMMAND_MAX = 25_000  # a whole command's text: the longest letter plus its options
# Unicode format characters (category Cf: zero-width spaces and joiners, bidi marks and
# overrides, invisible operators, tag characters U+E0000–U+E007F, the soft hyphen…) are
# invisible, so they are dropped; line and paragraph separators become line breaks, so a
# single-line field refuses them like any other line break; lone surrogates (Cs) can't be
# stored and are refused with the control characters (Cc).
_LINE_BREAKS = {"\u2028": "\n", "\u2029": "\n", "\r\n": "\n", "\r": "\n", "\x85": "\n"}
_REFUSED = {"Cc", "Cs"}


class Field:
    """The names of fields as errors say them (keys of `FIELD_NAMES`)."""

    TITLE = "title"
    GOAL = "goal"
    THRESHOLD = "threshold"
    ACTION = "action"
    ADDRESSEE = "addressee"
    LETTER = "letter text"
    ROLE = "role"
    COMMENT = "comment"
    DEADLINE = "deadline"
    LANGUAGE = "language"


FIELD_NAMES = {
    Field.TITLE: N_("title"),
    Field.GOAL: N_("goal"),
    Field.THRESHOLD: N_("threshold"),
    Field.ACTION: N_("action"),
    Field.ADDRESSEE: N_("addressee"),
    Field.LETTER: N_("letter text"),
    Field.ROLE: N_("role"),
    Field.COMMENT: N_("comment"),
    Field.DEADLINE: N_("deadline"),
    Field.LANGUAGE: N_("language"),
}


def field_name(field: str) -> str:
    return translate(FIELD_NAMES.get(field, field))


def parse_language(value: str, usage: str | None = None) -> str:
    """`lang:de`, `lang:pt-BR`…: a language we speak, or a friendly refusal listing them."""
    found = language_of(value)
    if found is None:
        raise UserError(
            _(
                "I don't speak `{value}` yet. Choose one of: {languages}.",
                value=value[:20],
                languages=", ".join(LANGUAGES),
            ),
            usage,
        )
    return found


def strip_invisible(value: str) -> str:
    if value.isascii():
        return value
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf")


def _normal_breaks(value: str) -> str:
    for old, new in _LINE_BREAKS.items():
        value = value.replace(old, new)
    return value


def _has_control(value: str, allow_newlines: bool) -> bool:
    for ch in value:
        if allow_newlines and ch in "\n\t":
            continue
        if unicodedata.category(ch) in _REFUSED:
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
    value = _normal_breaks(strip_invisible(value)).strip()
    if not value:
        if required:
            raise UserError(_("The {field} can't be empty.", field=field_name(field)), usage)
        return None
    if _has_control(value, multiline):
        raise UserError(
            _(
                "The {field} contains line breaks or control characters; please retype it as "
                "plain text.",
                field=field_name(field),
            ),
            usage,
        )
    if len(value) > limit:
        raise UserError(
            _(
                "The {field} is {length} characters long; the limit is {limit}.",
                field=field_name(field),
                length=number(len(value)),
                limit=number(limit),
            ),
            usage,
        )
    return value


def clean_display_name(value: str | None, fallback: str) -> str:
    """Platform-supplied names are cleaned rather than refused: the user did not type them here."""
    if value and value.isascii() and value.isprintable() and value.strip() == value:
        return value[:NAME_MAX]  # the common case: nothing to clean (no control or format char)
    value = strip_invisible(value or "")
    spaced = (" " if ch.isspace() else ch for ch in value)  # names are one line
    value = "".join(ch for ch in spaced if unicodedata.category(ch) not in _REFUSED).strip()
    return (value or fallback)[:NAME_MAX]


# Words the grammar reads as keywords after /sign, so they can't name a campaign.
# The local words for `anonymous` (`anonym`, `anonyme`, `anónimo`, `anônimo`) are read too.
ANONYMOUS_WORDS = frozenset(
    {
        "anonymous",
        "anonymously",
        "anon",
        "anonym",
        "anonyme",
        "anonymement",
        "anónimo",
        "anonimo",
        "anônimo",
        "anónima",
        "anonima",
        "anônima",
        "anonimamente",
        "anónimamente",
    }
)
RESERVED_SLUGS = frozenset({*ANONYMOUS_WORDS, "mine", "help"})


def check_slug(slug: str, usage: str | None = None) -> str:
    if slug in RESERVED_SLUGS:
        raise UserError(
            _("`{slug}` is a command word; pick another campaign name.", slug=slug), usage
        )
    if not SLUG_RE.match(slug):
        raise UserError(
            _(
                "`{slug}` can't be a campaign name: use 2–40 lowercase letters, digits or "
                "dashes, like `walkout-2026`.",
                slug=slug[:60],
            ),
            usage,
        )
    if len(slug) < 2:
        raise UserError(_("A campaign name needs at least 2 characters."), usage)
    return slug


def looks_like_slug(token: str) -> bool:
    return 2 <= len(token) <= 40 and bool(SLUG_RE.match(token))


def check_goal(goal: int, usage: str | None = None, *, field: str = "goal") -> int:
    if goal < 1:
        raise UserError(_("The {field} must be at least 1.", field=field_name(field)), usage)
    if goal > GOAL_MAX:
        raise UserError(
            _(
                "The {field} can be at most {limit}.",
                field=field_name(field),
                limit=number(GOAL_MAX),
            ),
            usage,
        )
    return goal


_RUNS = re.compile(r"(\d+)")


def name_order(name: str) -> tuple[tuple[int, int | str], ...]:
    """How people expect a list of names sorted: case and accents aside (Émile beside Emma),
    numbers by value (w2 before w10)."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c)
    )
    # isdecimal, not isdigit: "፩" or "²" are digits `int()` can't read (a signer chooses the name)
    parts = [part for part in _RUNS.split(plain) if part]
    runs = [(0, int(part)) if part.isdecimal() else (1, part) for part in parts]
    return (*runs, (2, name))
