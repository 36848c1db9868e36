"""What the core reads back from storage besides campaigns: plain values, never database rows,
so the rules and use cases depend on nothing but Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SignatureRecord:
    """One stored signature. An anonymous one has no name, role or account (and its
    `signed_at` is the day only)."""

    id: str
    campaign_id: int
    anonymous: bool
    display_name: str | None
    role: str | None
    comment: str | None
    version: int
    signed_at: datetime
    account: str | None = None  # "platform:user id" of a named signer, for organizers


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    detail: str | None


@dataclass(frozen=True)
class Announcement:
    """Where a campaign was posted (a channel link), so adapters can refresh the tally shown
    there once the message is known."""

    link_id: int
    workspace: str
    channel: str
    message_id: str | None
