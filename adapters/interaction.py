"""What every chat adapter needs around an interaction, written once.

Slack and Discord both want an answer within 3 seconds. The core usually answers in
milliseconds; when it doesn't, the adapter acknowledges first and sends the answer after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.commands import Spec, Values
from bot.errors import UserError
from bot.identity import Actor, Place
from bot.replies import Announced, Reply, error_reply

if TYPE_CHECKING:
    from bot.service import Service

T = TypeVar("T")
ACK_BUDGET = 2.0  # seconds of core work waited for before acknowledging without the answer


async def within_budget(work: Awaitable[T], budget: float = ACK_BUDGET) -> asyncio.Future[T]:
    """Start `work` and wait for it at most `budget` seconds. The returned future is done
    when the answer can go with the acknowledgement; otherwise acknowledge, then await it."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task}, timeout=budget)
    return task


async def run_values(
    service: Service, actor: Actor, spec: Spec, values: Values, place: Place | None = None
) -> Reply:
    """Run the command a form or a platform's options describe (Discord's options, Slack's
    creation form), built by the registry as the text grammar would; a refusal is a reply."""
    try:
        command = spec.build(values)
    except UserError as exc:
        return error_reply(exc.message, exc.usage)
    return await service.run(actor, command, place)


async def post_and_remember(
    service: Service, reply: Reply, post: Callable[[], Awaitable[str]]
) -> bool:
    """Post an announcement (`post` returns the platform's message id) and remember where it
    is, so the tally on it stays live. False when the reply announces nothing."""
    announced = reply.event(Announced)
    if announced is None:
        return False
    await service.remember_announcement(announced.link_id, await post())
    return True
