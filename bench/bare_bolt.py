"""The reference for `bench.sign_slack`: what a team would write without Undersigned.

A bare slack-bolt app that verifies Slack's signature, stores one row per person for `/sign`
(aiosqlite, WAL, `synchronous=NORMAL`, one commit per signature, a unique key so nobody counts
twice) and acknowledges with a one-line answer. No safety notice, no anonymity, no names, no
languages, no announcements: the floor our `/sign` is measured against.

    .venv/bin/python -m bench.bare_bolt --port P --database FILE --api-url URL
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiosqlite
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_harness import SECRET


async def serve(port: int, database: str, api_url: str) -> None:
    db = await aiosqlite.connect(database)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute(
        "CREATE TABLE IF NOT EXISTS signature (team TEXT, user TEXT, slug TEXT, signed_at REAL,"
        " PRIMARY KEY (slug, team, user))"
    )
    await db.commit()
    bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token="xoxb", base_url=api_url))

    @bolt.command("/sign")
    async def sign(ack: Any, body: dict[str, Any]) -> None:
        slug = (body.get("text") or "").split(" ", 1)[0]
        await db.execute(
            "INSERT OR IGNORE INTO signature VALUES (?, ?, ?, ?)",
            (body["team_id"], body["user_id"], slug, time.time()),
        )
        await db.commit()
        await ack(response_type="ephemeral", text=f"Thank you: you signed {slug}.")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.database, args.api_url))


if __name__ == "__main__":
    main()
