"""What every chat adapter needs around an interaction, written once.

Slack and Discord both want an answer within 3 seconds. The core usually answers in
milliseconds; when it doesn't, the adapter acknowledges first and sends the answer after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")
ACK_BUDGET = 2.0  # seconds of core work waited for before acknowledging without the answer


async def within_budget(work: Awaitable[T], budget: float = ACK_BUDGET) -> asyncio.Future[T]:
    """Start `work` and wait for it at most `budget` seconds. The returned future is done
    when the answer can go with the acknowledgement; otherwise acknowledge, then await it."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task}, timeout=budget)
    return task
