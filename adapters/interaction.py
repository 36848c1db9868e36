"""What every chat adapter needs around an interaction, written once.

Slack and Discord both want an answer within 3 seconds. The core usually answers in
milliseconds; when it doesn't, the adapter acknowledges first and sends the answer after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot import bus, views
from bot import commands as cmd
from bot.commands import Spec, Values
from bot.domain.errors import UserError
from bot.domain.identity import Actor, Place
from bot.domain.messages import _
from bot.domain.replies import CONSENT_CHOICES, ActionKind, Announced, Reply, error_reply

if TYPE_CHECKING:
    from bot.service import Service

T = TypeVar("T")
log = logging.getLogger(__name__)
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
        command = spec.intent(values)
    except UserError as exc:
        return error_reply(exc.message, exc.usage)
    return await bus.run(service.ctx, actor, command, place)


def button_command(kind: ActionKind, slug: str, token: str | None) -> cmd.Command | None:
    """What a press of one of our buttons asks for: a first-time signer's choice after the
    safety notice, else a signature. None for `read`, which each platform shows its own way."""
    choice = CONSENT_CHOICES.get(kind)
    if choice is not None:
        return cmd.Consent(slug, choice, token or None)
    if kind in (ActionKind.SIGN, ActionKind.SIGN_ANONYMOUSLY):
        return cmd.Sign(slug=slug, anonymous=kind is ActionKind.SIGN_ANONYMOUSLY)
    return None  # `read`, or a kind this adapter doesn't know: never a signature by default


def announced_here() -> str:
    """Told (only) to the organizer who posted an announcement with a live tally."""
    return _("Announced here. The tally on it updates as people sign.")


async def post_and_remember(
    service: Service, reply: Reply, post: Callable[[], Awaitable[str]]
) -> bool:
    """Post an announcement (`post` returns the platform's message id) and remember where it
    is, so the tally on it stays live. False when the reply announces nothing."""
    announced = reply.event(Announced)
    if announced is None:
        return False
    await views.remember_announcement(service.ctx, announced.link_id, await post())
    return True


class AfterAck:
    """Work that follows an acknowledgement: answers through response_url, a person's language
    or name, a name written back. A bounded queue served by a fixed number of workers, so a
    burst can't pile unbounded work on the event loop the acknowledgements need; `submit`
    says no when it is full (back-pressure: the caller answers in the ack instead, or the
    work is dropped and logged)."""

    def __init__(self, limit: int = 10_000, workers: int = 64) -> None:
        self.limit = limit
        self.workers = workers
        self._queue: asyncio.Queue[Callable[[], Awaitable[object]]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.dropped = 0

    def has_room(self) -> bool:
        return self._queue is None or self._queue.qsize() < self.limit

    @property
    def busy(self) -> bool:
        """More waiting than the workers take at once: don't wait on anything optional."""
        return self.pending > self.workers

    @property
    def pending(self) -> int:
        return 0 if self._queue is None else self._queue.qsize()

    def submit(self, work: Callable[[], Awaitable[object]]) -> bool:
        if self._queue is None:
            self._queue = asyncio.Queue(self.limit)
            self._tasks = [
                asyncio.get_running_loop().create_task(self._work()) for _ in range(self.workers)
            ]
        try:
            self._queue.put_nowait(work)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("after-ack work dropped: %d jobs already waiting", self.limit)
            return False
        return True

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("work after an acknowledgement failed")
            finally:
                self._queue.task_done()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self._queue = [], None
