"""What a start checks before anyone is served: the schema, and that every key is the one the
database was used with. Each refusal is one line saying what the database expects and what
to do. (A serving start applies pending migrations first: they need no key.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bot import __version__
from bot.domain.errors import UserError
from bot.domain.identity import SignerKey
from bot.domain.public_log import LogKey
from runtime.config import Settings
from runtime.keys import (
    LogKeyInvalid,
    LogKeyMissing,
    SignerKeyMissing,
    default_key_file,
    default_log_key_file,
    load_log_key,
    load_signer_key,
)
from storage import keys as recorded_keys
from storage.database import Database
from storage.installations import unopenable
from storage.repository import latest_key_id
from storage.token_cipher import TokenCipher, TokenKeyError

log = logging.getLogger(__name__)


class KeyMissing(UserError):
    pass


class KeyRefused(UserError):
    """A key other than the one the database was used with."""


class SchemaRefused(UserError):
    """Migrations pending where this command doesn't apply them, or a newer release's schema."""


async def bring_schema_up(
    db: Database, *, upgrade: bool, quiet: bool = False
) -> tuple[str | None, str] | None:
    """Set up a new database; upgrade an existing one when `upgrade`, logging one line;
    otherwise refuse while migrations are pending. Returns (from, to) when it migrated."""
    state = await db.schema()
    if state.unknown:
        raise SchemaRefused(
            f"the database is at revision {state.current}, which Undersigned {__version__} "
            f"doesn't know (it knows up to {state.head}): it was upgraded by a newer release; "
            "run that release"
        )
    if not state.pending:
        return None
    if not (upgrade or state.empty):
        raise SchemaRefused(
            f"the database is at revision {state.current}; Undersigned {__version__} needs "
            f"{state.head} ({len(state.pending)} migrations pending): back it up "
            "(`undersigned db backup PATH`), then run `undersigned db upgrade`"
        )
    before, after = await db.migrate()
    if before is not None and not quiet:
        log.info("database upgraded from %s to %s (Undersigned %s)", before, after, __version__)
    return before, after


async def open_signer_key(db: Database, settings: Settings) -> SignerKey:
    """The signer-hash key, which must be the one the signatures were made with: under
    another, every earlier signer would be counted twice and could not withdraw. A lost key
    file is never silently replaced once anyone signed."""
    key_file = settings.key_file or default_key_file(settings.database_url)

    def expected(conn: Any) -> str | None:
        known = recorded_keys.recorded(conn, recorded_keys.SIGNER)
        return known.value if known else latest_key_id(conn)

    was = await db.read(expected)
    try:
        key = load_signer_key(settings.secret_key, key_file, generate=was is None)
    except SignerKeyMissing:
        raise KeyRefused(
            f"this database's signatures were made with the signer key {was}, but its file "
            f"{key_file} is missing: restore it from your backup (or set "
            "UNDERSIGNED_SECRET_KEY); to count under a new key on purpose, run `undersigned "
            "key adopt-new` (see docs/operating.md, Keys)"
        ) from None
    await check_signer_key(db, key, settings)
    return key


async def check_signer_key(db: Database, key: SignerKey, settings: Settings) -> None:
    """Refuse `key` unless it is the one the database expects (recorded, or the latest
    signature's); record it at its first use with signatures (on PostgreSQL at the first
    start: instances sharing it must never sign under two keys, even before anyone signed).
    After a deliberate change, campaigns signed meanwhile by an instance still running the old
    key are retired too."""
    now = datetime.now(UTC)
    first_start_records = not db.is_sqlite

    def check(conn: Any) -> str | None:
        known = recorded_keys.recorded(conn, recorded_keys.SIGNER)
        expected = known.value if known else latest_key_id(conn)
        if expected is not None and expected != key.key_id:
            return expected
        if known is None and (expected is not None or first_start_records):
            recorded_keys.record_first_use(conn, recorded_keys.SIGNER, key.key_id, now)
        elif known is not None and recorded_keys.changes(conn, recorded_keys.SIGNER):
            recorded_keys.retire_campaigns_signed_without(conn, key.key_id)
        return None

    expected = await db.write(check)
    if expected is None:
        return
    where = "UNDERSIGNED_SECRET_KEY" if settings.secret_key else "the key file"
    raise KeyRefused(
        f"this database's signatures were made with the signer key {expected}, but {where} "
        f"holds key {key.key_id}: put the right key back (from UNDERSIGNED_SECRET_KEY's "
        "backup or the key file's), or, to count under a new key on purpose, run `undersigned "
        "key adopt-new` (see docs/operating.md, Keys)"
    )


async def open_log_key(db: Database, settings: Settings) -> LogKey:
    """The key that signs the logs, which must be the one recorded at its first use: a lost
    key file is never silently replaced (every checker would be told the log changed)."""
    key_file = settings.log_key_file or default_log_key_file(settings.database_url)
    known = await db.read(lambda conn: recorded_keys.recorded(conn, recorded_keys.LOG))
    try:
        key = load_log_key(settings.log_key, key_file, generate=known is None)
    except LogKeyMissing:
        assert known is not None
        if known.value == recorded_keys.UNKNOWN:
            raise KeyRefused(
                f"the public logs were signed by the release before this one, with the key in "
                f"{key_file}, which is missing: restore it from your backup (or set "
                "UNDERSIGNED_LOG_KEY); if it is lost for good, run `undersigned log change-key "
                "NEWFILE --old-key-lost` (see docs/operating.md, Keys)"
            ) from None
        raise KeyRefused(
            f"the public logs are signed with key {known.value[:16]}… (since "
            f"{known.since:%Y-%m-%d}), but its file {key_file} is missing: restore it from "
            "your backup (or set UNDERSIGNED_LOG_KEY); to change the key on purpose, run "
            "`undersigned log change-key` (see docs/operating.md, Keys)"
        ) from None
    except LogKeyInvalid as exc:
        raise KeyMissing(str(exc)) from None
    if known is None or known.value == recorded_keys.UNKNOWN:
        now = datetime.now(UTC)

        def record(conn: Any) -> recorded_keys.Recorded:
            recorded_keys.settle_unknown(conn, recorded_keys.LOG, key.public_hex)
            return recorded_keys.record_first_use(conn, recorded_keys.LOG, key.public_hex, now)

        known = await db.write(record)
    if known.value != key.public_hex:
        where = "UNDERSIGNED_LOG_KEY" if settings.log_key else str(key_file)
        raise KeyRefused(
            f"the public logs are signed with key {known.value[:16]}… (since "
            f"{known.since:%Y-%m-%d}), but {where} holds key {key.public_hex[:16]}…: put the "
            "right key back; to change the key on purpose, run `undersigned log change-key` "
            "(see docs/operating.md, Keys)"
        )
    return key


async def check_token_key(db: Database, settings: Settings) -> None:
    """Every stored Slack token must open with UNDERSIGNED_TOKEN_KEY, or each command of its
    workspace would fail."""
    if not settings.slack_oauth:
        return
    try:
        cipher = TokenCipher.from_setting(settings.token_key or "")
    except TokenKeyError as exc:
        raise KeyRefused(str(exc)) from None
    failed = await db.read(lambda conn: unopenable(conn, cipher))
    if failed:
        workspace, why = failed[0]
        raise KeyRefused(
            f"UNDERSIGNED_TOKEN_KEY cannot open the stored Slack tokens of {len(failed)} "
            f"workspaces ({workspace}: {why}): set the key they were sealed with (older keys "
            "may follow the new one, comma-separated, until `undersigned token-key rotate`)"
        )
