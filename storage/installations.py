"""Workspaces that installed the Slack app, with their tokens sealed, and OAuth flow states.

Plain functions of a Connection like the rest of storage/. Tokens cross this boundary in the
clear only in memory: they are sealed with `TokenCipher` before any INSERT and opened after
any SELECT, each bound to its workspace and purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from bot.domain.events import ChannelsChanged, RemindersChanged
from storage.raised import raise_event
from storage.repository import dialect_insert
from storage.tables import ChannelLinkRow, OAuthStateRow, OutboxRow, ReminderRow
from storage.tables import SlackInstallationRow as _Row
from storage.token_cipher import TokenCipher, TokenKeyError

_INSTALL = _Row.__table__  # type: ignore[attr-defined]
_STATE = OAuthStateRow.__table__  # type: ignore[attr-defined]
_LINK = ChannelLinkRow.__table__  # type: ignore[attr-defined]
_REMINDER = ReminderRow.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class InstalledBot:
    """One workspace's bot credentials, tokens in the clear (memory only)."""

    workspace: str
    bot_token: str
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: str = ""
    bot_refresh_token: str | None = None
    bot_token_expires_at: datetime | None = None
    enterprise_id: str | None = None
    team_name: str | None = None
    is_enterprise_install: bool = False
    app_id: str | None = None
    installed_at: datetime | None = None


def _context(workspace: str, field: str) -> str:
    return f"slack-{field}:{workspace}"


def _sealed(cipher: TokenCipher, bot: InstalledBot) -> dict[str, str | None]:
    """The token columns, sealed with the current key and bound to this workspace."""
    refresh = bot.bot_refresh_token
    return {
        "bot_token": cipher.seal(bot.bot_token, context=_context(bot.workspace, "bot")),
        "bot_refresh_token": (
            cipher.seal(refresh, context=_context(bot.workspace, "refresh")) if refresh else None
        ),
        "key_id": cipher.key_id,
    }


def save_installation(
    conn: Connection, cipher: TokenCipher, bot: InstalledBot, at: datetime
) -> None:
    """Insert or replace a workspace's credentials (a reinstall, or a refreshed token)."""
    values = {
        "workspace": bot.workspace,
        "enterprise_id": bot.enterprise_id,
        "team_name": bot.team_name,
        "is_enterprise_install": bot.is_enterprise_install,
        "app_id": bot.app_id,
        "bot_id": bot.bot_id,
        "bot_user_id": bot.bot_user_id,
        "bot_scopes": bot.bot_scopes[:1000],
        **_sealed(cipher, bot),
        "bot_token_expires_at": bot.bot_token_expires_at,
        "installed_at": bot.installed_at or at,
        "updated_at": at,
    }
    stmt = dialect_insert(conn, _INSTALL).values(**values)
    changed = {k: v for k, v in values.items() if k not in ("workspace", "installed_at")}
    conn.execute(stmt.on_conflict_do_update(index_elements=[_INSTALL.c.workspace], set_=changed))


def _open(cipher: TokenCipher, row: object) -> InstalledBot:
    workspace = row.workspace  # type: ignore[attr-defined]
    refresh = row.bot_refresh_token  # type: ignore[attr-defined]
    return InstalledBot(
        workspace=workspace,
        bot_token=cipher.open(row.bot_token, context=_context(workspace, "bot")),  # type: ignore[attr-defined]
        bot_id=row.bot_id,  # type: ignore[attr-defined]
        bot_user_id=row.bot_user_id,  # type: ignore[attr-defined]
        bot_scopes=row.bot_scopes,  # type: ignore[attr-defined]
        bot_refresh_token=(
            cipher.open(refresh, context=_context(workspace, "refresh")) if refresh else None
        ),
        bot_token_expires_at=row.bot_token_expires_at,  # type: ignore[attr-defined]
        enterprise_id=row.enterprise_id,  # type: ignore[attr-defined]
        team_name=row.team_name,  # type: ignore[attr-defined]
        is_enterprise_install=row.is_enterprise_install,  # type: ignore[attr-defined]
        app_id=row.app_id,  # type: ignore[attr-defined]
        installed_at=row.installed_at,  # type: ignore[attr-defined]
    )


def find_installation(conn: Connection, cipher: TokenCipher, workspace: str) -> InstalledBot | None:
    row = conn.execute(select(_INSTALL).where(_INSTALL.c.workspace == workspace)).first()
    return None if row is None else _open(cipher, row)


def replace_token_if_unchanged(
    conn: Connection, cipher: TokenCipher, old: InstalledBot, new: InstalledBot, at: datetime
) -> bool:
    """Store a refreshed token unless another instance refreshed first (compare and set on the
    refresh token it started from). False: re-read and use theirs."""
    row = conn.execute(
        select(_INSTALL).where(_INSTALL.c.workspace == old.workspace).with_for_update()
    ).first()
    if row is None or _open(cipher, row).bot_refresh_token != old.bot_refresh_token:
        return False
    save_installation(conn, cipher, replace(new, installed_at=row.installed_at), at)
    return True


def delete_installation(conn: Connection, workspace: str) -> bool:
    result = conn.execute(delete(_INSTALL).where(_INSTALL.c.workspace == workspace))
    return (result.rowcount or 0) > 0


def forget_workspace(conn: Connection, platform: str, workspace: str) -> tuple[int, int, int]:
    """After an uninstall: its channel links, reminders and undelivered messages go (its
    signatures stay: they are the signers' statements). Returns the three counts."""
    links = conn.execute(
        delete(_LINK).where(_LINK.c.platform == platform, _LINK.c.workspace == workspace)
    ).rowcount
    reminders = conn.execute(
        delete(_REMINDER).where(
            _REMINDER.c.platform == platform, _REMINDER.c.workspace == workspace
        )
    ).rowcount
    messages = conn.execute(
        delete(_OUTBOX).where(
            _OUTBOX.c.platform == platform,
            _OUTBOX.c.workspace == workspace,
            _OUTBOX.c.status.in_(("pending", "sending")),
        )
    ).rowcount
    raise_event(conn, RemindersChanged())
    raise_event(conn, ChannelsChanged())
    return links or 0, reminders or 0, messages or 0


def reseal_all(conn: Connection, cipher: TokenCipher) -> int:
    """Re-encrypt every stored token with the current key (after a key rotation)."""
    count = 0
    for row in conn.execute(select(_INSTALL).with_for_update()).all():
        if row.key_id == cipher.key_id:
            continue
        bot = _open(cipher, row)
        conn.execute(
            update(_INSTALL)
            .where(_INSTALL.c.workspace == bot.workspace)
            .values(**_sealed(cipher, bot))
        )
        count += 1
    return count


def unopenable(conn: Connection, cipher: TokenCipher) -> list[tuple[str, str]]:
    """(workspace, why) of every stored token `cipher` cannot open: checked at start, so a
    wrong UNDERSIGNED_TOKEN_KEY stops the bot instead of failing each command."""
    failed = []
    for row in conn.execute(select(_INSTALL)).all():
        try:
            _open(cipher, row)
        except TokenKeyError as exc:
            failed.append((row.workspace, str(exc)))
    return failed


# ---- OAuth states -----------------------------------------------------------------------------


def use_state(conn: Connection, state_hash: str, expires_at: datetime, now: datetime) -> bool:
    """Record the one use of a (checked, unexpired) state: True the first time, never twice.
    Used states are kept until they would have expired anyway."""
    conn.execute(delete(_STATE).where(_STATE.c.expires_at < now))  # no pile of stale flows
    inserted = conn.execute(
        dialect_insert(conn, _STATE)
        .values(state_hash=state_hash, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(_STATE.c.state_hash)
    ).first()
    return inserted is not None
