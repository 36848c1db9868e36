"""Every sentence a user reads, through gettext catalogs (Babel), in the reader's language.

Code writes English source strings with named placeholders, `_("You signed **{title}**.",
title=...)`, and `ngettext` for plurals; `speaking(language)` chooses the language for a
stretch of work (a reply, a channel post, a page). Values are formatted after translation, so
user text is never read as a format string. Numbers, dates and durations are formatted for the
same language (4.000 in German, "dans 3 jours").

Catalogs live in `bot/locales/<lang>/LC_MESSAGES/messages.po`, next to the extracted template
`bot/locales/messages.pot`; they are compiled in memory when first used, so there is no build
step. `tests/test_catalogs.py` fails when a catalog misses, fuzzes or keeps a stale message.
"""

from __future__ import annotations

import gettext
import io
import logging
from contextvars import ContextVar
from datetime import date, datetime, timedelta, tzinfo
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_timedelta, get_datetime_format
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

SOURCE = "en"
LANGUAGES = ("en", "de", "fr", "es", "pt_BR")
# How each language names itself, for help and for the `lang:` option's answers.
NATIVE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
}
_SPOKEN = frozenset(LANGUAGES)
LOCALES = Path(__file__).parent.parent / "locales"
DOMAIN = "messages"

_current: ContextVar[str | None] = ContextVar("undersigned_language", default=None)


def language_of(tag: str | None) -> str | None:
    """The language we speak for a platform's or a person's tag, or None.

    Accepts `de`, `de-DE`, `de_AT.UTF-8`, `pt-BR`, `pt_PT` (Brazilian Portuguese is the
    closest we have), `es-419`, any case. `C`, `POSIX` and unknown languages give None.
    """
    if not tag:
        return None
    if tag in _SPOKEN:  # the common case, on every command: already one of ours
        return tag
    tag = tag.strip().split(".")[0].split("@")[0].replace("-", "_")
    base = tag.partition("_")[0].lower()
    if base == "pt":
        return "pt_BR"
    return base if base in LANGUAGES else None


def choose_language(tag: str | None) -> str:
    """A language we speak, from a setting: unknown tags are refused with the list."""
    found = language_of(tag)
    if found is None:
        raise ValueError(f"unknown language {tag!r}; choose one of {', '.join(LANGUAGES)}")
    return found


def current() -> str:
    return _current.get() or SOURCE


def speak_in_this_context(language: str) -> None:
    """What this task, and every task it starts, speaks when nothing says otherwise: the
    server's language (`Context.language`), set where serving begins. A context variable, not
    a global: two services in one process each speak their own."""
    _current.set(language_of(language) or SOURCE)


def campaign_language(language: str | None, house: str = SOURCE) -> str:
    """What a campaign (or a person) speaks: its own language, else `house`.

    A campaign stores the server's language (`UNDERSIGNED_LANGUAGE`, `Context.language`) when it
    is created without `lang:`, so the campaign's words never change with a setting; `house`
    matters for replies that concern no campaign.
    """
    return language_of(language) or house


class speaking:
    """Speak `language` (None: keep the current one) for the duration of the block. A class,
    not a generator: it wraps every command, reply and post."""

    __slots__ = ("_token", "language")

    def __init__(self, language: str | None) -> None:
        self.language = language_of(language) or current()

    def __enter__(self) -> str:
        self._token = _current.set(self.language)
        return self.language

    def __exit__(self, *_exc: object) -> None:
        _current.reset(self._token)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of a language, compiled from its `.po` in memory (fuzzy entries left out)."""
    if language == SOURCE:
        return gettext.NullTranslations()
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
    except OSError:  # a broken install: English rather than no answer (tests catch this)
        logging.getLogger(__name__).error("the %s catalog is missing: %s", language, path)
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str, /, **values: object) -> str:
    """`message` in the current language, with its `{placeholders}` filled from `values`."""
    text = translations(current()).gettext(message)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The plural form for `n` in the current language; `{n}` is `n` formatted for it."""
    text = translations(current()).ngettext(singular, plural, n)
    return text.format(n=number(n), **values)


def N_(message: str, /) -> str:
    """Marks a string for the catalog where it is defined; it is translated where it is used."""
    return message


def translate(message: str) -> str:
    """A string marked with `N_` elsewhere, in the current language."""
    return translations(current()).gettext(message) if message else message


# ---- numbers, dates and durations --------------------------------------------------------


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def number(value: int | float) -> str:
    return _number(value, current())


def percent(whole_percent: int) -> str:
    return _percent(whole_percent, current())


@lru_cache(maxsize=8192)
def _number(value: int | float, language: str) -> str:
    """Formatted once per value and language: counts move in steps, so replies repeat them."""
    return format_decimal(value, locale=_locale(language))


@lru_cache(maxsize=1024)
def _percent(whole_percent: int, language: str) -> str:
    return format_percent(whole_percent / 100, locale=_locale(language))


def listing(items: list[str]) -> str:
    """`a, b and c` in the current language."""
    return format_list(items, locale=current()) if items else ""


def day(moment: datetime, tz: tzinfo) -> str:
    """A weekday and date: `Thu, Nov 26, 2026`, `Do., 26. Nov. 2026`."""
    return format_skeleton("yMMMEd", moment.astimezone(tz), locale=current())


def short_day(moment: datetime, tz: tzinfo) -> str:
    """A weekday and date without the year: `Thu, Nov 26`, `jeu. 26 nov.`."""
    return format_skeleton("MMMEd", moment.astimezone(tz), locale=current())


def date_only(moment: datetime, tz: tzinfo) -> str:
    """A date for charts and pages: `Nov 26, 2026`, `26.11.2026`-like per language."""
    return format_skeleton("yMMMd", moment.astimezone(tz), locale=current())


def when(moment: datetime, tz: tzinfo) -> str:
    """A date and a time with the zone's abbreviation: `Thu, Nov 26, 2026, 17:00 CET`."""
    local = moment.astimezone(tz)
    return f"{_joined(format_skeleton('yMMMEd', local, locale=current()), local)} {local.tzname()}"


def clock(moment: datetime, tz: tzinfo) -> str:
    """A time within the day with the zone's abbreviation (`16:15 UTC`); a midnight with its
    day, so nobody wonders which one (`Tue, Dec 8, 00:00 UTC`)."""
    local = moment.astimezone(tz)
    if local.hour == 0 and local.minute == 0:
        return time_of_day(moment, tz)
    return f"{format_skeleton('Hm', local, locale=current())} {local.tzname()}"


def time_of_day(moment: datetime, tz: tzinfo) -> str:
    """A weekday, date and time without the year: `Thu, Nov 26, 09:00 CET`."""
    local = moment.astimezone(tz)
    return f"{_joined(format_skeleton('MMMEd', local, locale=current()), local)} {local.tzname()}"


def _joined(date_text: str, local: datetime) -> str:
    """A date and its 24-hour time, joined as the language joins them."""
    clock = format_skeleton("Hm", local, locale=current())
    pattern = get_datetime_format("medium", locale=current())
    return pattern.replace("{1}", date_text).replace("{0}", clock)


def duration(delta: timedelta) -> str:
    """How long, to the unit people care about: `3 days`, `1 day 4 hours`, `2 hours 5 minutes`."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days >= 2:
        return _unit(days, "day")
    if days == 1:
        return _unit(1, "day") + (" " + _unit(hours, "hour") if hours else "")
    if hours:
        return _unit(hours, "hour") + (" " + _unit(minutes, "minute") if minutes else "")
    return _unit(max(minutes, 1), "minute")


def _unit(amount: int, unit: str) -> str:
    seconds = {"day": 86_400, "hour": 3_600, "minute": 60}[unit]
    return format_timedelta(
        timedelta(seconds=amount * seconds),
        granularity=unit,
        threshold=10_000,
        format="long",
        locale=current(),
    )


def display_name(language: str) -> str:
    """A language's name in the language being spoken: `French`, `französisch`, `francés`."""
    name = Locale.parse(language).get_display_name(current()) or NATIVE_NAMES.get(language)
    return name or language


def from_accept_language(header: str | None) -> str | None:
    """The first language we speak among a browser's `Accept-Language`, by its q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag))
    for _quality, _index, tag in sorted(ranked):
        found = language_of(tag)
        if found:
            return found
    return None


def calendar_day(value: date) -> str:
    """A calendar date (no time of day): `Nov 26, 2026`, `26. Nov. 2026`."""
    return format_date(value, format="medium", locale=current())


def day_and_month(value: date) -> str:
    """A date without its year, for spans within a campaign: `Nov 26`, `26. Nov.`."""
    return format_skeleton("MMMd", datetime.combine(value, datetime.min.time()), locale=current())
