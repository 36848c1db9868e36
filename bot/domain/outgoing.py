"""What the core asks to be delivered, typed: a channel post, a direct message, a webhook.

Built by the rules that decide a message is due (milestones, results, reminders, edits) and
stored by `storage.outbox` as JSON with exactly these fields; the dispatcher reads them back as
the same types, so a post can never be missing its text or a webhook its secret.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Delivery(StrEnum):
    POST = "post"  # into a linked channel
    DM = "dm"  # to one person who signed with their name
    WEBHOOK = "webhook"  # a signed JSON POST to an organizer's URL


@dataclass(frozen=True)
class ChatPayload:
    """A post or a DM: the words as written when queued, in `lang`; `card` adds the live
    tally (rendered at delivery, so it is never stale)."""

    event: str
    text: str
    card: bool = False
    slug: str | None = None
    lang: str | None = None

    @classmethod
    def of(cls, stored: dict[str, Any]) -> ChatPayload:
        return cls(
            str(stored.get("event", "")),
            str(stored.get("text", "")),
            bool(stored.get("card", False)),
            stored.get("slug"),
            stored.get("lang"),
        )


@dataclass(frozen=True)
class WebhookPayload:
    """The JSON body a webhook receives, and the secret it is signed with."""

    secret: str = field(repr=False)  # never in a log line or a printed message
    body: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, stored: dict[str, Any]) -> WebhookPayload:
        return cls(str(stored.get("secret", "")), dict(stored.get("body") or {}))


Payload = ChatPayload | WebhookPayload


@dataclass(frozen=True)
class Outgoing:
    """One message to queue. `dedupe_key` makes queuing it twice a no-op."""

    kind: Delivery
    platform: str
    target: str
    payload: Payload
    workspace: str = ""
    campaign_id: int | None = None
    dedupe_key: str | None = None
    available_at: datetime | None = None

    def stored_payload(self) -> dict[str, Any]:
        return asdict(self.payload)


def payload_of(kind: str, stored: dict[str, Any]) -> Payload:
    """A stored payload read back as its type."""
    if kind == Delivery.WEBHOOK:
        return WebhookPayload.of(stored)
    return ChatPayload.of(stored)


@dataclass(frozen=True)
class Message:
    """A queued message as the dispatcher hands it to a platform's sender: what senders
    read, so no adapter needs the storage that keeps it."""

    id: int
    kind: str
    platform: str
    workspace: str
    target: str
    payload: Payload
    campaign_id: int | None
    attempts: int
    available_at: datetime
