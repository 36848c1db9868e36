"""The one place a command is defined: its words, usage, help line and options
(`REGISTRY`), and the dispatch from a slash command's text to its intent.

The text grammar dispatches through it, `help` is written from it, and the adapters derive
Slack's form and Discord's command tree from it, so `/sign maven I'm in` means the same
everywhere and no platform lacks an option another has (a test walks it). Parsing never touches
the database; names of campaigns are resolved by the handlers.
"""

from __future__ import annotations

from bot.commands.organizer_specs import ORGANIZING
from bot.commands.signer_specs import SIGNING, YOUR_DATA
from bot.commands.spec import Spec

REGISTRY: tuple[Spec, ...] = (*SIGNING, *ORGANIZING, *YOUR_DATA)
REGISTRY_BY_KEY = {spec.key: spec for spec in REGISTRY}
USAGE = {spec.key: spec.usage for spec in REGISTRY}  # in English, as written above


def usage(key: str) -> str:
    """A command's usage in the current language (its command words stay as typed)."""
    return REGISTRY_BY_KEY[key].usage_text()


def keys_of(key: str) -> set[str]:
    """Every `key:` the grammar reads for a command, aliases included."""
    return REGISTRY_BY_KEY[key].keys()
