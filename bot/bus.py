"""Every command goes through here, from chat, the console and the CLI: parse once, pick
the reply language, apply the guards (identity, rate limit), run the handler, and turn any
failure into a friendly reply (never a traceback in front of a user).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot import commands as cmd
from bot.context import Context
from bot.domain.errors import UserError
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    _,
    campaign_language,
    language_of,
    number,
    speaking,
)
from bot.domain.replies import (
    Reply,
    error_reply,
    our_failure,
)
from bot.domain.values import changed
from bot.handlers import HANDLERS
from storage import repository as repo

log = logging.getLogger(__name__)


async def handle(
    ctx: Context, actor: Actor, command: str, args: str = "", place: Place | None = None
) -> Reply:
    """Parse and run a slash command; every failure becomes a friendly reply."""
    return await parsed(ctx, actor, lambda: cmd.parse(command, args), place)


async def handle_line(ctx: Context, actor: Actor, line: str, place: Place | None = None) -> Reply:
    return await parsed(ctx, actor, lambda: cmd.parse_line(line), place)


async def parsed(
    ctx: Context, actor: Actor, parse: Callable[[], cmd.Command], place: Place | None
) -> Reply:
    """A refusal of the grammar speaks the person's language (or the server's)."""
    language = campaign_language(actor.locale, ctx.language)
    with speaking(language):
        try:
            parsed = parse()
        except UserError as exc:
            return replace(error_reply(exc.message, exc.usage), locale=language)
    return await run(ctx, actor, parsed, place)


async def run(
    ctx: Context, actor: Actor, command: cmd.Command, place: Place | None = None
) -> Reply:
    """Run a command and answer in the asker's language: the one they asked for with
    `lang:`, else their platform's, else the campaign's (an anonymous Slack signer's
    locale is never looked up), else the server's."""
    language = await reply_language(ctx, actor, command)
    with speaking(language):
        reply = await guarded(ctx, actor, command, place)
    return reply if reply.locale else changed(reply, locale=language)


async def reply_language(ctx: Context, actor: Actor, command: cmd.Command) -> str:
    asked = language_of(getattr(command, "lang", None))
    if asked or actor.locale:
        return asked or campaign_language(actor.locale, ctx.language)
    if actor.operator:  # the server's own terminal (`LANG=C`): the server's language
        return ctx.language
    options = getattr(command, "options", None)  # `lang:` given to new or edit
    if isinstance(options, dict) and language_of(options.get("lang")):
        return campaign_language(options["lang"])
    slug = getattr(command, "slug", None)
    if isinstance(slug, str) and slug:
        return await language_of_slug(ctx, slug)
    return ctx.language


async def language_of_slug(ctx: Context, slug: str) -> str:
    """A campaign's language, cached for a minute (an edit here forgets it at once)."""
    now = ctx.clock().timestamp()
    cached = ctx.languages.get(slug)
    if cached is not None and cached[1] > now:
        return cached[0]
    found = await ctx.db.read(lambda conn: repo.find_campaign(conn, slug))
    language = campaign_language(found.language if found else None, ctx.language)
    if found is None:
        return language  # not cached: it may be created in a moment
    ctx.languages[slug] = (language, now + 60)
    return language


async def guarded(ctx: Context, actor: Actor, command: cmd.Command, place: Place | None) -> Reply:
    if not actor.workspace or not actor.user_id:
        # An identity without its workspace would hash differently from the same person's
        # full one and count them twice: refused, never guessed.
        return error_reply(
            _(
                "I couldn't tell who you are and in which workspace, so nothing was done. "
                "Please try again from a channel of your workspace."
            )
        )
    if ctx.rate_limit is not None and not actor.operator:
        wait = ctx.rate_limit.wait_needed(actor.identity)
        if wait > 0:
            return error_reply(
                _(
                    "Slow down a little: that's more than {limit} commands in a minute. "
                    "Try again in {seconds} seconds.",
                    limit=number(ctx.rate_limit.limit),
                    seconds=number(max(1, round(wait))),
                )
            )
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise AssertionError(f"no handler for {type(command).__name__}")
    try:
        return await handler(ctx, actor, command, place)
    except UserError as exc:
        return error_reply(exc.message, exc.usage)
    except Exception:
        # Not even the command's name: a failed `Sign` would time a signing attempt (its
        # traceback, at DEBUG, says where).
        log.exception("a command failed")
        return error_reply(our_failure())
