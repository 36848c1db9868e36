"""Workspace tokens at rest: sealed with AES-GCM, bound to their row, rotatable, and absent from
any copy of the database (SQLite file bytes, `pg_dump`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from adapters.slack.workspaces import DatabaseStateStore, NotInstalled, SlackWorkspaces
from storage import installations as store
from storage.database import Database
from storage.installations import InstalledBot
from storage.tables import OAuthStateRow, SlackInstallationRow
from storage.token_cipher import TokenCipher, TokenKeyError, new_key
from tests.conftest import PG_URL, fetch

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TOKEN_A = "xoxb-1111-secret-of-workspace-a"
TOKEN_B = "xoxb-2222-secret-of-workspace-b"
_INSTALL = SlackInstallationRow.__table__  # type: ignore[attr-defined]


def bot(workspace: str, token: str, refresh: str | None = None) -> InstalledBot:
    return InstalledBot(
        workspace,
        token,
        bot_id="B1",
        bot_user_id="UB",
        bot_refresh_token=refresh,
        bot_token_expires_at=NOW + timedelta(hours=12) if refresh else None,
        team_name=f"Team {workspace}",
    )


def test_seal_and_open_round_trip_and_bind_to_their_context() -> None:
    cipher = TokenCipher.from_setting(new_key())
    sealed = cipher.seal(TOKEN_A, context="slack-bot:TA")
    assert TOKEN_A not in sealed and sealed.startswith(f"v1:{cipher.key_id}:")
    assert cipher.open(sealed, context="slack-bot:TA") == TOKEN_A
    assert sealed != cipher.seal(TOKEN_A, context="slack-bot:TA")  # a fresh nonce each time
    with pytest.raises(TokenKeyError):
        cipher.open(sealed, context="slack-bot:TB")  # moved to another workspace: refused
    with pytest.raises(TokenKeyError):
        TokenCipher.from_setting(new_key()).open(sealed, context="slack-bot:TA")  # other key
    with pytest.raises(TokenKeyError):
        cipher.open("xoxb-plain", context="slack-bot:TA")


@pytest.mark.parametrize("bad", ["", "short", "!!!not base64!!!", "QUJD"])
def test_malformed_keys_are_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(TokenKeyError) as caught:
        TokenCipher.from_setting(bad)
    assert "UNDERSIGNED_TOKEN_KEY" in str(caught.value)


async def test_a_ciphertext_copied_to_another_workspace_does_not_open(db: Database) -> None:
    """Someone who can write the database must not make A's messages go out as B."""
    cipher = TokenCipher.from_setting(new_key())
    await db.write(lambda c: store.save_installation(c, cipher, bot("TA", TOKEN_A), NOW))
    await db.write(lambda c: store.save_installation(c, cipher, bot("TB", TOKEN_B), NOW))
    [(sealed_b,)] = await fetch(
        db, select(_INSTALL.c.bot_token).where(_INSTALL.c.workspace == "TB")
    )
    await db.write(
        lambda c: c.execute(
            update(_INSTALL).where(_INSTALL.c.workspace == "TA").values(bot_token=sealed_b)
        )
    )
    with pytest.raises(TokenKeyError):
        await db.read(lambda c: store.find_installation(c, cipher, "TA"))


async def test_rotating_the_key_reseals_every_token(db: Database) -> None:
    old = new_key()
    first = TokenCipher.from_setting(old)
    await db.write(lambda c: store.save_installation(c, first, bot("TA", TOKEN_A, "xoxe-r"), NOW))
    both = TokenCipher.from_setting(f"{new_key()},{old}")  # new key first, old one kept
    found = await db.read(lambda c: store.find_installation(c, both, "TA"))
    assert found is not None and found.bot_token == TOKEN_A  # still readable mid-rotation
    assert await db.write(lambda c: store.reseal_all(c, both)) == 1
    assert await db.write(lambda c: store.reseal_all(c, both)) == 0  # idempotent
    only_new = TokenCipher.from_setting(_key_text(both))  # the old key dropped
    found = await db.read(lambda c: store.find_installation(c, only_new, "TA"))
    assert found is not None and (found.bot_token, found.bot_refresh_token) == (TOKEN_A, "xoxe-r")
    with pytest.raises(TokenKeyError, match="does not hold"):
        await db.read(lambda c: store.find_installation(c, first, "TA"))


def _key_text(cipher: TokenCipher) -> str:
    import base64

    return base64.urlsafe_b64encode(cipher.keys[0][1]).decode()


async def test_no_token_is_in_a_copy_of_the_database(db: Database, tmp_path: Path) -> None:
    cipher = TokenCipher.from_setting(new_key())
    await db.write(
        lambda c: store.save_installation(c, cipher, bot("TA", TOKEN_A, "xoxe-1-refresh-a"), NOW)
    )
    await db.write(lambda c: store.save_installation(c, cipher, bot("TB", TOKEN_B), NOW))
    if db.is_sqlite:
        path = Path(db.sqlite_path or "")
        raw = b"".join(
            p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name)
        )
    else:
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump is needed for this test (postgresql-client)"
        assert PG_URL
        dumped = subprocess.run(
            [pg_dump, "--data-only", "--dbname", PG_URL],
            capture_output=True,
            timeout=60,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
        assert dumped.returncode == 0, dumped.stderr
        raw = dumped.stdout
    assert b"Team TA" in raw  # the copy is readable: the searches below mean something
    for secret in (TOKEN_A, TOKEN_B, "xoxe-1-refresh-a", "secret-of-workspace"):
        assert secret.encode() not in raw, secret


async def test_oauth_states_work_once_expire_and_are_kept_only_as_hashes(
    db: Database, db_url: str
) -> None:
    [key] = TokenCipher.from_setting(new_key()).subkeys(b"oauth-state")
    states = DatabaseStateStore(db, key)
    issued = [await states.async_issue() for _ in range(300)]  # 300 visitors of the page
    table = OAuthStateRow.__table__  # type: ignore[attr-defined]
    assert await fetch(db, select(table)) == []  # opening the page writes nothing
    state = issued[0]
    # Another instance (its own connection pool, the same key) finishes the flow.
    other = Database(db_url)
    try:
        assert await DatabaseStateStore(other, key).async_consume(state)
    finally:
        await other.close()
    rows = await fetch(db, select(table))
    assert len(rows) == 1 and state not in str(rows)  # its one use, as a hash
    assert not await states.async_consume(state)  # never twice
    assert not await states.async_consume("forged")
    assert not await states.async_consume("x" * 10_000)
    until, nonce, mac = issued[1].split(".")
    assert not await states.async_consume(f"{int(until) + 3600}.{nonce}.{mac}")  # tampered
    assert not await DatabaseStateStore(db, b"another key").async_consume(issued[1])
    assert not await states.async_consume("1.a.é")  # not ASCII: no TypeError, a refusal
    assert await DatabaseStateStore(db, [b"a newer key", key]).async_consume(issued[1])

    stale = DatabaseStateStore(db, key, expiration_seconds=-1)
    assert not await stale.async_consume(await stale.async_issue())


async def test_workspaces_without_an_installation_are_refused(db: Database) -> None:
    cipher = TokenCipher.from_setting(new_key())
    await db.write(lambda c: store.save_installation(c, cipher, bot("TA", TOKEN_A), NOW))
    workspaces = SlackWorkspaces("http://127.0.0.1:9/api/", db=db, cipher=cipher)
    try:
        assert (await workspaces.bot_for("TA")).bot_token == TOKEN_A
        with pytest.raises(NotInstalled):
            await workspaces.bot_for("TB")
        await db.write(lambda c: store.delete_installation(c, "TA"))
        workspaces.forget("TA")
        with pytest.raises(NotInstalled):
            await workspaces.bot_for("TA")
    finally:
        await workspaces.close()
