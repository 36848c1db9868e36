"""The catalogs: complete, current, well-formed, and every message renders in every language.

CI runs these with the rest of the suite: a message added to the code without running
`pybabel extract`, a translation left fuzzy or missing, a stale entry, or a translation that
drops a placeholder fails here, before anyone reads English in the middle of German.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from bot import commands as cmd
from bot.domain import messages
from bot.domain.messages import LANGUAGES, SOURCE, speaking, translate

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "bot" / "locales" / "messages.pot"
TRANSLATED = [language for language in LANGUAGES if language != SOURCE]
SLACK_SECTION = 3000
DISCORD_CONTENT = 2000

# Messages that may read the same in a language (command syntax, codes, proper names):
# everything else left identical to the English is a missing translation.
SAME_EVERYWHERE = {
    "/petition help",
    "/petition list",
    "/petition safety",
    "/sign mine",
    "URL",
    "{count}/{goal}",
    "`{slug}`: **{title}**: {count}/{goal} ({state})",
    "**{title}** (version {version})",
    "Version {version}.",
    "version {version}",
    "Format",
    "Campaign",
    "daily 09:00, weekdays 09:30 Europe/Berlin, mondays 10:00, every 3 days, off",
}
SAME_IN = {
    "de": {"Petition", "Kind", "Webhooks of **{title}**:", "Format", "Name", "Version {version}."},
    "fr": {"Signatures", "action", "Type", "{n} signatures."},
    "es": {"Format"},
    "pt_BR": {"Format"},
}


def _config() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """The method map of `babel.cfg`, as `pybabel extract -F babel.cfg` reads it."""
    methods, options = [], {}
    for line in (ROOT / "babel.cfg").read_text().splitlines():
        found = re.fullmatch(r"\[(\w+):\s*(.+)\]", line.strip())
        if found:
            methods.append((found.group(2), found.group(1)))
            options[found.group(2)] = {}
    return methods, options


def _extracted() -> set[str | tuple[str, ...]]:
    """What `pybabel extract -F babel.cfg` finds (directories starting with . are skipped)."""
    methods, options = _config()
    return {
        message if isinstance(message, str) else tuple(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), methods, options
        )
    }


def _catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _key(message: Any) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def _messages(catalog: Catalog) -> list[Any]:
    return [m for m in catalog if m.id]


def test_the_template_is_up_to_date_with_the_code() -> None:
    in_code = _extracted()
    in_template = {_key(m) for m in _messages(_catalog(TEMPLATE))}
    assert in_code - in_template == set(), "new messages: run pybabel extract (README)"
    assert in_template - in_code == set(), "removed messages: run pybabel extract (README)"
    assert len(in_template) > 300


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_is_complete_current_and_not_fuzzy(language: str) -> None:
    template = {_key(m) for m in _messages(_catalog(TEMPLATE))}
    catalog = _catalog(ROOT / "bot/locales" / language / "LC_MESSAGES/messages.po", language)
    assert not catalog.fuzzy, "a fuzzy header drops the plural rule from the compiled catalog"
    entries = {_key(m): m for m in _messages(catalog)}
    assert template - set(entries) == set(), f"{language}: untranslated messages"
    assert set(entries) - template == set(), f"{language}: stale messages (run pybabel update)"
    assert not catalog.obsolete, f"{language}: obsolete (#~) entries"
    for key, message in entries.items():
        assert not message.fuzzy, f"{language}: fuzzy: {key!r}"
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(form.strip() for form in forms), f"{language}: empty: {key!r}"
        if isinstance(key, tuple):
            assert len(forms) == catalog.num_plurals, f"{language}: plural forms of {key!r}"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    catalog = _catalog(ROOT / "bot/locales" / language / "LC_MESSAGES/messages.po", language)
    for message in _messages(catalog):
        if isinstance(message.id, str):
            assert _fields(message.string) == _fields(message.id), (language, message.id)
            continue
        source = _fields(message.id[0]) | _fields(message.id[1]) | {"n"}
        for form in message.string:
            assert _fields(form) <= source, (language, message.id[0], form)
            # Only `{n}` may be left out (a singular can say "your signature").
            assert source - {"n"} <= _fields(form), (language, message.id[0], form)


SAMPLES = {
    "title": "T" * 200,  # the longest title allowed
    "slug": "s" * 40,
    "name": "N" * 80,
    "names": ", ".join(["N" * 80] * 5),
    "who": "slack:T0123456789:U0123456789",
    "addressee": "A" * 200,
    "action": "a" * 200,
    "doing": "sign it",
    "field": "title",
    "key": "goal",
    "value": "v" * 40,
    "text": "t" * 60,
    "usage": "u" * 200,
    "url": "https://example.org/" + "h" * 480,
    "secret": "0" * 48,
    "summary": "Changed: " + "x" * 400,
    "changes": "y" * 400,
    "groups": "g" * 300,
    "campaigns": ", ".join(["`" + "s" * 40 + "`"] * 10),
    "commands": "status, read, list, help, new, edit, close, post, organizers, audit",
    "languages": "en, de, fr, es, pt_BR",
    "language": "Português (Brasil)",
    "workspace": "W" * 100,
    "schedule": "weekdays 09:30 America/Argentina/Buenos_Aires",
    "platform": "discord",
    "channel": "1" * 20,
    "zone": "z" * 40,
    "rule": "r" * 200,
    "state": "succeeded",
    "format": "html",
    "command": "petition close",
    "word": "w" * 30,
    "user": "someone",
}


def _sample(name: str) -> str:
    if name in SAMPLES:
        return SAMPLES[name]
    if name in {"day", "when", "deadline", "first", "last", "old", "new"}:
        return messages.when(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), UTC)
    if name == "duration":
        return messages.duration(timedelta(days=1, hours=23))
    if name == "percent":
        return messages.percent(100)
    return messages.number(10_000_000)  # counts, goals, limits: the largest allowed


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_renders_in_every_language_within_the_limits(language: str) -> None:
    template = _messages(_catalog(TEMPLATE))
    with speaking(language):
        for message in template:
            if isinstance(message.id, str):
                texts = [messages._(message.id, **{f: _sample(f) for f in _fields(message.id)})]
            else:
                fields = _fields(message.id[0]) | _fields(message.id[1])
                values = {f: _sample(f) for f in fields - {"n"}}
                texts = [messages.ngettext(*message.id, n, **values) for n in (0, 1, 2, 10**6)]
            for text in texts:
                assert "{" not in text.replace("{{", ""), (language, message.id, text)
                assert len(text) <= min(SLACK_SECTION, DISCORD_CONTENT), (language, text[:80])


@pytest.mark.parametrize("language", LANGUAGES)
def test_form_labels_and_descriptions_fit_the_platforms(language: str) -> None:
    """Discord: labels ≤ 45, descriptions ≤ 100, choice names ≤ 100; Slack: a modal's title
    and buttons ≤ 24, option texts ≤ 75."""
    with speaking(language):
        for words in ("New campaign", "Create", "Cancel", "Close"):
            assert len(messages._(words)) <= 24, (language, words)
        for spec in cmd.REGISTRY:
            assert len(translate(spec.summary)) <= 100, (language, spec.summary)
            for option in spec.options:
                assert len(translate(option.label)) <= 45, (language, option.label)
                assert len(translate(option.describe)) <= 100, (language, option.describe)
                for label in option.choice_labels:
                    assert len(translate(label)) <= 75, (language, label)


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_english_is_left_in_another_language(language: str) -> None:
    catalog = _catalog(ROOT / "bot/locales" / language / "LC_MESSAGES/messages.po", language)
    allowed = SAME_EVERYWHERE | SAME_IN[language]
    same = []
    for message in _messages(catalog):
        source = message.id if isinstance(message.id, str) else message.id[1]
        translated = message.string if isinstance(message.string, str) else message.string[-1]
        command_line = source.startswith("/") and source == translated
        if translated == source and source not in allowed and not command_line:
            same.append(source)
    assert same == [], f"{language}: left in English: {same[:5]}"


def test_numbers_dates_and_durations_follow_the_language() -> None:
    moment = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    expected = {
        "en": ("4,000", "3 days", "Thu, Nov 26, 2026"),
        "de": ("4.000", "3 Tage", "Do., 26. Nov. 2026"),
        "fr": ("4\u202f000", "3\u00a0jours", "jeu. 26 nov. 2026"),
        "es": ("4.000", "3 días", "jue, 26 nov 2026"),
        "pt_BR": ("4.000", "3 dias", "qui., 26 de nov. de 2026"),
    }
    for language, (four_thousand, three_days, day) in expected.items():
        with speaking(language):
            assert messages.number(4000) == four_thousand, language
            assert messages.duration(timedelta(days=3)) == three_days, language
            assert messages.day(moment, UTC) == day, language
    with speaking("de"):
        assert messages.number(40_000) == "40.000"
        assert messages.duration(timedelta(days=1, hours=4)) == "1 Tag 4 Stunden"
        assert messages.calendar_day(date(2026, 12, 31)) == "31.12.2026"
        assert messages.ngettext("{n} signature.", "{n} signatures.", 4000) == (
            "4.000 Unterschriften."
        )
    with speaking("fr"):  # French: 0 and 1 are singular
        assert messages.ngettext("{n} signature.", "{n} signatures.", 0) == "0 signature."
        assert messages.percent(45) == "45\u00a0%"


def test_tags_from_platforms_and_terminals_map_to_a_language() -> None:
    cases = {
        "de": "de",
        "de-DE": "de",
        "de_AT.UTF-8": "de",
        "pt-BR": "pt_BR",
        "pt_PT": "pt_BR",
        "es-419": "es",
        "es-ES": "es",
        "FR": "fr",
        "en-US": "en",
        "C": None,
        "POSIX": None,
        "ja": None,
        "": None,
        None: None,
    }
    for tag, language in cases.items():
        assert messages.language_of(tag) == language, tag
    assert messages.from_accept_language("ja, fr-CH;q=0.9, de;q=0.95") == "de"
    assert messages.from_accept_language("xx;q=1, es;q=0") is None
    assert messages.from_accept_language("q=;;,,") is None


@given(st.text(max_size=300))
def test_any_accept_language_or_tag_gives_a_language_we_speak_or_none(header: str) -> None:
    """A stranger's header or a platform's tag never raises and never invents a language."""
    assert messages.from_accept_language(header) in (None, *LANGUAGES)
    assert messages.language_of(header) in (None, *LANGUAGES)
