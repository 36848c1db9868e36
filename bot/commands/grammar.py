"""The text grammar: how the words typed after a command become an intent.

Each reader takes the text and the command's `Spec` (for its usage and its `key:` options), so
the grammar needs nothing of the registry that lists it (`bot/commands/registry.py`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from bot.commands.intents import (
    Command,
    Create,
    Edit,
    Export,
    ForgetMe,
    Mine,
    Organizers,
    Publish,
    Remind,
    Sign,
    Webhook,
)
from bot.commands.spec import Reads, Spec
from bot.domain.errors import UserError
from bot.domain.messages import N_, _, translate
from bot.domain.text import ANONYMOUS_WORDS, looks_like_slug, parse_language

_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'", "‘": "’"}

EXPORT_FORMATS = ("md", "csv", "html")
PUBLISH_STATES = ("on", "off")


def _next_word(text: str) -> tuple[str, str]:
    """Split off the first whitespace-delimited word, keeping the rest exactly as typed."""
    text = text.lstrip()
    for i, ch in enumerate(text):
        if ch.isspace():
            return text[:i], text[i:].lstrip()
    return text, ""


_KEY = re.compile(r"\s*([A-Za-z]{1,12}):")
_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"\S*")


def _options(text: str, keys: set[str], usage: str) -> tuple[dict[str, str], str]:
    """Read leading `key:value` or `key:"quoted value"` options of known keys.

    One pass with a moving position (no slicing of the rest), so a huge command full of
    options costs time in proportion to its length, never its square."""
    options: dict[str, str] = {}
    pos = 0
    bare: str | None = None  # the last option, when its value was one unquoted word
    while True:
        found = _KEY.match(text, pos)
        if found is None or found.group(1).lower() not in keys:
            rest = _refuse_near_miss(text[pos:].strip(), found, keys, usage)
            _refuse_unquoted(bare, options, rest, keys, usage)
            return options, _unescaped(rest)
        key = found.group(1).lower()
        bare = None
        pos = _SPACE.match(text, found.end()).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] in _QUOTES:
            end = text.find(_QUOTES[text[pos]], pos + 1)
            if end < 0:
                raise UserError(
                    _("The value of `{key}:` opens a quote that never closes.", key=key), usage
                )
            options[key] = text[pos + 1 : end]
            pos = end + 1
            continue
        word = _WORD.match(text, pos)
        assert word is not None
        if not word.group():
            raise UserError(_("`{key}:` needs a value, like `{key}:something`.", key=key), usage)
        options[key] = word.group()
        bare = key
        pos = word.end()


_LATER_KEY = re.compile(r"(?:^|\s)([A-Za-z]{1,12}):(?=\S)")


def _refuse_unquoted(
    bare: str | None, options: dict[str, str], rest: str, keys: set[str], usage: str
) -> None:
    """`title:Walk out for Maven goal:10 …`: the title ended at `Walk`, so `goal:` became the
    letter's text. When an unquoted value is followed, within the same line, by words and then
    an option not given yet, the value surely had spaces: say that it needs quotes."""
    if bare is None or not rest:
        return
    line = rest.split("\\n", 1)[0].split("\n", 1)[0]
    for later in _LATER_KEY.finditer(line):
        word = later.group(1).lower()
        if word in keys and word not in options:
            words = f"{options[bare]} {line[: later.start()].strip()}".strip()
            raise UserError(
                _(
                    'A value with spaces needs quotes: `{key}:"{value}"`. Without them '
                    "`{key}:` ended at `{first}`, and `{later}:` would have become the text.",
                    key=bare,
                    value=words[:80],
                    first=options[bare][:40],
                    later=word,
                ),
                usage,
            )


def _refuse_near_miss(rest: str, found: re.Match[str] | None, keys: set[str], usage: str) -> str:
    """`dealine:2026-12-31` where an option may stand is a typo of `deadline:`, not the first
    word of the text: refused, saying what was meant and how to begin a text with that word
    (a backslash before it). A word like no option (`Note:`) begins the text as typed."""
    if found is None:
        return rest
    typed = found.group(1)
    close = difflib.get_close_matches(typed.lower(), sorted(keys), n=1, cutoff=0.75)
    if not close:
        return rest
    raise UserError(
        _(
            "Unknown option `{typed}:`. Did you mean `{option}:`? To begin the text with that "
            "word, put a backslash before it: `\\{typed}:`.",
            typed=typed,
            option=close[0],
        ),
        usage,
    )


def _unescaped(rest: str) -> str:
    """`\\dealine: …` begins the text with `dealine: …` (the backslash said it is meant)."""
    return rest[1:] if rest.startswith("\\") and _KEY.match(rest, 1) else rest


def _parse_forget(args: str, spec: Spec) -> ForgetMe:
    word = args.strip().lower()
    if word not in {"", "confirm"}:
        raise UserError(
            _("Say `/forget-me` to see what would go, then `/forget-me confirm`."),
            spec.usage_text(),
        )
    return ForgetMe(confirm=word == "confirm")


def _parse_sign(args: str, spec: Spec) -> Sign | Mine:
    if args.strip().lower() == "mine":
        return Mine()
    how = spec.usage_text()
    slug = None
    anonymous = False
    role = None
    rest = args.strip()
    first, after = _next_word(rest)
    if looks_like_slug(first) and first not in ANONYMOUS_WORDS:
        slug, rest = first, after
    word, after = _next_word(rest)
    if word.lower() in ANONYMOUS_WORDS:
        anonymous, rest = True, after
    options, rest = _options(rest, {"role", "as", "lang"}, how)
    role = options.get("role") or options.get("as")
    if not anonymous:
        word, after = _next_word(rest)
        if word.lower() in ANONYMOUS_WORDS:
            anonymous, rest = True, after
    return Sign(
        slug=slug,
        anonymous=anonymous,
        role=role,
        comment=rest or None,
        lang=_language(options.get("lang"), how),
    )


def _language(value: str | None, how: str) -> str | None:
    return None if value is None else parse_language(value, how)


def _optional_slug(args: str, usage: str) -> str | None:
    word, rest = _next_word(args)
    if not word:
        return None
    if rest:
        raise UserError(
            _("I expected just a campaign name, not `{text}`.", text=args.strip()[:60]), usage
        )
    return word.lower()


def _required_slug(args: str, usage: str, doing: str) -> tuple[str, str]:
    word, rest = _next_word(args)
    if not word:
        raise UserError(_("Which campaign do you want to {doing}?", doing=translate(doing)), usage)
    return word.lower(), rest


def _named_slug(args: str, spec: Spec, doing: str) -> tuple[str, str]:
    """The campaign's short name, which comes before the options: `titel:"…"` in its place
    is an option (or a typo of one) typed first, not a name to be refused as a bad one."""
    slug, rest = _required_slug(args, spec.usage_text(), doing)
    found = _KEY.match(slug)
    if found is None:
        return slug, rest
    typed, command = found.group(1), f"/{spec.name}"
    message = _(
        "Begin with the campaign's short name, one word like `walkout-2026`, then the "
        "options: `{command} walkout-2026 {option}:…`.",
        command=command,
        option=typed.lower(),
    )
    keys = spec.keys()
    close = difflib.get_close_matches(typed.lower(), sorted(keys), n=1, cutoff=0.75)
    if typed.lower() not in keys and close:
        message += " " + _(
            "And `{typed}:` isn't an option: did you mean `{option}:`?",
            typed=typed,
            option=close[0],
        )
    raise UserError(message, spec.usage_text())


def _slug_only(make: Callable[[str], Command], doing: str) -> Reads:
    """A command taking a campaign's name and nothing else."""

    def parse_it(args: str, spec: Spec) -> Command:
        slug, rest = _required_slug(args, spec.usage_text(), doing)
        if rest:
            raise UserError(
                _("`{command}` takes only the campaign name.", command=spec.name),
                spec.usage_text(),
            )
        return make(slug)

    return parse_it


def _optional(make: Callable[[str | None], Command]) -> Reads:
    return lambda args, spec: make(_optional_slug(args, spec.usage_text()))


def _nothing(make: Callable[[], Command]) -> Reads:
    return lambda _args, _spec: make()


def _letter(text: str) -> str | None:
    """A letter typed on one line (a slash command has only one): `\\n` starts a new line,
    so `Para one.\\n\\nPara two.` is two paragraphs."""
    return text.replace("\\n", "\n") or None


def _parse_new(args: str, spec: Spec) -> Create:
    slug, rest = _named_slug(args, spec, N_("create"))
    options, text = _options(rest, spec.keys(), spec.usage_text())
    if not options and text:  # `new bad slug title:…`: the options came after a second word
        second, after = _next_word(text)
        if _options(after, spec.keys(), spec.usage_text())[0]:
            raise UserError(
                _(
                    "A campaign's short name is one word, without spaces: "
                    "`{slug}-{word}` rather than `{slug} {word}`.",
                    slug=slug,
                    word=second.lower()[:40],
                ),
                spec.usage_text(),
            )
    return Create(slug=slug, options=options, text=_letter(text))


def _parse_edit(args: str, spec: Spec) -> Edit:
    slug, rest = _named_slug(args, spec, N_("edit"))
    options, text = _options(rest, spec.keys(), spec.usage_text())
    return _edit(slug, options, _letter(text), spec.usage_text())


def _edit(slug: str, options: dict[str, str], text: str | None, usage: str) -> Edit:
    if not options and not text:
        raise UserError(_("Tell me what to change: new letter text, or an option."), usage)
    return Edit(slug=slug, options=options, text=text)


def _parse_organizers(args: str, spec: Spec) -> Organizers:
    slug, rest = _required_slug(args, spec.usage_text(), N_("manage"))
    change, person = _next_word(rest)
    change = change.lower()
    if not change:
        return Organizers(slug)
    return Organizers(slug, *_change("organizers", change, person.strip(), spec.usage_text()))


_CHANGE_HELP = {
    "organizers": N_("Say `add @someone` or `remove @someone`."),
    "webhook": N_("Say `add URL` or `remove URL`."),
}


def _change(
    key: str, change: str | None, target: str | None, usage: str
) -> tuple[str | None, str | None]:
    """`add X` or `remove X`, both or neither; anything else is refused the same everywhere."""
    if not change and not target:
        return None, None
    if (change or "").lower() not in {"add", "remove"} or not target:
        raise UserError(translate(_CHANGE_HELP[key]), usage)
    return (change or "").lower(), target


def _parse_export(args: str, spec: Spec) -> Export:
    slug, rest = _required_slug(args, spec.usage_text(), N_("export"))
    fmt = rest.strip().lower() or "md"
    if fmt not in EXPORT_FORMATS:
        raise UserError(_("Exports come as `md`, `csv` or `html`."), spec.usage_text())
    return Export(slug, fmt)


def _parse_publish(args: str, spec: Spec) -> Publish:
    slug, rest = _required_slug(args, spec.usage_text(), N_("publish"))
    word = rest.strip().lower() or "on"
    if word not in PUBLISH_STATES:
        raise UserError(_("Say `on` or `off` after the campaign's name."), spec.usage_text())
    return Publish(slug, word)


def _parse_remind(args: str, spec: Spec) -> Remind:
    slug, rest = _required_slug(args, spec.usage_text(), N_("remind people of"))
    return Remind(slug, rest.strip())


def _parse_webhook(args: str, spec: Spec) -> Webhook:
    slug, rest = _required_slug(args, spec.usage_text(), N_("connect"))
    change, url = _next_word(rest)
    return Webhook(slug, *_change("webhook", change, url.strip(), spec.usage_text()))
