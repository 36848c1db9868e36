"""How a command is described: its options, their kinds and styles, and its `Spec`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bot.commands.intents import Command
from bot.domain.messages import current as current_language
from bot.domain.messages import translate

Reads = Callable[[str, "Spec"], Command]


@lru_cache(maxsize=256)
def _usage(usage: str, language: str) -> str:
    return translate(usage)


class ValueKind(StrEnum):
    """What an option holds; each platform picks its widget from this."""

    CAMPAIGN = "campaign"  # an existing campaign's name (autocompleted where possible)
    NEW_NAME = "new-name"  # the name of a campaign being created
    TEXT = "text"  # one line
    LONG_TEXT = "long-text"  # a letter: several lines
    NUMBER = "number"
    FLAG = "flag"  # typed as its own name (`anonymous`, `confirm`)
    CHOICE = "choice"  # one of `choices`
    PERSON = "person"  # a mention


class Style(StrEnum):
    """Where an option sits in the text grammar."""

    FIRST = "first"  # the first word: `/petition close walkout`
    WORD = "word"  # a word of its own: `anonymous`, `add`, `csv`
    KEY = "key"  # `key:value` or `key:"quoted value"`
    REST = "rest"  # everything left: a comment, a letter, a schedule


class Section(StrEnum):
    SIGNERS = "signers"
    ORGANIZERS = "organizers"
    YOUR_DATA = "your data"


@dataclass(frozen=True)
class Option:
    name: str  # the text grammar's key, Discord's parameter and the forms' field id
    kind: ValueKind
    style: Style
    label: str  # a form's field label (at most 45 characters: Discord's limit)
    describe: str = ""  # a line of help (at most 100 characters: Discord's limit)
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other keys the grammar accepts: `threshold:` for `goal:`
    example: str = ""
    in_form: bool = False  # asked in the creation form (Discord: the modal) not as an option
    choice_labels: tuple[str, ...] = ()  # how each choice reads in a form's menu


Values = Mapping[str, str | bool | None]


@dataclass(frozen=True)
class Spec:
    """One command: how it is typed, explained, offered, and turned into an intent."""

    name: str  # as invoked: "sign", "petition new"
    key: str  # its usage key: "sign", "new"
    usage: str
    summary: str  # for help (empty: usage only) and Discord's description
    section: Section
    reads: Reads  # the text after the command's words (bot/commands/grammar.py)
    build: Callable[[Values, Spec], Command]  # from named values (bot/commands/building.py)
    options: tuple[Option, ...] = ()
    words: tuple[str, ...] = ()  # other words for it: "tally" for "status"
    in_channel: bool = False  # acts on the channel it is used in (post, remind)
    in_help: bool = True

    def parse(self, args: str) -> Command:
        """The intent of the text typed after the command's words."""
        return self.reads(args, self)

    def intent(self, values: Values) -> Command:
        """The intent of named values: Discord's options, a form's fields."""
        return self.build(values, self)

    def usage_text(self) -> str:
        """The usage in the current language (its command words stay as typed)."""
        return _usage(self.usage, current_language())

    def keys(self) -> set[str]:
        """Every `key:` the grammar reads for this command, aliases included."""
        return {name for o in self.options if o.style is Style.KEY for name in (o.name, *o.aliases)}

    def line(self, values: Values) -> str:
        """The command as typed in chat for these values (for tests and examples)."""
        parts = [f"/{self.name}"]
        for style in (Style.FIRST, Style.WORD, Style.KEY, Style.REST):
            for option in self.options:
                value = values.get(option.name)
                if option.style is not style or value in (None, False, ""):
                    continue
                if option.kind is ValueKind.FLAG:
                    parts.append(option.name)
                elif style is Style.KEY:
                    parts.append(f'{option.name}:"{value}"')
                else:
                    parts.append(str(value))
        return " ".join(parts)
