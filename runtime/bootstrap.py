"""Wiring: settings → database (migrated) → signer key → service. Shared by every entry point."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.domain.errors import UserError
from bot.domain.permissions import CreatorPolicy, RateLimiter
from bot.service import Service
from runtime.config import Settings
from runtime.keys import (
    LogKeyInvalid,
    default_key_file,
    default_log_key_file,
    load_log_key,
    load_signer_key,
)
from storage.database import Database
from storage.repository import key_ids_in_use, settle_languages

log = logging.getLogger(__name__)


class KeyMissing(UserError):
    pass


@asynccontextmanager
async def open_service(
    settings: Settings, *, migrate: bool = True, serving: bool = True
) -> AsyncIterator[Service]:
    """`serving`: run, serve, console. A one-shot command (maybe from a shell without the
    server's settings) must not settle old campaigns' language to the wrong one."""
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        if not db.is_sqlite and not settings.secret_key:
            raise KeyMissing(
                "UNDERSIGNED_SECRET_KEY must be set with PostgreSQL: every instance sharing the "
                "database needs the same key, or nobody is recognised twice"
            )
        if serving and not db.is_sqlite and not settings.log_key:
            raise KeyMissing(
                "UNDERSIGNED_LOG_KEY must be set with PostgreSQL: every instance serving the "
                "public pages signs the logs' heads with the same key (64 hex digits: "
                "`undersigned log new-key`)"
            )
        log_key = None
        if serving:
            try:
                log_key = load_log_key(
                    settings.log_key,
                    settings.log_key_file or default_log_key_file(settings.database_url),
                )
            except LogKeyInvalid as exc:
                raise KeyMissing(str(exc)) from None
        if migrate:
            await db.migrate()
        key = load_signer_key(
            settings.secret_key, settings.key_file or default_key_file(settings.database_url)
        )
        if serving:
            await db.write(lambda conn: settle_languages(conn, settings.language))
        known = await db.read(key_ids_in_use)
        if known and key.key_id not in known:
            log.warning(
                "the signatures in this database were made with another UNDERSIGNED_SECRET_KEY "
                "(key ids %s, now %s): earlier signers will not be recognised",
                ", ".join(sorted(known)),
                key.key_id,
            )
        yield Service(
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
        )
    finally:
        await db.close()
