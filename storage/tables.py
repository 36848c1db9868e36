"""SQLModel tables. Unique constraints make double counting impossible, not merely unlikely."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, DateTime, Index, LargeBinary, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable)


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=200)
    addressee: str | None = Field(default=None, max_length=200)
    action: str | None = Field(default=None, max_length=200)
    goal: int
    deadline: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    status: str = Field(default="open", max_length=16)
    names: str = Field(default="sealed", max_length=16)
    version: int = Field(default=1)
    signature_count: int = Field(default=0)
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(sa_column=_when())
    closed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    succeeded_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    purged_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    language: str | None = Field(default=None, max_length=8)
    # The public count, released in steps (bot/domain/steps.py); `signature_count` stays exact.
    shown_count: int = Field(default=0)
    shown_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    shown_succeeded_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    # What the step held besides anonymous signatures: named ones, in all and by workspace
    # (JSON {"platform workspace": n}), so no figure moves between steps.
    shown_named: int = Field(default=0)
    shown_workspaces: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Entries of the public log waiting for the next step (bot/domain/public_log.py): every
    # signature and withdrawal since the last one, so a step is made of entries, not of
    # the net count.
    log_waiting: int = Field(default=0)
    # Signed under a signer key that was replaced on purpose (`undersigned key adopt-new`):
    # its signers can't be recognised any more, so it takes no signature or withdrawal.
    key_retired: bool = Field(default=False)
    # When a closed campaign's final step was released (bot/domain/steps.py).
    final_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    # When the schedule last looked at a boundary for it (one look per boundary).
    step_checked_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class TextVersionRow(SQLModel, table=True):
    """Every edit of a letter's text is a new version; signatures say which one they signed."""

    __tablename__ = "text_version"
    __table_args__ = (UniqueConstraint("campaign_id", "version", name="uq_text_version"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    version: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(sa_column=_when())


class OrganizerRow(SQLModel, table=True):
    __tablename__ = "organizer"
    __table_args__ = (UniqueConstraint("campaign_id", "identity", name="uq_organizer"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    identity: str = Field(max_length=300)
    added_at: datetime = Field(sa_column=_when())


class SignatureRow(SQLModel, table=True):
    """One signer per campaign, by `signer_hash` = HMAC(key, campaign, identity).

    Anonymous rows keep only the hash, the key id, the text version and the day: no platform,
    workspace, user id or name, and a random id so row ids don't reveal the order of signing.
    """

    __tablename__ = "signature"
    __table_args__ = (
        UniqueConstraint("campaign_id", "signer_hash", name="uq_signature_signer"),
        Index("ix_signature_campaign_signed_at", "campaign_id", "signed_at"),
        # SQLite: no hidden rowid counting up with each insert (it would date anonymous rows).
        {"sqlite_with_rowid": False},
    )

    id: str = Field(primary_key=True, max_length=32)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    signer_hash: str = Field(max_length=64)
    key_id: str = Field(max_length=16)
    anonymous: bool = Field(default=False)
    platform: str | None = Field(default=None, max_length=32)
    workspace: str | None = Field(default=None, max_length=100)
    user_id: str | None = Field(default=None, max_length=100)
    display_name: str | None = Field(default=None, max_length=80)
    role: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=500)
    version: int
    signed_at: datetime = Field(sa_column=_when())
    # A named signer's language, so direct messages speak it; anonymous rows keep none.
    language: str | None = Field(default=None, max_length=8)
    # A named signature waiting for its step: its name shows once that part is released.
    held: bool = Field(default=False)


class ChannelLinkRow(SQLModel, table=True):
    """A campaign announced in a chat channel; `message_id` lets the tally there be refreshed."""

    __tablename__ = "channel_link"
    __table_args__ = (Index("ix_channel_link_campaign", "campaign_id", "platform"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    platform: str = Field(max_length=32)
    workspace: str = Field(max_length=100)
    channel: str = Field(max_length=100)
    message_id: str | None = Field(default=None, max_length=100)
    linked_by: str = Field(max_length=300)
    linked_at: datetime = Field(sa_column=_when())


class SafetyNoticeRow(SQLModel, table=True):
    """Who has seen the safety notice, as a keyed hash: no user id is stored."""

    __tablename__ = "safety_notice"

    person_hash: str = Field(primary_key=True, max_length=64)
    shown_at: datetime = Field(sa_column=_when())


class SignDraftRow(SQLModel, table=True):
    """What a first-time signer typed with `/sign` (role, comment) while they read the safety
    notice, until they choose. No identity: a keyed hash binds it to them; kept to the day and
    deleted when they choose, forget, or after a day."""

    __tablename__ = "sign_draft"

    id: str = Field(primary_key=True, max_length=24)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    person_hash: str = Field(max_length=64)
    role: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_when())
    anonymous_only: bool = Field(default=False)  # the notice offered no "Sign with my name"


class DailyCountRow(SQLModel, table=True):
    """Signatures made per campaign per UTC day: the pace without scanning signatures."""

    __tablename__ = "daily_count"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    signed: int = Field(default=0)


class AuditRow(SQLModel, table=True):
    """Organizer actions: who, what, when. Signers' own actions are never recorded here."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_campaign", "campaign_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    actor: str = Field(max_length=300)
    action: str = Field(max_length=40)
    detail: str | None = Field(default=None, max_length=500)
    at: datetime = Field(sa_column=_when())


class ReminderRow(SQLModel, table=True):
    """A reminder definition: the source of truth the scheduler's jobs are rebuilt from."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("campaign_id", "platform", "workspace", "channel", name="uq_reminder"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    platform: str = Field(max_length=32)
    workspace: str = Field(max_length=100)
    channel: str = Field(max_length=100)
    schedule: str = Field(max_length=100)
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(sa_column=_when())
    last_sent_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class CampaignEventRow(SQLModel, table=True):
    """Events that happen once per campaign (milestones, 24 hours left, result)."""

    __tablename__ = "campaign_event"
    __table_args__ = (UniqueConstraint("campaign_id", "kind", name="uq_campaign_event"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    kind: str = Field(max_length=40)
    at: datetime = Field(sa_column=_when())


class WebhookRow(SQLModel, table=True):
    __tablename__ = "webhook"
    __table_args__ = (UniqueConstraint("campaign_id", "url", name="uq_webhook"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    url: str = Field(max_length=500)
    secret: str = Field(max_length=100)
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(sa_column=_when())


class OutboxRow(SQLModel, table=True):
    """A message the core wants delivered, written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "available_at"),
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # post | dm | webhook
    platform: str = Field(max_length=32)  # slack, discord, console, webhook
    workspace: str = Field(max_length=100)
    target: str = Field(max_length=500)  # channel id, user id or URL
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    campaign_id: int | None = Field(default=None)
    dedupe_key: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_when())
    available_at: datetime = Field(sa_column=_when())
    sent_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class WorkspaceCountRow(SQLModel, table=True):
    """Named signatures per campaign per workspace, kept beside them so a status of a campaign
    shared by several workspaces never scans signatures. Anonymous signatures are never
    counted here: nothing anywhere records an anonymous signer's workspace."""

    __tablename__ = "workspace_count"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    platform: str = Field(primary_key=True, max_length=32)
    workspace: str = Field(primary_key=True, max_length=100)
    signed: int = Field(default=0)


class SlackInstallationRow(SQLModel, table=True):
    """A Slack workspace that added Undersigned. Tokens are sealed (storage/token_cipher.py):
    this row alone lets nobody act as the bot."""

    __tablename__ = "workspace_installation"  # no platform name in the schema

    workspace: str = Field(primary_key=True, max_length=32)  # team id (enterprise id if org-wide)
    enterprise_id: str | None = Field(default=None, max_length=32)
    team_name: str | None = Field(default=None, max_length=200)
    is_enterprise_install: bool = Field(default=False)
    app_id: str | None = Field(default=None, max_length=32)
    bot_id: str | None = Field(default=None, max_length=32)
    bot_user_id: str | None = Field(default=None, max_length=32)
    bot_scopes: str = Field(default="", max_length=1000)
    bot_token: str = Field(sa_column=Column(Text, nullable=False))  # sealed
    bot_refresh_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    bot_token_expires_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    key_id: str = Field(max_length=16)
    installed_at: datetime = Field(sa_column=_when())
    updated_at: datetime = Field(sa_column=_when())


class OAuthStateRow(SQLModel, table=True):
    """An "Add to Slack" flow in progress, by a hash of its state: any instance can finish a
    flow another started, and a reader of the database can't finish one."""

    __tablename__ = "oauth_state"

    state_hash: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_column=_when())


def _bytes() -> Column:  # type: ignore[type-arg]
    return Column(LargeBinary(), nullable=False)


class LogPendingRow(SQLModel, table=True):
    """Entries of the public log gathered since the last step: no identity, no time, a random
    id (no row order to date them); moved into `log_entry` in random order when the step is
    released."""

    __tablename__ = "log_pending"
    __table_args__ = (
        Index("ix_log_pending_campaign", "campaign_id"),
        {"sqlite_with_rowid": False},
    )

    id: str = Field(primary_key=True, max_length=32)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    kind: str = Field(max_length=8)  # sign | withdraw
    leaf: bytes = Field(sa_column=_bytes())
    # Its part (bot/domain/steps.py): named or anonymous (None: waited since before 0017).
    named: bool | None = Field(default=None)
    # A signature's keyed tag (`SignerKey.pending_tag`), so a withdrawal before the step takes
    # it back out instead of adding to the crowd; the database alone can't link it to anyone.
    owner: str | None = Field(default=None, max_length=64)
    # "platform<TAB>workspace" of a named entry: the step moves that workspace's named figure.
    workspace: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class LogEntryRow(SQLModel, table=True):
    """The public log, append-only: entry `idx` of a campaign's Merkle tree."""

    __tablename__ = "log_entry"
    __table_args__ = ({"sqlite_with_rowid": False},)

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    idx: int = Field(primary_key=True)
    kind: str = Field(max_length=8)
    leaf: bytes = Field(sa_column=_bytes())


class LogNodeRow(SQLModel, table=True):
    """The hash of each complete subtree of a campaign's log at level 1 and above (level 0 is
    the entries'): a root or a proof reads a few of them, never the entries."""

    __tablename__ = "log_node"
    __table_args__ = ({"sqlite_with_rowid": False},)

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    level: int = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    hash: bytes = Field(sa_column=_bytes())


class LogHeadRow(SQLModel, table=True):
    """The head of a campaign's log as its last step left it (signed when served)."""

    __tablename__ = "log_head"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    tree_size: int = Field(default=0)
    root_hash: bytes = Field(sa_column=_bytes())
    signatures: int = Field(default=0)
    withdrawals: int = Field(default=0)
    released: datetime = Field(sa_column=_when())


class KeyRecordRow(SQLModel, table=True):
    """The key in use for each purpose (`signer`: the signer-hash key's id; `log`: the log's
    public key), recorded at first use so a start with another one stops."""

    __tablename__ = "key_record"

    kind: str = Field(primary_key=True, max_length=16)
    value: str = Field(max_length=64)
    since: datetime = Field(sa_column=_when())


class KeyChangeRow(SQLModel, table=True):
    """A deliberate change of key. For the log's key, `signature` is the previous key's
    Ed25519 signature over the change (None: the previous key was lost), which checkers
    follow."""

    __tablename__ = "key_change"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    old: str = Field(max_length=64)
    new: str = Field(max_length=64)
    at: datetime = Field(sa_column=_when())
    signature: str | None = Field(default=None, max_length=128)
