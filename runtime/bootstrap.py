"""Wiring: settings → database (migrated) → signer key → service. Shared by every entry point."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from bot.domain.events import HeadSigned
from bot.domain.permissions import CreatorPolicy, RateLimiter
from bot.domain.public_log import Head
from bot.service import Service
from runtime.config import Settings
from runtime.kept_heads import KeptHeads, kept_heads_file
from runtime.keys import default_log_key_file, say_generated
from runtime.running import running
from runtime.startup import (
    KeyMissing,
    bring_schema_up,
    check_token_key,
    open_log_key,
    open_signer_key,
)
from storage import public_log
from storage import repository as repo
from storage.database import Database
from storage.repository import settle_languages

log = logging.getLogger(__name__)
__all__ = ["KeyMissing", "open_service"]


def heads_file(settings: Settings) -> Path:
    """Beside the log key, unless its folder is read-only (a Docker secret): then where the
    key would be by default (beside the database, or the working directory)."""
    key_file = settings.log_key_file or default_log_key_file(settings.database_url)
    if settings.log_key_file is not None and not os.access(key_file.parent, os.W_OK):
        key_file = default_log_key_file(settings.database_url)
    return kept_heads_file(key_file)


async def keep_heads(service: Service, settings: Settings) -> None:
    """Keep each log's latest signed head beside the log key; say at start which logs are
    behind one (a restore from a backup)."""
    kept = KeptHeads(heads_file(settings))

    def read(conn: Any) -> list[tuple[Head, bytes | None]]:
        found = []
        for campaign in repo.all_campaigns(conn):
            head = public_log.head_of(conn, campaign)
            size = kept.size_kept(campaign.slug)
            root = (
                public_log.root_at(conn, campaign.id, size) if 0 < size <= head.tree_size else None
            )
            found.append((head, root))
        return found

    for line in kept.behind(await service.db.read(read)):
        log.warning(line)
    service.ctx.subscribe(HeadSigned, lambda event: kept.note(event.head))


@asynccontextmanager
async def open_service(
    settings: Settings, *, migrate: bool = True, serving: bool = True, upgrade: bool | None = None
) -> AsyncIterator[Service]:
    """`serving`: run, serve, console. A one-shot command (maybe from a shell without the
    server's settings) must not settle old campaigns' language to the wrong one.
    `upgrade` (default: `serving`): apply pending migrations to an existing database; other
    commands stop and say to run `undersigned db upgrade`. A new, empty database is set up by
    any command."""
    upgrade = serving if upgrade is None else upgrade
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        with running(db.sqlite_path) if serving else nullcontext():
            async with _opened(
                db, settings, migrate=migrate, serving=serving, upgrade=upgrade
            ) as service:
                yield service
    finally:
        await db.close()


def _one_key(name: str, value: str | None, file: Path | None) -> None:
    """A key set and a key file named that holds another: refused, never one silently
    preferred (the file is what gets backed up, the setting what gets used)."""
    if not value or file is None or not file.is_file():
        return
    try:
        kept = file.read_text().strip()
    except OSError:
        return  # unreadable: the setting is what is used, as before
    if kept.lower() != value.strip().lower():
        raise KeyMissing(
            f"{name} and the file {file} hold different keys: keep one of them (the setting "
            "wins over the file, so the file you back up would not be the key in use)"
        )


def _given(value: str | None, file: Path | None) -> bool:
    """A shared key is given: set, or in a file that is there (never generated: with
    several instances each would make its own)."""
    if value:
        return True
    if file is not None and not file.is_file():
        raise KeyMissing(f"{file} is missing: it should hold the key every instance shares")
    return file is not None


@asynccontextmanager
async def _opened(
    db: Database, settings: Settings, *, migrate: bool, serving: bool, upgrade: bool
) -> AsyncIterator[Service]:
    """The checks of a start, then the service."""
    _one_key("UNDERSIGNED_SECRET_KEY", settings.secret_key, settings.key_file)
    _one_key("UNDERSIGNED_LOG_KEY", settings.log_key, settings.log_key_file)
    if not db.is_sqlite and not _given(settings.secret_key, settings.key_file):
        raise KeyMissing(
            "UNDERSIGNED_SECRET_KEY (or a file holding it, UNDERSIGNED_SECRET_KEY_FILE) must be "
            "set with PostgreSQL: every instance sharing the database needs the same key, or "
            "nobody is recognised twice"
        )
    if serving and not db.is_sqlite and not _given(settings.log_key, settings.log_key_file):
        raise KeyMissing(
            "UNDERSIGNED_LOG_KEY (or a file holding it, UNDERSIGNED_LOG_KEY_FILE) must be set "
            "with PostgreSQL: every instance serving the public pages signs the logs' heads "
            "with the same key (64 hex digits: `undersigned log new-key`)"
        )
    if migrate:
        await bring_schema_up(db, upgrade=upgrade)
    key = await open_signer_key(db, settings)
    if serving:
        await check_token_key(db, settings)
    log_key = await open_log_key(db, settings) if serving else None
    say_generated()
    if serving:
        await db.write(lambda conn: settle_languages(conn, settings.language))
    service = Service(
        db,
        key,
        tz=settings.tz,
        creators=CreatorPolicy.parse(settings.creators),
        rate_limit=RateLimiter(settings.rate_limit_per_minute),
        purge_after_days=settings.purge_after_days,
        public_url=settings.public_url,
        language=settings.language,
        steps=settings.steps,
        log_key=log_key,
        webhook_allow_private=settings.webhook_allow_private,
    )
    if serving:
        await keep_heads(service, settings)
    yield service
