"""Who is acting, and the keyed hash that lets anonymous signatures be deduplicated unlinkably."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Actor:
    """A person issuing a command: `(platform, workspace, user)` plus how to address them.

    `operator` marks someone at the server's own command line, who holds every organizer power.
    """

    platform: str
    workspace: str
    user_id: str
    display_name: str
    operator: bool = False
    groups: frozenset[str] = frozenset()  # e.g. "discord-role:123", "slack-group:S1" (adapters)
    # The language this person reads (bot.domain.messages), when their platform told us; else None.
    locale: str | None = None
    # True when the adapter chose not to ask the platform (an anonymous signature on Slack):
    # the reply then says how to pick a language.
    locale_withheld: bool = False
    # How this platform names a person in typed text, when a mention isn't a platform markup:
    # the console's `@erin`, Matrix's `@erin:example.org`. Returns an identity, or None.
    names: Callable[[str], str | None] | None = field(default=None, compare=False, repr=False)

    @property
    def identity(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.user_id}"


@dataclass(frozen=True)
class Place:
    """Where a command was typed: a channel of a workspace on a platform."""

    platform: str
    workspace: str
    channel: str


@dataclass(frozen=True)
class SignerKey:
    """HMAC-SHA256 key for signer hashes. `key_id` names the key without revealing it."""

    secret: bytes

    @cached_property
    def key_id(self) -> str:
        return hmac.new(self.secret, b"undersigned key id", hashlib.sha256).hexdigest()[:12]

    def signer_hash(self, campaign_id: int, actor: Actor) -> str:
        """Per-campaign hash of the identity, so two signatures can't be linked across campaigns."""
        message = f"{campaign_id}\x1f{actor.identity}".encode()
        return hmac.digest(self.secret, message, "sha256").hex()  # one C call: hot path

    def pending_tag(self, signer_hash: str) -> str:
        """Tags a signature's entry while it waits for its step, so a withdrawal before then
        takes it back out; keyed, so the database alone links no entry to a signature."""
        message = f"pending\x1f{signer_hash}".encode()
        return hmac.digest(self.secret, message, "sha256").hex()

    def person_hash(self, actor: Actor) -> str:
        """Remembers that a person saw the safety notice without storing who they are."""
        message = f"notice\x1f{actor.identity}".encode()
        return hmac.digest(self.secret, message, "sha256").hex()
