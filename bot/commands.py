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
from functools import lru_cache

from bot.domain.errors import UserError
from bot.domain.messages import LANGUAGES, N_, NATIVE_NAMES, _, number, translate
from bot.domain.messages import current as current_language
from bot.domain.text import ANONYMOUS_WORDS, COMMAND_MAX, looks_like_slug, parse_language

_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'", "‘": "’"}


@dataclass(frozen=True)
class Sign:
    slug: str | None
    anonymous: bool = False
    role: str | None = None
    comment: str | None = None
    lang: str | None = None  # the language of the reply (an anonymous signer's choice)


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


ANONYMOUS_DRAFT = "anon"  # how the draft id of an anonymous-only notice begins


def keeps_name_out(command: Command | None) -> bool:
    """An anonymous signature, typed or chosen after the notice: adapters look up nothing
    about the person for it (not even their language)."""
    if isinstance(command, Sign):
        return command.anonymous
    if not isinstance(command, Consent):
        return False
    # "Not now" on a notice that offered only anonymous signing (its draft says so): the
    # person typed `/sign X anonymous`, and a lookup would leave the trace they avoided.
    quiet = command.choice == "not-now" and (command.draft or "").startswith(ANONYMOUS_DRAFT)
    return command.choice == "anonymous" or quiet


def parse_quietly(command: str, args: str) -> Command | None:
    """The intent of a slash command, or None when the grammar refuses it (the service then
    says why, in the person's language)."""
    try:
        return parse(command, args)
    except UserError:
        return None


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
        pos = word.end()


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


def _parse_forget(args: str) -> ForgetMe:
    word = args.strip().lower()
    if word not in {"", "confirm"}:
        raise UserError(
            _("Say `/forget-me` to see what would go, then `/forget-me confirm`."),
            usage("forget"),
        )
    return ForgetMe(confirm=word == "confirm")


def _parse_sign(args: str) -> Sign | Mine:
    if args.strip().lower() == "mine":
        return Mine()
    how = usage("sign")
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


def _slug_only(make: Callable[[str], Command], key: str, doing: str) -> Callable[[str], Command]:
    """A command taking a campaign's name and nothing else."""

    def parse_it(args: str) -> Command:
        slug, rest = _required_slug(args, usage(key), doing)
        if rest:
            raise UserError(
                _("`{command}` takes only the campaign name.", command=REGISTRY_BY_KEY[key].name),
                usage(key),
            )
        return make(slug)

    return parse_it


def _optional(make: Callable[[str | None], Command], key: str) -> Callable[[str], Command]:
    return lambda args: make(_optional_slug(args, usage(key)))


def _nothing(make: Callable[[], Command]) -> Callable[[str], Command]:
    return lambda _args: make()


def _parse_new(args: str) -> Create:
    slug, rest = _required_slug(args, usage("new"), N_("create"))
    options, text = _options(rest, keys_of("new"), usage("new"))
    return Create(slug=slug, options=options, text=text or None)


def _parse_edit(args: str) -> Edit:
    slug, rest = _required_slug(args, usage("edit"), N_("edit"))
    options, text = _options(rest, keys_of("edit"), usage("edit"))
    return _edit(slug, options, text or None)


def _edit(slug: str, options: dict[str, str], text: str | None) -> Edit:
    if not options and not text:
        raise UserError(_("Tell me what to change: new letter text, or an option."), usage("edit"))
    return Edit(slug=slug, options=options, text=text)


def _parse_organizers(args: str) -> Organizers:
    slug, rest = _required_slug(args, usage("organizers"), N_("manage"))
    change, person = _next_word(rest)
    change = change.lower()
    if not change:
        return Organizers(slug)
    return Organizers(slug, *_change("organizers", change, person.strip()))


_CHANGE_HELP = {
    "organizers": N_("Say `add @someone` or `remove @someone`."),
    "webhook": N_("Say `add URL` or `remove URL`."),
}


def _change(key: str, change: str | None, target: str | None) -> tuple[str | None, str | None]:
    """`add X` or `remove X`, both or neither; anything else is refused the same everywhere."""
    if not change and not target:
        return None, None
    if (change or "").lower() not in {"add", "remove"} or not target:
        raise UserError(translate(_CHANGE_HELP[key]), usage(key))
    return (change or "").lower(), target


def _parse_export(args: str) -> Export:
    slug, rest = _required_slug(args, usage("export"), N_("export"))
    fmt = rest.strip().lower() or "md"
    if fmt not in EXPORT_FORMATS:
        raise UserError(_("Exports come as `md`, `csv` or `html`."), usage("export"))
    return Export(slug, fmt)


def _parse_publish(args: str) -> Publish:
    slug, rest = _required_slug(args, usage("publish"), N_("publish"))
    word = rest.strip().lower() or "on"
    if word not in PUBLISH_STATES:
        raise UserError(_("Say `on` or `off` after the campaign's name."), usage("publish"))
    return Publish(slug, word)


def _parse_remind(args: str) -> Remind:
    slug, rest = _required_slug(args, usage("remind"), N_("remind people of"))
    return Remind(slug, rest.strip())


def _parse_webhook(args: str) -> Webhook:
    slug, rest = _required_slug(args, usage("webhook"), N_("connect"))
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
    return Sign(
        _slug(v),
        bool(v.get("anonymous")),
        _text(v, "role"),
        _text(v, "comment"),
        _language(_text(v, "lang"), usage("sign")),
    )


EXPORT_FORMATS = ("md", "csv", "html")
_CAMPAIGN = Option(
    "campaign",
    Kind.CAMPAIGN,
    Style.FIRST,
    N_("Campaign"),
    N_("Which campaign"),
    required=True,
    example="walkout",
)
_SOME_CAMPAIGN = Option(
    "campaign",
    Kind.CAMPAIGN,
    Style.FIRST,
    N_("Campaign"),
    N_("Which campaign (leave out when only one is open)"),
    example="walkout",
)
_TITLE = Option(
    "title", Kind.TEXT, Style.KEY, N_("Title"), N_("The title"), example="No tech for ICE"
)
_GOAL = Option(
    "goal",
    Kind.NUMBER,
    Style.KEY,
    N_("Goal (signatures) or threshold (pledgers)"),
    N_("Signatures wanted, or a pledge's threshold"),
    aliases=("threshold",),
    example="1000",
)
_DEADLINE = Option(
    "deadline",
    Kind.TEXT,
    Style.KEY,
    N_("Deadline (YYYY-MM-DD), optional for petitions"),
    N_("YYYY-MM-DD or YYYY-MM-DDTHH:MM"),
    example="2026-12-31",
)
_TO = Option(
    "to",
    Kind.TEXT,
    Style.KEY,
    N_("Addressed to"),
    N_("Who the letter is addressed to"),
    aliases=("addressee",),
    example="the CEO",
)
_ACTION = Option(
    "action",
    Kind.TEXT,
    Style.KEY,
    N_("Pledges only: I will…"),
    N_('For a pledge: what everyone will do, e.g. "walk out"'),
    example="walk out",
)
_LETTER = Option(
    "text",
    Kind.LONG_TEXT,
    Style.REST,
    N_("The letter"),
    N_("The letter's text"),
    example="We, the undersigned…",
)

PUBLISH_STATES = ("on", "off")
_LANG = Option(
    "lang",
    Kind.CHOICE,
    Style.KEY,
    N_("Language of its posts and page"),
    N_("The language of its channel posts and public page: en, de, fr, es or pt_BR"),
    choices=LANGUAGES,
    choice_labels=tuple(NATIVE_NAMES[language] for language in LANGUAGES),
    example="de",
)

_CHANGE = Option(
    "change", Kind.CHOICE, Style.WORD, N_("Change"), N_("add or remove"), choices=("add", "remove")
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
                Kind.FLAG,
                Style.WORD,
                N_("Anonymously"),
                N_("Leave no name or account with your signature"),
            ),
            Option(
                "role",
                Kind.TEXT,
                Style.KEY,
                N_("Your role"),
                N_("Your role or title (optional)"),
                aliases=("as",),
                example="Staff engineer",
            ),
            Option(
                "comment",
                Kind.TEXT,
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
        _optional(Unsign, "unsign"),
        lambda v: Unsign(_slug(v)),
        (_SOME_CAMPAIGN,),
    ),
    Spec(
        "petition status",
        "status",
        N_("/petition status [CAMPAIGN]"),
        N_("the tally, pace and deadline"),
        Section.SIGNERS,
        _optional(Status, "status"),
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
        _optional(Read, "read"),
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
                Kind.NEW_NAME,
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
                Kind.CHOICE,
                Style.KEY,
                N_("Kind"),
                N_("petition, or pledge (conditional: needs an action and a deadline)"),
                choices=("petition", "pledge"),
                choice_labels=(N_("Petition"), N_("Pledge (conditional)")),
                example="pledge",
            ),
            Option(
                "names",
                Kind.CHOICE,
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
        lambda v: _edit(_slug(v) or "", _keyed("edit", v), _text(v, "text")),
        (_CAMPAIGN, _TITLE, _GOAL, _DEADLINE, _TO, _ACTION, _LETTER, _LANG),
    ),
    Spec(
        "petition close",
        "close",
        N_("/petition close CAMPAIGN"),
        N_("close to new signatures"),
        Section.ORGANIZERS,
        _slug_only(Close, "close", N_("close")),
        lambda v: Close(_slug(v) or ""),
        (_CAMPAIGN,),
    ),
    Spec(
        "petition post",
        "post",
        N_("/petition post CAMPAIGN   (in the channel where it should be announced)"),
        N_("announce here with Sign buttons"),
        Section.ORGANIZERS,
        _slug_only(Post, "post", N_("announce")),
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
            _slug(v) or "", *_change("organizers", _text(v, "change"), _text(v, "person"))
        ),
        (
            _CAMPAIGN,
            _CHANGE,
            Option(
                "person",
                Kind.PERSON,
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
        _slug_only(Audit, "audit", N_("audit")),
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
                Kind.CHOICE,
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
        lambda v: _parse_publish(f"{_slug(v) or ''} {_text(v, 'state') or ''}"),
        (
            _CAMPAIGN,
            Option(
                "state",
                Kind.CHOICE,
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
        _slug_only(Purge, "purge", N_("purge")),
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
                Kind.TEXT,
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
        _optional(Reminders, "reminders"),
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
        lambda v: Webhook(_slug(v) or "", *_change("webhook", _text(v, "change"), _text(v, "url"))),
        (
            _CAMPAIGN,
            _CHANGE,
            Option(
                "url",
                Kind.TEXT,
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
                Kind.FLAG,
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
    return _usage(key, current_language())


@lru_cache(maxsize=256)
def _usage(key: str, language: str) -> str:
    return translate(REGISTRY_BY_KEY[key].usage)


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
