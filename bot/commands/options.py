"""The options several commands share, and the builders that turn named values (Discord
options, form fields) into intents.
"""

from __future__ import annotations

from bot.commands.spec import Option, Style, ValueKind
from bot.domain.messages import LANGUAGES, N_, NATIVE_NAMES

_CAMPAIGN = Option(
    "campaign",
    ValueKind.CAMPAIGN,
    Style.FIRST,
    N_("Campaign"),
    N_("Which campaign"),
    required=True,
    example="walkout",
)
_SOME_CAMPAIGN = Option(
    "campaign",
    ValueKind.CAMPAIGN,
    Style.FIRST,
    N_("Campaign"),
    N_("Which campaign (leave out when only one is open)"),
    example="walkout",
)
_TITLE = Option(
    "title", ValueKind.TEXT, Style.KEY, N_("Title"), N_("The title"), example="No tech for ICE"
)
_GOAL = Option(
    "goal",
    ValueKind.NUMBER,
    Style.KEY,
    N_("Goal (signatures) or threshold (pledgers)"),
    N_("Signatures wanted, or a pledge's threshold"),
    aliases=("threshold",),
    example="1000",
)
_DEADLINE = Option(
    "deadline",
    ValueKind.TEXT,
    Style.KEY,
    N_("Deadline (YYYY-MM-DD), optional for petitions"),
    N_("YYYY-MM-DD or YYYY-MM-DDTHH:MM"),
    example="2026-12-31",
)
_TO = Option(
    "to",
    ValueKind.TEXT,
    Style.KEY,
    N_("Addressed to"),
    N_("Who the letter is addressed to"),
    aliases=("addressee",),
    example="the CEO",
)
_ACTION = Option(
    "action",
    ValueKind.TEXT,
    Style.KEY,
    N_("Pledges only: I will…"),
    N_('For a pledge: what everyone will do, e.g. "walk out"'),
    example="walk out",
)
_LETTER = Option(
    "text",
    ValueKind.LONG_TEXT,
    Style.REST,
    N_("The letter"),
    N_("The letter's text"),
    example="We, the undersigned…",
)

_LANG = Option(
    "lang",
    ValueKind.CHOICE,
    Style.KEY,
    N_("Language of its posts and page"),
    N_("The language of its channel posts and public page: en, de, fr, es or pt_BR"),
    choices=LANGUAGES,
    choice_labels=tuple(NATIVE_NAMES[language] for language in LANGUAGES),
    example="de",
)

_CHANGE = Option(
    "change",
    ValueKind.CHOICE,
    Style.WORD,
    N_("Change"),
    N_("add or remove"),
    choices=("add", "remove"),
)
