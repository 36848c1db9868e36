"""The read side of the public log, for the web: the signed head, a range of entries, a
consistency proof. Published campaigns only: an unknown and an unpublished campaign both
answer None, as their pages do.

The head is signed when served (the key never has to be where the steps are released), and
read at most once a second per campaign however many ask.
"""

from __future__ import annotations

from bot.context import Context
from bot.domain.errors import UserError
from bot.domain.events import HeadSigned
from bot.domain.public_log import PAGE_MAX, Entry, Head, KeyChange, SignedHead, released_text
from storage import keys, public_log
from storage import repository as repo
from storage.database import Tx


class BadRange(UserError):
    """Entries or a proof asked for outside the log (answered 400)."""


def _published(conn: Tx, slug: str) -> tuple[int, Head] | None:
    campaign = repo.find_campaign(conn, slug)
    if campaign is None or campaign.published_at is None:
        return None
    return campaign.id, public_log.head_of(conn, campaign)


async def signed_head(ctx: Context, slug: str) -> SignedHead | None:
    found = await _head(ctx, slug)
    return None if found is None else found[1]


async def _head(ctx: Context, slug: str, *, fresh: bool = False) -> tuple[int, SignedHead] | None:
    """The campaign's id and signed head, read at most once a second (`fresh`: now)."""
    stamp = (int(ctx.clock().timestamp()), ctx.public.generation)
    cached = ctx.public.heads.get(slug)
    if cached is not None and cached[0] == stamp and not fresh:
        return cached[1]
    read = await ctx.db.read(lambda conn: _published(conn, slug))
    found = None if read is None else (read[0], sign(ctx, read[1]))
    ctx.public.heads[slug] = (stamp, found)
    return found


async def _within(ctx: Context, slug: str, end: int) -> tuple[int, Head] | None:
    """The published campaign's id and head, one that reaches `end` if any does: another
    instance may have served a step this one's second-long cache hasn't seen."""
    found = await _head(ctx, slug)
    if found is not None and found[1].head.tree_size < end:
        found = await _head(ctx, slug, fresh=True)
    return None if found is None else (found[0], found[1].head)


def sign(ctx: Context, head: Head) -> SignedHead:
    memo = ctx.public.signatures
    signature = memo.get(head)
    if signature is None:
        signature = ctx.log_key.sign(head)
        memo[head] = signature
        ctx.publish(HeadSigned(head))
    return SignedHead(head, ctx.log_key.public_hex, signature)


async def key_changes(ctx: Context, slug: str) -> list[KeyChange] | None:
    """Every deliberate change of the server's log key, oldest first, each signed by the key
    it replaced (or not: the key was lost), so a checker holding an older head can follow."""
    if await _head(ctx, slug) is None:
        return None
    found = await ctx.db.read(lambda conn: keys.changes(conn, keys.LOG))
    return [KeyChange(c.old, c.new, released_text(c.at), c.signature) for c in found]


async def entries(ctx: Context, slug: str, start: int, end: int) -> list[Entry] | None:
    """Entries start ≤ i < end of the released log (at most PAGE_MAX; fewer at its end)."""
    found = await _within(ctx, slug, start + 1)
    if found is None:
        return None
    campaign_id, head = found
    if not 0 <= start < end:
        raise BadRange("start must be at least 0 and below end")
    if start >= head.tree_size:
        raise BadRange(f"start must be below the log's size ({head.tree_size})")
    last = min(end, start + PAGE_MAX, head.tree_size)
    return await ctx.db.read(lambda conn: public_log.entries(conn, campaign_id, start, last))


async def consistency(ctx: Context, slug: str, first: int, second: int) -> list[bytes] | None:
    found = await _within(ctx, slug, second)
    if found is None:
        return None
    campaign_id, head = found
    if not 0 <= first <= second <= head.tree_size:
        raise BadRange(f"need 0 ≤ first ≤ second ≤ the log's size ({head.tree_size})")
    if first in (0, second):
        return []
    return await ctx.db.read(lambda conn: public_log.consistency(conn, campaign_id, first, second))
