"""Commands: the intents, one registry of every command, and the text grammar.

The registry (`REGISTRY`, at the end) is the one place a command is defined: its words, usage,
help line and options. The text grammar dispatches through it, `help` is written from it, and
the adapters derive Slack's form and Discord's command tree from it, so `/sign maven I'm in`
means the same everywhere and no platform lacks an option another has (a test walks it).
Parsing never touches the database; names of campaigns are resolved by the service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import replace as replace_option
from enum import StrEnum

from bot.errors import UserError
from bot.text import COMMAND_MAX, looks_like_slug

ANONYMOUS_WORDS = {"anonymous", "anonymously", "anon"}
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'", "‘": "’"}


@dataclass(frozen=True)
class Sign:
    slug: str | None
    anonymous: bool = False
    role: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Consent:
    """A first-time signer's choice after the safety notice (from a button, never typed)."""

    slug: str
    choice: str  # "named", "anonymous" or "not-now"
    draft: str | None = None


@dataclass(frozen=True)
class Safety:
    """What others can see, and what Undersigned stores: the safety notice, on demand."""


@dataclass(frozen=True)
class Unsign:
    slug: str | None


@dataclass(frozen=True)
class Status:
    slug: str | None


@dataclass(frozen=True)
class Read:
    slug: str | None


@dataclass(frozen=True)
class ListCampaigns:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Create:
    slug: str
    options: dict[str, str]
    text: str | None


@dataclass(frozen=True)
class Edit:
    slug: str
    options: dict[str, str]
    text: str | None


@dataclass(frozen=True)
class Close:
    slug: str


@dataclass(frozen=True)
class Post:
    slug: str


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class ForgetMe:
    confirm: bool = False


@dataclass(frozen=True)
class Organizers:
    slug: str
    change: str | None = None  # "add" or "remove"
    person: str | None = None


@dataclass(frozen=True)
class Audit:
    slug: str


@dataclass(frozen=True)
class Export:
    slug: str
    format: str = "md"


@dataclass(frozen=True)
class Purge:
    slug: str


@dataclass(frozen=True)
class Publish:
    slug: str
    state: str = "on"  # on | off

    @property
    def on(self) -> bool:
        return self.state == "on"


@dataclass(frozen=True)
class Remind:
    slug: str
    schedule: str


@dataclass(frozen=True)
class Reminders:
    slug: str | None


@dataclass(frozen=True)
class Webhook:
    slug: str
    change: str | None = None
    url: str | None = None


Command = (
    Sign
    | Consent
    | Safety
    | Unsign
    | Status
    | Read
    | ListCampaigns
    | Help
    | Create
    | Edit
    | Close
    | Post
    | Mine
    | ForgetMe
    | Organizers
    | Audit
    | Export
    | Purge
    | Publish
    | Remind
    | Reminders
    | Webhook
)


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
    while True:
        found = _KEY.match(text, pos)
        if found is None or found.group(1).lower() not in keys:
            return options, text[pos:].strip()
        key = found.group(1).lower()
        pos = _SPACE.match(text, found.end()).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] in _QUOTES:
            end = text.find(_QUOTES[text[pos]], pos + 1)
            if end < 0:
                raise UserError(f"The value of `{key}:` opens a quote that never closes.", usage)
            options[key] = text[pos + 1 : end]
            pos = end + 1
            continue
        word = _WORD.match(text, pos)
        assert word is not None
        if not word.group():
            raise UserError(f"`{key}:` needs a value, like `{key}:something`.", usage)
        options[key] = word.group()
        pos = word.end()


def parse_line(line: str) -> Command:
    """Parse a whole chat line such as `/sign walkout I'm in`."""
    word, rest = _next_word(line)
    if not word.startswith("/"):
        raise UserError(
            "Commands start with a slash, like `/sign CAMPAIGN` or `/petition help`.",
            USAGE["help"],
        )
    return parse(word, rest)


def parse(command: str, args: str) -> Command:
    """Parse a slash command and its argument text, as platforms deliver them."""
    if len(args) > COMMAND_MAX:
        raise UserError(
            f"That command is {len(args):,} characters long; the limit is {COMMAND_MAX:,}.",
            USAGE["help"],
        )
    spec, rest = invoked(command, args)
    if spec is not None:
        return spec.parse(rest)
    name = command.strip().lower().lstrip("/")
    if name in _GROUPS:
        sub, _ = _next_word(args)
        raise UserError(
            f"`{sub[:30]}` isn't a /petition command. Try "
            + ", ".join(s.name.split()[1] for s in REGISTRY if s.name.startswith("petition "))
            + ".",
            USAGE["help"],
        )
    raise UserError(f"I don't know the command `/{name[:30]}`.", USAGE["help"])


_GROUPS = {"petition", "pledge", "undersigned"}


def invoked(command: str, args: str) -> tuple[Spec | None, str]:
    """Which command of the registry a slash command and its text invoke, and the text left
    for its options (adapters use it to open a form instead, say)."""
    name = command.strip().lower().lstrip("/")
    if name in _GROUPS:
        sub, rest = _next_word(args)
        return _BY_WORD.get(f"petition {sub.lower()}".strip()), rest
    return _BY_WORD.get(name), args


def _parse_forget(args: str) -> ForgetMe:
    word = args.strip().lower()
    if word not in {"", "confirm"}:
        raise UserError(
            "Say `/forget-me` to see what would go, then `/forget-me confirm`.", USAGE["forget"]
        )
    return ForgetMe(confirm=word == "confirm")


def _parse_sign(args: str) -> Sign | Mine:
    if args.strip().lower() == "mine":
        return Mine()
    usage = USAGE["sign"]
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
    options, rest = _options(rest, {"role", "as"}, usage)
    role = options.get("role") or options.get("as")
    if not anonymous:
        word, after = _next_word(rest)
        if word.lower() in ANONYMOUS_WORDS:
            anonymous, rest = True, after
    return Sign(slug=slug, anonymous=anonymous, role=role, comment=rest or None)


def _optional_slug(args: str, usage: str) -> str | None:
    word, rest = _next_word(args)
    if not word:
        return None
    if rest:
        raise UserError(f"I expected just a campaign name, not `{args.strip()[:60]}`.", usage)
    return word.lower()


def _required_slug(args: str, usage: str, doing: str) -> tuple[str, str]:
    word, rest = _next_word(args)
    if not word:
        raise UserError(f"Which campaign do you want to {doing}?", usage)
    return word.lower(), rest


def _slug_only(make: Callable[[str], Command], key: str, doing: str) -> Callable[[str], Command]:
    """A command taking a campaign's name and nothing else."""

    def parse_it(args: str) -> Command:
        slug, rest = _required_slug(args, USAGE[key], doing)
        if rest:
            raise UserError(
                f"`{REGISTRY_BY_KEY[key].name}` takes only the campaign name.", USAGE[key]
            )
        return make(slug)

    return parse_it


def _optional(make: Callable[[str | None], Command], key: str) -> Callable[[str], Command]:
    return lambda args: make(_optional_slug(args, USAGE[key]))


def _nothing(make: Callable[[], Command]) -> Callable[[str], Command]:
    return lambda _args: make()


def _parse_new(args: str) -> Create:
    slug, rest = _required_slug(args, USAGE["new"], "create")
    options, text = _options(rest, keys_of("new"), USAGE["new"])
    return Create(slug=slug, options=options, text=text or None)


def _parse_edit(args: str) -> Edit:
    slug, rest = _required_slug(args, USAGE["edit"], "edit")
    options, text = _options(rest, keys_of("edit"), USAGE["edit"])
    return _edit(slug, options, text or None)


def _edit(slug: str, options: dict[str, str], text: str | None) -> Edit:
    if not options and not text:
        raise UserError("Tell me what to change: new letter text, or an option.", USAGE["edit"])
    return Edit(slug=slug, options=options, text=text)


def _parse_organizers(args: str) -> Organizers:
    slug, rest = _required_slug(args, USAGE["organizers"], "manage")
    change, person = _next_word(rest)
    change = change.lower()
    if not change:
        return Organizers(slug)
    return Organizers(slug, *_change("organizers", change, person.strip()))


_CHANGE_HELP = {
    "organizers": "Say `add @someone` or `remove @someone`.",
    "webhook": "Say `add URL` or `remove URL`.",
}


def _change(key: str, change: str | None, target: str | None) -> tuple[str | None, str | None]:
    """`add X` or `remove X`, both or neither; anything else is refused the same everywhere."""
    if not change and not target:
        return None, None
    if (change or "").lower() not in {"add", "remove"} or not target:
        raise UserError(_CHANGE_HELP[key], USAGE[key])
    return (change or "").lower(), target


def _parse_export(args: str) -> Export:
    slug, rest = _required_slug(args, USAGE["export"], "export")
    fmt = rest.strip().lower() or "md"
    if fmt not in EXPORT_FORMATS:
        raise UserError("Exports come as `md`, `csv` or `html`.", USAGE["export"])
    return Export(slug, fmt)


def _parse_publish(args: str) -> Publish:
    slug, rest = _required_slug(args, USAGE["publish"], "publish")
    word = rest.strip().lower() or "on"
    if word not in PUBLISH_STATES:
        raise UserError("Say `on` or `off` after the campaign's name.", USAGE["publish"])
    return Publish(slug, word)


def _parse_remind(args: str) -> Remind:
    slug, rest = _required_slug(args, USAGE["remind"], "remind people of")
    return Remind(slug, rest.strip())


def _parse_webhook(args: str) -> Webhook:
    slug, rest = _required_slug(args, USAGE["webhook"], "connect")
    change, url = _next_word(rest)
    return Webhook(slug, *_change("webhook", change, url.strip()))


# ---- the registry ------------------------------------------------------------------------


class Kind(StrEnum):
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
    kind: Kind
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
    parse: Callable[[str], Command]  # the text after the command's words
    build: Callable[[Values], Command]  # from named values (Discord options, form fields)
    options: tuple[Option, ...] = ()
    words: tuple[str, ...] = ()  # other words for it: "tally" for "status"
    in_channel: bool = False  # acts on the channel it is used in (post, remind)
    in_help: bool = True

    def line(self, values: Values) -> str:
        """The command as typed in chat for these values (for tests and examples)."""
        parts = [f"/{self.name}"]
        for style in (Style.FIRST, Style.WORD, Style.KEY, Style.REST):
            for option in self.options:
                value = values.get(option.name)
                if option.style is not style or value in (None, False, ""):
                    continue
                if option.kind is Kind.FLAG:
                    parts.append(option.name)
                elif style is Style.KEY:
                    parts.append(f'{option.name}:"{value}"')
                else:
                    parts.append(str(value))
        return " ".join(parts)


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
    return Sign(_slug(v), bool(v.get("anonymous")), _text(v, "role"), _text(v, "comment"))


EXPORT_FORMATS = ("md", "csv", "html")
_CAMPAIGN = Option(
    "campaign",
    Kind.CAMPAIGN,
    Style.FIRST,
    "Campaign",
    "Which campaign",
    required=True,
    example="walkout",
)
_SOME_CAMPAIGN = Option(
    "campaign",
    Kind.CAMPAIGN,
    Style.FIRST,
    "Campaign",
    "Which campaign (leave out when only one is open)",
    example="walkout",
)
_TITLE = Option("title", Kind.TEXT, Style.KEY, "Title", "The title", example="No tech for ICE")
_GOAL = Option(
    "goal",
    Kind.NUMBER,
    Style.KEY,
    "Goal (signatures) or threshold (pledgers)",
    "Signatures wanted, or a pledge's threshold",
    aliases=("threshold",),
    example="1000",
)
_DEADLINE = Option(
    "deadline",
    Kind.TEXT,
    Style.KEY,
    "Deadline (YYYY-MM-DD), optional for petitions",
    "YYYY-MM-DD or YYYY-MM-DDTHH:MM",
    example="2026-12-31",
)
_TO = Option(
    "to",
    Kind.TEXT,
    Style.KEY,
    "Addressed to",
    "Who the letter is addressed to",
    aliases=("addressee",),
    example="the CEO",
)
_ACTION = Option(
    "action",
    Kind.TEXT,
    Style.KEY,
    "Pledges only: I will…",
    'For a pledge: what everyone will do, e.g. "walk out"',
    example="walk out",
)
_LETTER = Option(
    "text",
    Kind.LONG_TEXT,
    Style.REST,
    "The letter",
    "The letter's text",
    example="We, the undersigned…",
)

PUBLISH_STATES = ("on", "off")

_CHANGE = Option(
    "change", Kind.CHOICE, Style.WORD, "Change", "add or remove", choices=("add", "remove")
)

REGISTRY: tuple[Spec, ...] = (
    Spec(
        "sign",
        "sign",
        '/sign [CAMPAIGN] [anonymous] [role:"Your role"] [comment]',
        "sign (add `anonymous` to keep your name out of it entirely)",
        Section.SIGNERS,
        _parse_sign,
        _build_sign,
        (
            _SOME_CAMPAIGN,
            Option(
                "anonymous",
                Kind.FLAG,
                Style.WORD,
                "Anonymously",
                "Leave no name or account with your signature",
            ),
            Option(
                "role",
                Kind.TEXT,
                Style.KEY,
                "Your role",
                "Your role or title (optional)",
                aliases=("as",),
                example="Staff engineer",
            ),
            Option(
                "comment",
                Kind.TEXT,
                Style.REST,
                "Comment",
                "Why you sign (optional, up to 500 characters)",
                example="Count me in",
            ),
        ),
    ),
    Spec(
        "unsign",
        "unsign",
        "/unsign [CAMPAIGN]",
        "withdraw your signature",
        Section.SIGNERS,
        _optional(Unsign, "unsign"),
        lambda v: Unsign(_slug(v)),
        (_SOME_CAMPAIGN,),
    ),
    Spec(
        "petition status",
        "status",
        "/petition status [CAMPAIGN]",
        "the tally, pace and deadline",
        Section.SIGNERS,
        _optional(Status, "status"),
        lambda v: Status(_slug(v)),
        (_SOME_CAMPAIGN,),
        words=("tally", "show"),
    ),
    Spec(
        "petition read",
        "read",
        "/petition read [CAMPAIGN]",
        "the whole letter",
        Section.SIGNERS,
        _optional(Read, "read"),
        lambda v: Read(_slug(v)),
        (_SOME_CAMPAIGN,),
        words=("letter", "text"),
    ),
    Spec(
        "petition list",
        "list",
        "/petition list",
        "every campaign",
        Section.SIGNERS,
        _nothing(ListCampaigns),
        lambda v: ListCampaigns(),
        words=("ls",),
    ),
    Spec(
        "petition help",
        "help",
        "/petition help",
        "how to use Undersigned",
        Section.SIGNERS,
        _nothing(Help),
        lambda v: Help(),
        words=("", "?"),
        in_help=False,
    ),
    Spec(
        "petition new",
        "new",
        '/petition new CAMPAIGN title:"Title" goal:1000 [deadline:2026-12-31] [to:"Addressee"] '
        'LETTER TEXT…   (a pledge: kind:pledge threshold:1000 action:"walk out" deadline:…)',
        "start a petition or, with an action, a pledge",
        Section.ORGANIZERS,
        _parse_new,
        lambda v: Create(_slug(v, "slug") or "", _keyed("new", v), _text(v, "text")),
        (
            Option(
                "slug",
                Kind.NEW_NAME,
                Style.FIRST,
                "Short name (used in /sign)",
                "The campaign's short name, used in /sign",
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
                Kind.CHOICE,
                Style.KEY,
                "Kind",
                "petition, or pledge (conditional: needs an action and a deadline)",
                choices=("petition", "pledge"),
                choice_labels=("Petition", "Pledge (conditional)"),
                example="pledge",
            ),
            Option(
                "names",
                Kind.CHOICE,
                Style.KEY,
                "Who sees signers' names",
                "Who sees signers' names (sealed: nobody until the goal; pledges' default)",
                choices=("public", "sealed", "count-only"),
                choice_labels=(
                    "Public: named signers are listed",
                    "Sealed: no names until the goal is reached",
                    "Count only: names never shown in chat",
                ),
                example="sealed",
            ),
        ),
        words=("create",),
    ),
    Spec(
        "petition edit",
        "edit",
        '/petition edit CAMPAIGN [title:"…"] [goal:N] [deadline:…] [to:"…"] [action:"…"] '
        "[NEW LETTER TEXT…]",
        "change a campaign (signers of earlier versions are told)",
        Section.ORGANIZERS,
        _parse_edit,
        lambda v: _edit(_slug(v) or "", _keyed("edit", v), _text(v, "text")),
        (_CAMPAIGN, _TITLE, _GOAL, _DEADLINE, _TO, _ACTION, _LETTER),
    ),
    Spec(
        "petition close",
        "close",
        "/petition close CAMPAIGN",
        "close to new signatures",
        Section.ORGANIZERS,
        _slug_only(Close, "close", "close"),
        lambda v: Close(_slug(v) or ""),
        (_CAMPAIGN,),
    ),
    Spec(
        "petition post",
        "post",
        "/petition post CAMPAIGN   (in the channel where it should be announced)",
        "announce here with Sign buttons",
        Section.ORGANIZERS,
        _slug_only(Post, "post", "announce"),
        lambda v: Post(_slug(v) or ""),
        (_CAMPAIGN,),
        words=("announce",),
        in_channel=True,
    ),
    Spec(
        "petition organizers",
        "organizers",
        "/petition organizers CAMPAIGN [add|remove @someone]",
        "list, add or remove organizers",
        Section.ORGANIZERS,
        _parse_organizers,
        lambda v: Organizers(
            _slug(v) or "", *_change("organizers", _text(v, "change"), _text(v, "person"))
        ),
        (
            _CAMPAIGN,
            _CHANGE,
            Option(
                "person",
                Kind.PERSON,
                Style.REST,
                "Who",
                "Who to add or remove",
                example="<@U123ABC>",
            ),
        ),
        words=("organisers", "organizer"),
    ),
    Spec(
        "petition audit",
        "audit",
        "/petition audit CAMPAIGN",
        "who did what, when",
        Section.ORGANIZERS,
        _slug_only(Audit, "audit", "audit"),
        lambda v: Audit(_slug(v) or ""),
        (_CAMPAIGN,),
    ),
    Spec(
        "petition export",
        "export",
        "/petition export CAMPAIGN [md|csv|html]",
        "the letter and signatories",
        Section.ORGANIZERS,
        _parse_export,
        lambda v: Export(_slug(v) or "", _text(v, "format") or "md"),
        (
            _CAMPAIGN,
            Option(
                "format",
                Kind.CHOICE,
                Style.WORD,
                "Format",
                "md, csv or html",
                choices=EXPORT_FORMATS,
                example="csv",
            ),
        ),
    ),
    Spec(
        "petition publish",
        "publish",
        "/petition publish CAMPAIGN [off]",
        "a public web page with the count",
        Section.ORGANIZERS,
        _parse_publish,
        lambda v: _parse_publish(f"{_slug(v) or ''} {_text(v, 'state') or ''}"),
        (
            _CAMPAIGN,
            Option(
                "state",
                Kind.CHOICE,
                Style.WORD,
                "Public page",
                "on (publish) or off (take the page down at once)",
                choices=PUBLISH_STATES,
                example="off",
            ),
        ),
    ),
    Spec(
        "petition purge",
        "purge",
        "/petition purge CAMPAIGN   (after it closed)",
        "after close: remove identities",
        Section.ORGANIZERS,
        _slug_only(Purge, "purge", "purge"),
        lambda v: Purge(_slug(v) or ""),
        (_CAMPAIGN,),
    ),
    Spec(
        "petition remind",
        "remind",
        "/petition remind CAMPAIGN SCHEDULE   (daily 09:00, weekdays 09:30 UTC, off)",
        "reminders in this channel",
        Section.ORGANIZERS,
        _parse_remind,
        lambda v: Remind(_slug(v) or "", _text(v, "schedule") or ""),
        (
            _CAMPAIGN,
            Option(
                "schedule",
                Kind.TEXT,
                Style.REST,
                "Schedule",
                "daily 09:00, weekdays 09:30 Europe/Berlin, mondays 10:00, every 3 days, off",
                required=True,
                example="weekdays 09:30",
            ),
        ),
        in_channel=True,
    ),
    Spec(
        "petition reminders",
        "reminders",
        "/petition reminders [CAMPAIGN]",
        "reminders that are set",
        Section.ORGANIZERS,
        _optional(Reminders, "reminders"),
        lambda v: Reminders(_slug(v)),
        (_SOME_CAMPAIGN,),
    ),
    Spec(
        "petition webhook",
        "webhook",
        "/petition webhook CAMPAIGN [add|remove URL]",
        "list, add or remove webhooks",
        Section.ORGANIZERS,
        _parse_webhook,
        lambda v: Webhook(_slug(v) or "", *_change("webhook", _text(v, "change"), _text(v, "url"))),
        (
            _CAMPAIGN,
            _CHANGE,
            Option(
                "url",
                Kind.TEXT,
                Style.REST,
                "URL",
                "The webhook's http(s) address",
                example="https://example.org/hook",
            ),
        ),
        words=("webhooks",),
    ),
    Spec(
        "petition safety",
        "safety",
        "/petition safety",
        "what others can see, and what is stored, before you sign",
        Section.YOUR_DATA,
        _nothing(Safety),
        lambda v: Safety(),
        words=("safe", "privacy"),
    ),
    Spec(
        "petition mine",
        "mine",
        "/sign mine",
        "what you signed, and how",
        Section.YOUR_DATA,
        _nothing(Mine),
        lambda v: Mine(),
    ),
    Spec(
        "forget-me",
        "forget",
        "/forget-me   (then /forget-me confirm)",
        "remove all your signatures everywhere",
        Section.YOUR_DATA,
        _parse_forget,
        lambda v: ForgetMe(bool(v.get("confirm"))),
        (Option("confirm", Kind.FLAG, Style.WORD, "Confirm", "Set to True to really delete them"),),
        words=("forgetme", "forget"),
    ),
)
REGISTRY_BY_KEY = {spec.key: spec for spec in REGISTRY}
REGISTRY_BY_NAME = {spec.name: spec for spec in REGISTRY}
USAGE = {spec.key: spec.usage for spec in REGISTRY}


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
    return {
        name
        for o in REGISTRY_BY_KEY[key].options
        if o.style is Style.KEY
        for name in (o.name, *o.aliases)
    }
