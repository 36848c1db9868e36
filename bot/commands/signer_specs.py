"""The commands signers use: to sign, read, withdraw, and see or erase what is stored of them."""

from __future__ import annotations

from dataclasses import replace as replace_option

from bot.commands.building import _build_sign, _slug
from bot.commands.grammar import (
    _nothing,
    _optional,
    _parse_forget,
    _parse_sign,
)
from bot.commands.intents import (
    ForgetMe,
    Help,
    ListCampaigns,
    Mine,
    Read,
    Safety,
    Status,
    Unsign,
)
from bot.commands.options import (
    _LANG,
    _SOME_CAMPAIGN,
)
from bot.commands.spec import Option, Section, Spec, Style, ValueKind
from bot.domain.messages import N_

SIGNING: tuple[Spec, ...] = (
    Spec(
        "sign",
        "sign",
        N_('/sign [CAMPAIGN] [anonymous] [role:"Your role"] [lang:de] [comment]'),
        N_("sign (add `anonymous` to keep your name out of it entirely)"),
        Section.SIGNERS,
        _parse_sign,
        _build_sign,
        (
            _SOME_CAMPAIGN,
            Option(
                "anonymous",
                ValueKind.FLAG,
                Style.WORD,
                N_("Anonymously"),
                N_("Leave no name or account with your signature"),
            ),
            Option(
                "role",
                ValueKind.TEXT,
                Style.KEY,
                N_("Your role"),
                N_("Your role or title (optional)"),
                aliases=("as",),
                example="Staff engineer",
            ),
            Option(
                "comment",
                ValueKind.TEXT,
                Style.REST,
                N_("Comment"),
                N_("Why you sign (optional, up to 500 characters)"),
                example="Count me in",
            ),
            replace_option(
                _LANG,
                label=N_("Language of the reply"),
                describe=N_("The language of my reply: en, de, fr, es or pt_BR"),
            ),
        ),
    ),
    Spec(
        "unsign",
        "unsign",
        N_("/unsign [CAMPAIGN]"),
        N_("withdraw your signature"),
        Section.SIGNERS,
        _optional(Unsign),
        lambda v, s: Unsign(_slug(v)),
        (_SOME_CAMPAIGN,),
    ),
    Spec(
        "petition status",
        "status",
        N_("/petition status [CAMPAIGN]"),
        N_("the tally, pace and deadline"),
        Section.SIGNERS,
        _optional(Status),
        lambda v, s: Status(_slug(v)),
        (_SOME_CAMPAIGN,),
        words=("tally", "show"),
    ),
    Spec(
        "petition read",
        "read",
        N_("/petition read [CAMPAIGN]"),
        N_("the whole letter"),
        Section.SIGNERS,
        _optional(Read),
        lambda v, s: Read(_slug(v)),
        (_SOME_CAMPAIGN,),
        words=("letter", "text"),
    ),
    Spec(
        "petition list",
        "list",
        N_("/petition list"),
        N_("every campaign"),
        Section.SIGNERS,
        _nothing(ListCampaigns),
        lambda v, s: ListCampaigns(),
        words=("ls",),
    ),
    Spec(
        "petition help",
        "help",
        N_("/petition help"),
        N_("how to use Undersigned"),
        Section.SIGNERS,
        _nothing(Help),
        lambda v, s: Help(),
        words=("", "?"),
        in_help=False,
    ),
)


YOUR_DATA: tuple[Spec, ...] = (
    Spec(
        "petition safety",
        "safety",
        N_("/petition safety"),
        N_("what others can see, and what is stored, before you sign"),
        Section.YOUR_DATA,
        _nothing(Safety),
        lambda v, s: Safety(),
        words=("safe", "privacy"),
    ),
    Spec(
        "petition mine",
        "mine",
        N_("/sign mine"),
        N_("what you signed, and how"),
        Section.YOUR_DATA,
        _nothing(Mine),
        lambda v, s: Mine(),
    ),
    Spec(
        "forget-me",
        "forget",
        N_("/forget-me   (then /forget-me confirm)"),
        N_("remove all your signatures everywhere"),
        Section.YOUR_DATA,
        _parse_forget,
        lambda v, s: ForgetMe(bool(v.get("confirm"))),
        (
            Option(
                "confirm",
                ValueKind.FLAG,
                Style.WORD,
                N_("Confirm"),
                N_("Set to True to really delete them"),
            ),
        ),
        words=("forgetme", "forget"),
    ),
)
