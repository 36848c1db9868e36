"""The one place a command is defined: its words, usage, help line and options
(`REGISTRY`), and the dispatch from a slash command's text to its intent.

The text grammar dispatches through it, `help` is written from it, and the adapters derive
Slack's form and Discord's command tree from it, so `/sign maven I'm in` means the same
everywhere and no platform lacks an option another has (a test walks it). Parsing never touches
the database; names of campaigns are resolved by the handlers.
"""

from __future__ import annotations

from dataclasses import replace as replace_option

from bot.commands.grammar import (
    EXPORT_FORMATS,
    PUBLISH_STATES,
    _change,
    _edit,
    _language,
    _nothing,
    _optional,
    _parse_edit,
    _parse_export,
    _parse_forget,
    _parse_new,
    _parse_organizers,
    _parse_publish,
    _parse_remind,
    _parse_sign,
    _parse_webhook,
    _slug_only,
)
from bot.commands.intents import (
    Audit,
    Close,
    Create,
    Export,
    ForgetMe,
    Help,
    ListCampaigns,
    Mine,
    Organizers,
    Post,
    Purge,
    Read,
    Remind,
    Reminders,
    Safety,
    Sign,
    Status,
    Unsign,
    Webhook,
)
from bot.commands.options import (
    _ACTION,
    _CAMPAIGN,
    _CHANGE,
    _DEADLINE,
    _GOAL,
    _LANG,
    _LETTER,
    _SOME_CAMPAIGN,
    _TITLE,
    _TO,
)
from bot.commands.spec import Option, Section, Spec, Style, ValueKind, Values
from bot.domain.messages import N_


def _text(values: Values, name: str) -> str | None:
    value = values.get(name)
    if value is None or value is False:
        return None
    text = str(value).strip()
    return text or None


def _keyed(spec_key: str, values: Values) -> dict[str, str]:
    return {
        o.name: text
        for o in REGISTRY_BY_KEY[spec_key].options
        if o.style is Style.KEY and (text := _text(values, o.name)) is not None
    }


def _slug(values: Values, name: str = "campaign") -> str | None:
    text = _text(values, name)
    return None if text is None else text.lower()


def _build_sign(v: Values) -> Sign | Mine:
    if _slug(v) == "mine":
        return Mine()
    return Sign(
        _slug(v),
        bool(v.get("anonymous")),
        _text(v, "role"),
        _text(v, "comment"),
        _language(_text(v, "lang"), usage("sign")),
    )


REGISTRY: tuple[Spec, ...] = (
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
        lambda v: Unsign(_slug(v)),
        (_SOME_CAMPAIGN,),
    ),
    Spec(
        "petition status",
        "status",
        N_("/petition status [CAMPAIGN]"),
        N_("the tally, pace and deadline"),
        Section.SIGNERS,
        _optional(Status),
        lambda v: Status(_slug(v)),
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
        lambda v: Read(_slug(v)),
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
        lambda v: ListCampaigns(),
        words=("ls",),
    ),
    Spec(
        "petition help",
        "help",
        N_("/petition help"),
        N_("how to use Undersigned"),
        Section.SIGNERS,
        _nothing(Help),
        lambda v: Help(),
        words=("", "?"),
        in_help=False,
    ),
    Spec(
        "petition new",
        "new",
        N_(
            '/petition new CAMPAIGN title:"Title" goal:1000 [deadline:2026-12-31] '
            '[to:"Addressee"] [lang:de] LETTER TEXT…   '
            '(a pledge: kind:pledge threshold:1000 action:"walk out" deadline:…)'
        ),
        N_("start a petition or, with an action, a pledge"),
        Section.ORGANIZERS,
        _parse_new,
        lambda v: Create(_slug(v, "slug") or "", _keyed("new", v), _text(v, "text")),
        (
            Option(
                "slug",
                ValueKind.NEW_NAME,
                Style.FIRST,
                N_("Short name (used in /sign)"),
                N_("The campaign's short name, used in /sign"),
                required=True,
                example="walkout-2026",
                in_form=True,
            ),
            replace_option(_TITLE, required=True, in_form=True),
            replace_option(_GOAL, required=True, in_form=True),
            replace_option(_DEADLINE, in_form=True),
            replace_option(_LETTER, required=True, in_form=True),
            _TO,
            _ACTION,
            Option(
                "kind",
                ValueKind.CHOICE,
                Style.KEY,
                N_("Kind"),
                N_("petition, or pledge (conditional: needs an action and a deadline)"),
                choices=("petition", "pledge"),
                choice_labels=(N_("Petition"), N_("Pledge (conditional)")),
                example="pledge",
            ),
            Option(
                "names",
                ValueKind.CHOICE,
                Style.KEY,
                N_("Who sees signers' names"),
                N_("Who sees signers' names (sealed: nobody until the goal; pledges' default)"),
                choices=("public", "sealed", "count-only"),
                choice_labels=(
                    N_("Public: named signers are listed"),
                    N_("Sealed: no names until the goal is reached"),
                    N_("Count only: names never shown in chat"),
                ),
                example="sealed",
            ),
            _LANG,
        ),
        words=("create",),
    ),
    Spec(
        "petition edit",
        "edit",
        N_(
            '/petition edit CAMPAIGN [title:"…"] [goal:N] [deadline:…] [to:"…"] [action:"…"] '
            "[lang:…] [NEW LETTER TEXT…]"
        ),
        N_("change a campaign (signers of earlier versions are told)"),
        Section.ORGANIZERS,
        _parse_edit,
        lambda v: _edit(_slug(v) or "", _keyed("edit", v), _text(v, "text"), usage("edit")),
        (_CAMPAIGN, _TITLE, _GOAL, _DEADLINE, _TO, _ACTION, _LETTER, _LANG),
    ),
    Spec(
        "petition close",
        "close",
        N_("/petition close CAMPAIGN"),
        N_("close to new signatures"),
        Section.ORGANIZERS,
        _slug_only(Close, N_("close")),
        lambda v: Close(_slug(v) or ""),
        (_CAMPAIGN,),
    ),
    Spec(
        "petition post",
        "post",
        N_("/petition post CAMPAIGN   (in the channel where it should be announced)"),
        N_("announce here with Sign buttons"),
        Section.ORGANIZERS,
        _slug_only(Post, N_("announce")),
        lambda v: Post(_slug(v) or ""),
        (_CAMPAIGN,),
        words=("announce",),
        in_channel=True,
    ),
    Spec(
        "petition organizers",
        "organizers",
        N_("/petition organizers CAMPAIGN [add|remove @someone]"),
        N_("list, add or remove organizers"),
        Section.ORGANIZERS,
        _parse_organizers,
        lambda v: Organizers(
            _slug(v) or "",
            *_change("organizers", _text(v, "change"), _text(v, "person"), usage("organizers")),
        ),
        (
            _CAMPAIGN,
            _CHANGE,
            Option(
                "person",
                ValueKind.PERSON,
                Style.REST,
                N_("Who"),
                N_("Who to add or remove"),
                example="<@U123ABC>",
            ),
        ),
        words=("organisers", "organizer"),
    ),
    Spec(
        "petition audit",
        "audit",
        N_("/petition audit CAMPAIGN"),
        N_("who did what, when"),
        Section.ORGANIZERS,
        _slug_only(Audit, N_("audit")),
        lambda v: Audit(_slug(v) or ""),
        (_CAMPAIGN,),
    ),
    Spec(
        "petition export",
        "export",
        N_("/petition export CAMPAIGN [md|csv|html]"),
        N_("the letter and signatories"),
        Section.ORGANIZERS,
        _parse_export,
        lambda v: Export(_slug(v) or "", _text(v, "format") or "md"),
        (
            _CAMPAIGN,
            Option(
                "format",
                ValueKind.CHOICE,
                Style.WORD,
                N_("Format"),
                N_("md, csv or html"),
                choices=EXPORT_FORMATS,
                example="csv",
            ),
        ),
    ),
    Spec(
        "petition publish",
        "publish",
        N_("/petition publish CAMPAIGN [off]"),
        N_("a public web page with the count"),
        Section.ORGANIZERS,
        _parse_publish,
        lambda v: _parse_publish(
            f"{_slug(v) or ''} {_text(v, 'state') or ''}", REGISTRY_BY_KEY["publish"]
        ),
        (
            _CAMPAIGN,
            Option(
                "state",
                ValueKind.CHOICE,
                Style.WORD,
                N_("Public page"),
                N_("on (publish) or off (take the page down at once)"),
                choices=PUBLISH_STATES,
                example="off",
            ),
        ),
    ),
    Spec(
        "petition purge",
        "purge",
        N_("/petition purge CAMPAIGN   (after it closed)"),
        N_("after close: remove identities"),
        Section.ORGANIZERS,
        _slug_only(Purge, N_("purge")),
        lambda v: Purge(_slug(v) or ""),
        (_CAMPAIGN,),
    ),
    Spec(
        "petition remind",
        "remind",
        N_("/petition remind CAMPAIGN SCHEDULE   (daily 09:00, weekdays 09:30 UTC, off)"),
        N_("reminders in this channel"),
        Section.ORGANIZERS,
        _parse_remind,
        lambda v: Remind(_slug(v) or "", _text(v, "schedule") or ""),
        (
            _CAMPAIGN,
            Option(
                "schedule",
                ValueKind.TEXT,
                Style.REST,
                N_("Schedule"),
                N_("daily 09:00, weekdays 09:30 Europe/Berlin, mondays 10:00, every 3 days, off"),
                required=True,
                example="weekdays 09:30",
            ),
        ),
        in_channel=True,
    ),
    Spec(
        "petition reminders",
        "reminders",
        N_("/petition reminders [CAMPAIGN]"),
        N_("reminders that are set"),
        Section.ORGANIZERS,
        _optional(Reminders),
        lambda v: Reminders(_slug(v)),
        (_SOME_CAMPAIGN,),
    ),
    Spec(
        "petition webhook",
        "webhook",
        N_("/petition webhook CAMPAIGN [add|remove URL]"),
        N_("list, add or remove webhooks"),
        Section.ORGANIZERS,
        _parse_webhook,
        lambda v: Webhook(
            _slug(v) or "",
            *_change("webhook", _text(v, "change"), _text(v, "url"), usage("webhook")),
        ),
        (
            _CAMPAIGN,
            _CHANGE,
            Option(
                "url",
                ValueKind.TEXT,
                Style.REST,
                N_("URL"),
                N_("The webhook's http(s) address"),
                example="https://example.org/hook",
            ),
        ),
        words=("webhooks",),
    ),
    Spec(
        "petition safety",
        "safety",
        N_("/petition safety"),
        N_("what others can see, and what is stored, before you sign"),
        Section.YOUR_DATA,
        _nothing(Safety),
        lambda v: Safety(),
        words=("safe", "privacy"),
    ),
    Spec(
        "petition mine",
        "mine",
        N_("/sign mine"),
        N_("what you signed, and how"),
        Section.YOUR_DATA,
        _nothing(Mine),
        lambda v: Mine(),
    ),
    Spec(
        "forget-me",
        "forget",
        N_("/forget-me   (then /forget-me confirm)"),
        N_("remove all your signatures everywhere"),
        Section.YOUR_DATA,
        _parse_forget,
        lambda v: ForgetMe(bool(v.get("confirm"))),
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
REGISTRY_BY_KEY = {spec.key: spec for spec in REGISTRY}
USAGE = {spec.key: spec.usage for spec in REGISTRY}  # in English, as written above


def usage(key: str) -> str:
    """A command's usage in the current language (its command words stay as typed)."""
    return REGISTRY_BY_KEY[key].usage_text()


def keys_of(key: str) -> set[str]:
    """Every `key:` the grammar reads for a command, aliases included."""
    return REGISTRY_BY_KEY[key].keys()
