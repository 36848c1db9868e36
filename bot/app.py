"""Wiring: settings → database (migrated) → signer key → service. Shared by every entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.keys import default_key_file, load_signer_key
from bot.service import Service
from storage.database import Database


@asynccontextmanager
async def open_service(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Service]:
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        if migrate:
            await db.migrate()
        key = load_signer_key(
            settings.secret_key, settings.key_file or default_key_file(settings.database_url)
        )
        yield Service(db, key, tz=settings.tz)
    finally:
        await db.close()
