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
    _next_word,
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
    Command,
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
from bot.commands.spec import Option, Section, Spec, Style, ValueKind, Values
from bot.domain.errors import UserError
from bot.domain.messages import LANGUAGES, N_, NATIVE_NAMES, _, number
from bot.domain.text import COMMAND_MAX


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
REGISTRY_BY_NAME = {spec.name: spec for spec in REGISTRY}
USAGE = {spec.key: spec.usage for spec in REGISTRY}  # in English, as written above


def usage(key: str) -> str:
    """A command's usage in the current language (its command words stay as typed)."""
    return REGISTRY_BY_KEY[key].usage_text()


def _words() -> dict[str, Spec]:
    found: dict[str, Spec] = {}
    for spec in REGISTRY:
        found[spec.name] = spec
        prefix = spec.name.rsplit(" ", 1)[0] + " " if " " in spec.name else ""
        for word in spec.words:
            found[f"{prefix}{word}".rstrip() if word else prefix.rstrip()] = spec
    return found


_BY_WORD = _words()


def keys_of(key: str) -> set[str]:
    """Every `key:` the grammar reads for a command, aliases included."""
    return REGISTRY_BY_KEY[key].keys()


# ---- from a slash command's text to its intent ------------------------------------------


def parse_quietly(command: str, args: str) -> Command | None:
    """The intent of a slash command, or None when the grammar refuses it (the service then
    says why, in the person's language)."""
    try:
        return parse(command, args)
    except UserError:
        return None


def parse_line(line: str) -> Command:
    """Parse a whole chat line such as `/sign walkout I'm in`."""
    word, rest = _next_word(line)
    if not word.startswith("/"):
        raise UserError(
            _("Commands start with a slash, like `/sign CAMPAIGN` or `/petition help`."),
            usage("help"),
        )
    return parse(word, rest)


def parse(command: str, args: str) -> Command:
    """Parse a slash command and its argument text, as platforms deliver them."""
    if len(args) > COMMAND_MAX:
        raise UserError(
            _(
                "That command is {length} characters long; the limit is {limit}.",
                length=number(len(args)),
                limit=number(COMMAND_MAX),
            ),
            usage("help"),
        )
    spec, rest = invoked(command, args)
    if spec is not None:
        return spec.parse(rest)
    name = command.strip().lower().lstrip("/")
    if name in _GROUPS:
        sub, _rest = _next_word(args)
        raise UserError(
            _(
                "`{word}` isn't a /petition command. Try {commands}.",
                word=sub[:30],
                commands=", ".join(
                    s.name.split()[1] for s in REGISTRY if s.name.startswith("petition ")
                ),
            ),
            usage("help"),
        )
    raise UserError(_("I don't know the command `/{name}`.", name=name[:30]), usage("help"))


_GROUPS = {"petition", "pledge", "undersigned"}


def invoked(command: str, args: str) -> tuple[Spec | None, str]:
    """Which command of the registry a slash command and its text invoke, and the text left
    for its options (adapters use it to open a form instead, say)."""
    name = command.strip().lower().lstrip("/")
    if name in _GROUPS:
        sub, rest = _next_word(args)
        return _BY_WORD.get(f"petition {sub.lower()}".strip()), rest
    return _BY_WORD.get(name), args
