"""Deliberate changes of key, as `key adopt-new` and `log change-key` make them: what the
database records, and what it retires. (The command line reads the keys and says the rest.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.domain.errors import UserError
from bot.domain.identity import SignerKey
from bot.domain.public_log import KeyChange, LogKey, released_text
from storage import keys as recorded_keys
from storage.database import Database
from storage.repository import latest_key_id


class KeyChangeRefused(UserError):
    pass


async def adopt_signer_key(db: Database, key: SignerKey) -> tuple[str | None, int, int]:
    """Count under `key` from now on: campaigns holding signatures under another key take none
    any more. Returns (the key id before, campaigns retired now, campaigns left signable);
    nothing changes when `key` is the one expected already."""
    now = datetime.now(UTC)

    def adopt(conn: Any) -> tuple[str | None, int, int]:
        old = recorded_keys.recorded(conn, recorded_keys.SIGNER)
        before = old.value if old else latest_key_id(conn)
        if before == key.key_id:
            return before, 0, 0
        recorded_keys.change(conn, recorded_keys.SIGNER, before or "", key.key_id, now)
        retired, left = recorded_keys.retire_campaigns_signed_without(conn, key.key_id)
        return before, retired, left

    return await db.write(adopt)


async def change_log_key(db: Database, old: LogKey | None, new: LogKey) -> str:
    """Sign the logs with `new` from now on; the change is signed by `old` (None: it was lost,
    and checkers are told the change is unsigned). Returns the public key it replaced."""
    known = await db.read(lambda conn: recorded_keys.recorded(conn, recorded_keys.LOG))
    expected = (known.value, recorded_keys.UNKNOWN) if known else None
    if old is not None and expected is not None and old.public_hex not in expected:
        raise KeyChangeRefused(
            f"the current log key ({old.public_hex[:16]}…) is not the one the logs are signed "
            f"with ({expected[0][:16]}…): give that one, or use --old-key-lost"
        )
    previous = old.public_hex if old else (known.value if known else None)
    if previous is None:
        raise KeyChangeRefused("no log was signed yet: just set the new key")
    if previous == new.public_hex:
        raise KeyChangeRefused("that is the key the logs are signed with already")
    at = datetime.now(UTC).replace(second=0, microsecond=0)  # as the change says it
    change = KeyChange(previous, new.public_hex, released_text(at))
    if old is not None:
        change = replace(change, signature=old.sign_change(change))
    if previous == recorded_keys.UNKNOWN:  # lost before this release read it: nothing to link
        await db.write(
            lambda conn: recorded_keys.settle_unknown(conn, recorded_keys.LOG, change.new)
        )
    else:
        await db.write(
            lambda conn: recorded_keys.change(
                conn, recorded_keys.LOG, change.old, change.new, at, change.signature
            )
        )
    return previous
