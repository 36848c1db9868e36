"""From a slash command's text to its intent: which command of the registry was invoked,
then its grammar; a command the registry doesn't know is refused with the commands it does."""

from __future__ import annotations

from bot.commands.grammar import _next_word
from bot.commands.intents import Command
from bot.commands.registry import REGISTRY, usage
from bot.commands.spec import Spec
from bot.domain.errors import UserError
from bot.domain.messages import _, number
from bot.domain.text import COMMAND_MAX


def _words() -> dict[str, Spec]:
    found: dict[str, Spec] = {}
    for spec in REGISTRY:
        found[spec.name] = spec
        prefix = spec.name.rsplit(" ", 1)[0] + " " if " " in spec.name else ""
        for word in spec.words:
            found[f"{prefix}{word}".rstrip() if word else prefix.rstrip()] = spec
    return found


_BY_WORD = _words()


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


# Every slash command a platform may declare: each registry entry's first word, and the
# group words that take a subcommand (`/pledge new` is `/petition new`).
SLASH_COMMANDS: tuple[str, ...] = tuple(
    sorted({spec.name.split()[0] for spec in REGISTRY} | _GROUPS)
)
