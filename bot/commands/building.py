"""Turning named values (Discord options, form fields) into a command's intent.

Each builder receives the values and the command's own `Spec`, so it can name the command's
usage in an error without looking the registry up.
"""

from __future__ import annotations

from bot.commands.grammar import _language
from bot.commands.intents import Mine, Sign
from bot.commands.spec import Spec, Style, Values


def _text(values: Values, name: str) -> str | None:
    value = values.get(name)
    if value is None or value is False:
        return None
    text = str(value).strip()
    return text or None


def _keyed(spec: Spec, values: Values) -> dict[str, str]:
    return {
        o.name: text
        for o in spec.options
        if o.style is Style.KEY and (text := _text(values, o.name)) is not None
    }


def _slug(values: Values, name: str = "campaign") -> str | None:
    text = _text(values, name)
    return None if text is None else text.lower()


def _build_sign(v: Values, s: Spec) -> Sign | Mine:
    if _slug(v) == "mine":
        return Mine()
    return Sign(
        _slug(v),
        bool(v.get("anonymous")),
        _text(v, "role"),
        _text(v, "comment"),
        _language(_text(v, "lang"), s.usage_text()),
    )
