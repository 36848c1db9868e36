"""One command grammar for every platform: text as typed in chat becomes an intent.

`/sign maven I'm in` parses the same in Slack, Discord and the console. Parsing never touches the
database; names of campaigns are resolved by the service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserError
from bot.text import COMMAND_MAX, looks_like_slug

USAGE = {
    "sign": '/sign [CAMPAIGN] [anonymous] [role:"Your role"] [comment]',
    "unsign": "/unsign [CAMPAIGN]",
    "status": "/petition status [CAMPAIGN]",
    "list": "/petition list",
    "help": "/petition help",
    "new": (
        '/petition new CAMPAIGN title:"Title" goal:1000 [deadline:2026-12-31] [to:"Addressee"] '
        'LETTER TEXT…   (a pledge: kind:pledge threshold:1000 action:"walk out" deadline:…)'
    ),
    "edit": '/petition edit CAMPAIGN [title:"…"] [goal:N] [deadline:…] [to:"…"] [NEW LETTER TEXT…]',
    "close": "/petition close CAMPAIGN",
    "read": "/petition read [CAMPAIGN]",
    "post": "/petition post CAMPAIGN   (in the channel where it should be announced)",
    "mine": "/sign mine",
    "safety": "/petition safety",
    "forget": "/forget-me   (then /forget-me confirm)",
    "organizers": "/petition organizers CAMPAIGN [add|remove @someone]",
    "audit": "/petition audit CAMPAIGN",
    "export": "/petition export CAMPAIGN [md|csv|html]",
    "purge": "/petition purge CAMPAIGN   (after it closed)",
    "remind": "/petition remind CAMPAIGN SCHEDULE   (daily 09:00, weekdays 09:30 UTC, off)",
    "reminders": "/petition reminders [CAMPAIGN]",
    "webhook": "/petition webhook CAMPAIGN [add|remove URL]",
}

ANONYMOUS_WORDS = {"anonymous", "anonymously", "anon"}
CREATE_KEYS = {
    "title",
    "goal",
    "threshold",
    "deadline",
    "to",
    "addressee",
    "action",
    "kind",
    "names",
}
EDIT_KEYS = {"title", "goal", "threshold", "deadline", "to", "addressee", "action"}
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
    name = command.strip().lower().lstrip("/")
    if len(args) > COMMAND_MAX:
        raise UserError(
            f"That command is {len(args):,} characters long; the limit is {COMMAND_MAX:,}.",
            USAGE["help"],
        )
    if name == "sign":
        if args.strip().lower() == "mine":
            return Mine()
        return _parse_sign(args)
    if name in {"forget-me", "forgetme", "forget"}:
        word = args.strip().lower()
        if word not in {"", "confirm"}:
            raise UserError(
                "Say `/forget-me` to see what would go, then `/forget-me confirm`.", USAGE["forget"]
            )
        return ForgetMe(confirm=word == "confirm")
    if name == "unsign":
        return Unsign(_optional_slug(args, USAGE["unsign"]))
    if name in {"petition", "pledge", "undersigned"}:
        return _parse_petition(args)
    raise UserError(f"I don't know the command `/{name[:30]}`.", USAGE["help"])


def _parse_sign(args: str) -> Sign:
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


def _parse_petition(args: str) -> Command:
    sub, rest = _next_word(args)
    sub = sub.lower()
    if sub in {"", "help", "?"}:
        return Help()
    if sub in {"status", "tally", "show"}:
        return Status(_optional_slug(rest, USAGE["status"]))
    if sub in {"read", "letter", "text"}:
        return Read(_optional_slug(rest, USAGE["read"]))
    if sub in {"list", "ls"}:
        return ListCampaigns()
    if sub in {"safety", "safe", "privacy"}:
        return Safety()
    if sub in {"new", "create"}:
        slug, rest = _required_slug(rest, USAGE["new"], "create")
        options, text = _options(rest, CREATE_KEYS, USAGE["new"])
        return Create(slug=slug, options=options, text=text or None)
    if sub == "edit":
        slug, rest = _required_slug(rest, USAGE["edit"], "edit")
        options, text = _options(rest, EDIT_KEYS, USAGE["edit"])
        if not options and not text:
            raise UserError("Tell me what to change: new letter text, or an option.", USAGE["edit"])
        return Edit(slug=slug, options=options, text=text or None)
    if sub in {"organizers", "organisers", "organizer"}:
        slug, rest = _required_slug(rest, USAGE["organizers"], "manage")
        change, person = _next_word(rest)
        change = change.lower()
        if not change:
            return Organizers(slug)
        if change not in {"add", "remove"} or not person:
            raise UserError("Say `add @someone` or `remove @someone`.", USAGE["organizers"])
        return Organizers(slug, change, person.strip())
    if sub == "audit":
        slug, rest = _required_slug(rest, USAGE["audit"], "audit")
        return Audit(slug)
    if sub == "export":
        slug, rest = _required_slug(rest, USAGE["export"], "export")
        fmt = rest.strip().lower() or "md"
        if fmt not in {"md", "csv", "html"}:
            raise UserError("Exports come as `md`, `csv` or `html`.", USAGE["export"])
        return Export(slug, fmt)
    if sub == "remind":
        slug, rest = _required_slug(rest, USAGE["remind"], "remind people of")
        return Remind(slug, rest.strip())
    if sub == "reminders":
        return Reminders(_optional_slug(rest, USAGE["reminders"]))
    if sub in {"webhook", "webhooks"}:
        slug, rest = _required_slug(rest, USAGE["webhook"], "connect")
        change, url = _next_word(rest)
        if not change:
            return Webhook(slug)
        if change.lower() not in {"add", "remove"} or not url:
            raise UserError("Say `add URL` or `remove URL`.", USAGE["webhook"])
        return Webhook(slug, change.lower(), url.strip())
    if sub == "purge":
        slug, rest = _required_slug(rest, USAGE["purge"], "purge")
        return Purge(slug)
    if sub in {"post", "announce"}:
        slug, rest = _required_slug(rest, USAGE["post"], "announce")
        if rest:
            raise UserError("`/petition post` takes only the campaign name.", USAGE["post"])
        return Post(slug)
    if sub == "close":
        slug, rest = _required_slug(rest, USAGE["close"], "close")
        if rest:
            raise UserError("`/petition close` takes only the campaign name.", USAGE["close"])
        return Close(slug)
    raise UserError(
        f"`{sub[:30]}` isn't a /petition command. "
        "Try status, read, list, help, safety, new, edit, post, close, "
        "organizers, audit, export, purge, remind, reminders or webhook.",
        USAGE["help"],
    )
