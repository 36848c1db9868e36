"""Delivers the outbox: retries with exponential backoff, honours Retry-After, keeps order per
channel, paces Slack posts to one a second per channel, and keeps (and reports) what keeps
failing instead of dropping it.

A message is marked sent after delivery: a crash in between may repeat it once, never lose it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from bot import views
from bot.context import Context
from bot.domain.errors import StorageUnavailable
from bot.domain.outgoing import ChatPayload, Message
from bot.domain.replies import Reply
from runtime.metrics import OUTBOX_DELIVERED, OUTBOX_FAILED, OUTBOX_PENDING, WEBHOOK_FAILURES
from storage import outbox

log = logging.getLogger(__name__)
PACE = {"slack": 1.0}  # seconds between posts to one channel, per platform


# Seconds a new leader waits before checking the messages a dead one left in flight.
IN_FLIGHT_GRACE = 2.0


# What a Retry-After may ask of us, whoever sends it: a hostile webhook receiver must neither
# make us hammer it (0, -5) nor park a message for ever or crash the dispatcher (inf, nan, 1e12).
RETRY_AFTER_MIN, RETRY_AFTER_MAX = 1.0, 900.0


class RetryAfter(Exception):
    """The platform asked us to wait (HTTP 429 with Retry-After), clamped to 1 s … 15 min."""

    def __init__(self, seconds: float) -> None:
        seconds = min(RETRY_AFTER_MAX, max(RETRY_AFTER_MIN, seconds))
        super().__init__(f"rate limited, retry after {seconds:.0f} s")
        self.seconds = seconds


def rate_limited(header: str | None, default: float = 5.0) -> Exception:
    """The exception a 429 becomes: a clamped `RetryAfter`, or an ordinary failure (retried
    with backoff) when the header is garbage (`inf`, `nan`, a date we don't read, …)."""
    try:
        seconds = float(header) if header is not None else default
    except ValueError:
        return ConnectionError("rate limited with an unreadable Retry-After")
    if not math.isfinite(seconds):
        return ConnectionError("rate limited with an unreadable Retry-After")
    return RetryAfter(seconds)


class Undeliverable(Exception):
    """The target refuses for good (e.g. a webhook pointing inside our network): no retries,
    the message is kept as failed at once."""


class Sender(Protocol):
    """Posts one outbox message. A sender that can tell whether a message already reached the
    platform also has `async already_delivered(message) -> bool | None` (None: can't tell)."""

    async def deliver(self, message: Message, reply: Reply | None) -> None: ...


class Dispatcher:
    def __init__(
        self,
        ctx: Context,
        senders: dict[str, Sender],
        *,
        max_attempts: int = 8,
        base_delay: float = 2.0,
        max_delay: float = 900.0,
        pace: dict[str, float] | None = None,
        concurrency: int = 8,
        in_flight_grace: float = IN_FLIGHT_GRACE,
    ) -> None:
        self.ctx = ctx
        self.in_flight_grace = in_flight_grace
        self.senders = senders
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.pace = PACE if pace is None else pace
        self._last_post: dict[tuple[str, str], float] = {}
        self._wake = asyncio.Event()
        self.concurrency = concurrency
        # One limit per platform: hung webhooks can't take the slots of chat channels.
        self._limits: dict[str, asyncio.Semaphore] = {}
        # The target each running delivery works on: never two at once for one target.
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.delivered = 0

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> tuple[int, int]:
        """Settle messages left `sending` by a leader that died mid-delivery: ask the platform
        where it can tell (so nothing is posted twice), otherwise send again (never lose one).
        Returns (found delivered, to resend)."""
        doubtful = await self.ctx.db.read(outbox.in_doubt)
        if doubtful and self.in_flight_grace > 0:
            # A request the dead leader had in flight still lands at the platform, a moment
            # later: asked too soon, the channel wouldn't show it yet and it would go twice.
            await asyncio.sleep(self.in_flight_grace)
        delivered = resend = 0
        for message in doubtful:
            sender = self.senders.get(message.platform)
            if sender is None:
                continue
            check = getattr(sender, "already_delivered", None)
            known = None
            if check is not None:
                try:
                    known = await check(message)
                except Exception as exc:
                    log.warning("could not check message %s: %s", message.id, exc)
            status = "sent" if known else "pending"
            delivered += status == "sent"
            resend += status == "pending"
            await self._write(
                lambda conn, m=message, st=status: outbox.set_status(
                    conn, m.id, st, self.ctx.clock()
                )
            )
        if doubtful:
            log.warning(
                "after a takeover: %d in-doubt messages were already delivered, %d will "
                "be sent again",
                delivered,
                resend,
            )
        return delivered, resend

    async def run(self, stop: asyncio.Event, poll: float = 1.0, drain: float = 5.0) -> None:
        """Until `stop`: start a delivery for each target with messages due, without waiting
        for the others, so one slow channel or webhook never delays the rest. On stop, running
        deliveries get `drain` seconds; one cut short stays `sending` and is settled by
        `recover` on the next start (checked against the channel, never blindly resent)."""
        try:
            await self.recover()
        except Exception:
            log.exception("could not recover in-doubt messages")
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._start_due()
                except StorageUnavailable:  # said once by storage; nothing of ours broke
                    log.warning("outbox paused: the database is out of reach")
                except Exception:
                    log.exception("outbox dispatch failed; retrying")
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    {waiter, stopper}, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                stopper.cancel()
        finally:
            running = list(self._workers.values())
            if running:
                _, late = await asyncio.wait(running, timeout=drain)
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)

    async def _start_due(self) -> None:
        for target, messages in (await self._due_by_target()).items():
            if target in self._workers:
                continue  # its delivery is running and takes the rest in order
            task = asyncio.get_running_loop().create_task(self._deliver_in_order(messages))
            self._workers[target] = task
            task.add_done_callback(lambda _t, target=target: self._finished(target))

    def _finished(self, target: tuple[str, str]) -> None:
        self._workers.pop(target, None)
        self._wake.set()  # its next messages (or a retry) may be due

    async def _due_by_target(self) -> dict[tuple[str, str], list[Message]]:
        now = self.ctx.clock()
        due = await self.ctx.db.read(lambda conn: outbox.due(conn, now))
        OUTBOX_PENDING.set(len(due))
        by_target: dict[tuple[str, str], list[Message]] = {}
        for message in due:
            if message.platform in self.senders:  # other instances' platforms wait for them
                by_target.setdefault((message.platform, message.target), []).append(message)
        return by_target

    async def run_once(self) -> int:
        """Deliver every message that is due now and wait for all of them (tests, tools);
        returns how many were delivered."""
        by_target = await self._due_by_target()
        before = self.delivered
        await asyncio.gather(*(self._deliver_in_order(msgs) for msgs in by_target.values()))
        return self.delivered - before

    async def _deliver_in_order(self, messages: list[Message]) -> None:
        platform = messages[0].platform
        limit = self._limits.setdefault(platform, asyncio.Semaphore(self.concurrency))
        async with limit:
            for message in messages:
                if not await self._deliver(message):
                    return  # keep order: later messages to this target wait for this one

    async def _deliver(self, message: Message) -> bool:
        key = (message.platform, message.target)
        gap = self.pace.get(message.platform, 0.0)
        wait = self._last_post.get(key, -1e9) + gap - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        sender = self.senders[message.platform]
        await self._write(lambda conn: outbox.mark_sending(conn, message.id))
        try:
            payload = message.payload
            reply = (
                await views.outbox_reply(self.ctx, payload, message.campaign_id)
                if isinstance(payload, ChatPayload)
                else None
            )
            await sender.deliver(message, reply)
        except RetryAfter as exc:
            # A webhook receiver's every answer is an attempt (no endless 429 loop); the
            # platforms' rate limits are waited out, clamped, without using up attempts.
            await self._retry(
                message, exc.seconds, str(exc), count_attempt=message.kind == "webhook"
            )
            return False
        except Undeliverable as exc:
            message = replace(message, attempts=self.max_attempts - 1)
            await self._retry(message, 0, f"undeliverable: {exc}", count_attempt=True)
            return False
        except Exception as exc:
            delay = min(self.max_delay, self.base_delay * 2**message.attempts)
            await self._retry(message, delay, f"{type(exc).__name__}: {exc}", count_attempt=True)
            return False
        finally:
            self._last_post[key] = time.monotonic()
        await self._write(lambda conn: outbox.mark_sent(conn, message.id, self.ctx.clock()))
        self.delivered += 1
        OUTBOX_DELIVERED.labels(message.platform).inc()
        return True

    async def _retry(self, message: Message, delay: float, error: str, count_attempt: bool) -> None:
        if message.kind == "dm":  # an error text may quote the person it was for
            error = error.replace(message.target, "<recipient>")
        attempts = message.attempts + (1 if count_attempt else 0)
        failed = attempts >= self.max_attempts
        if not math.isfinite(delay):  # never an overflow that leaves the row `sending`
            delay = self.max_delay
        at = self.ctx.clock() + timedelta(seconds=min(max(delay, 0.0), RETRY_AFTER_MAX))
        if message.kind == "webhook":
            WEBHOOK_FAILURES.inc()
        if failed:
            OUTBOX_FAILED.labels(message.platform).inc()
            log.error(
                "outbox message %s (%s, campaign %s) failed %d times and is kept as failed: %s",
                message.id,
                message.kind,
                message.campaign_id,
                attempts,
                error,
                extra={"platform": message.platform, "campaign": message.campaign_id},
            )
        else:
            log.warning(
                "outbox message %s (%s, campaign %s): %s; retrying in %.0f s",
                message.id,
                message.kind,
                message.campaign_id,
                error,
                delay,
                extra={"platform": message.platform, "campaign": message.campaign_id},
            )
        await self._write(
            lambda conn: outbox.mark_retry(conn, message.id, at, error, failed, attempts)
        )

    async def _write(self, op: Callable[..., object]) -> None:
        await self.ctx.db.write(op)
