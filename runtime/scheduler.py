"""The schedule: APScheduler jobs rebuilt from the reminder definitions in our tables, the
deadline sweep, the recount, and the outbox dispatcher; run by the leading instance only.

Definitions live in the database, so a restart (or another instance taking over) rebuilds the
same jobs. A reminder missed while nobody was leading is sent once on start if it is within the
grace period; older ones are skipped rather than flooding the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bot import jobs
from bot.domain.events import OutboxChanged, RemindersChanged
from bot.domain.schedules import Schedule
from bot.domain.steps import StepRule
from bot.service import Service
from runtime.dispatcher import Dispatcher, Sender
from runtime.leader import Leadership
from runtime.metrics import STEPS_RELEASED, set_leading

log = logging.getLogger(__name__)
JOB_PREFIX = "reminder:"


class _ShutdownCuts(logging.Filter):
    """APScheduler reports a job that a stopping event loop cancelled before it began as an
    error with a traceback: at shutdown that is expected, not something an operator must read."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


for _name in ("apscheduler.executors.default", "apscheduler.scheduler"):
    logging.getLogger(_name).addFilter(_ShutdownCuts())


class ReminderScheduler:
    def __init__(self, service: Service, grace: timedelta = timedelta(hours=1)) -> None:
        self.service = service
        self.grace = grace
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._reload_task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] = lambda: None

    async def start(self, sweep_seconds: float = 60.0, recount_seconds: float = 3600.0) -> None:
        self.scheduler.start()
        await self.load()
        await self.catch_up()
        self.scheduler.add_job(
            self._sweep,
            "interval",
            seconds=sweep_seconds,
            id="sweep",
            next_run_time=self.service.clock(),
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.add_job(
            self._release_steps,
            StepTrigger(self.service.steps, self.service.tz),
            id="steps",
            next_run_time=self.service.clock(),  # anything due while nobody was leading
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self.scheduler.add_job(
            self._recount,
            "interval",
            seconds=recount_seconds,
            id="recount",
            next_run_time=self.service.clock(),
            coalesce=True,
            max_instances=1,
        )
        self._unsubscribe = self.service.ctx.subscribe(
            RemindersChanged, lambda _event: self.reload_soon()
        )

    def stop(self) -> None:
        self._unsubscribe()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs())

    def reload_soon(self) -> None:
        if self._reload_task is None or self._reload_task.done():
            self._reload_task = asyncio.get_running_loop().create_task(self.load())

    async def load(self) -> None:
        """(Re)build one job per reminder definition."""
        definitions = await jobs.reminder_definitions(self.service.ctx)
        wanted = {f"{JOB_PREFIX}{d.id}": d for d in definitions}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        for job_id, d in wanted.items():
            self.scheduler.add_job(
                self._fire,
                ScheduleTrigger(d.schedule, d.created_at),
                args=[d.id],
                id=job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(self.grace.total_seconds()),
            )

    async def catch_up(self) -> list[int]:
        """Send once each reminder whose last fire time was missed within the grace period."""
        now = self.service.clock()
        sent = []
        for d in await jobs.reminder_definitions(self.service.ctx):
            last = d.last_sent_at or d.created_at
            missed = d.schedule.next_after(last, d.created_at)
            due = missed is not None and missed <= now and now - missed <= self.grace
            if due and await jobs.send_reminder(self.service.ctx, d.id, missed):  # type: ignore[arg-type]
                sent.append(d.id)
        return sent

    async def _fire(self, reminder_id: int) -> None:
        fire_time = self.service.clock().replace(second=0, microsecond=0)
        try:
            await jobs.send_reminder(self.service.ctx, reminder_id, fire_time)
        except asyncio.CancelledError:
            log.debug("reminder %s stopped: shutting down", reminder_id)
        except Exception:
            log.exception("reminder %s failed", reminder_id)

    async def _sweep(self) -> None:
        try:
            closed = await jobs.sweep(self.service.ctx)
            if closed:
                log.info("deadline closed %s", ", ".join(closed))
        except asyncio.CancelledError:
            log.debug("deadline sweep stopped: shutting down")
        except Exception:
            log.exception("deadline sweep failed")

    async def _release_steps(self) -> None:
        try:
            STEPS_RELEASED.inc(len(await jobs.release_steps(self.service.ctx)))
        except asyncio.CancelledError:
            log.debug("count steps stopped: shutting down")
        except Exception:
            log.exception("releasing count steps failed")

    async def _recount(self) -> None:
        try:
            await jobs.recount(self.service.ctx)
            await jobs.drop_stale_drafts(self.service.ctx)
            purged = await jobs.auto_purge(self.service.ctx)
            if purged:
                log.info("purged signer identities of %s", ", ".join(purged))
        except asyncio.CancelledError:  # a job cut short by shutdown: not an error worth a trace
            log.debug("recount stopped: shutting down")
        except Exception:
            log.exception("recount or purge failed")


async def lead_when_possible(
    service: Service,
    senders: dict[str, Sender],
    stop: asyncio.Event,
    *,
    grace: timedelta = timedelta(hours=1),
    retry_seconds: float = 5.0,
    recount_seconds: float = 3600.0,
    concurrency: int = 4,
    on_lead: asyncio.Event | None = None,
    quiet: bool = False,
) -> None:
    """Try to lead every few seconds; while leading, run the schedule and the outbox.
    `quiet`: at a console prompt, taking the lead is not worth a line over what is typed."""
    leadership = Leadership(service.db)
    try:
        while not stop.is_set():
            if not await _try(leadership):
                await _sleep_or_stop(stop, retry_seconds)
                continue
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "this instance now runs the schedule and the outbox",
            )
            set_leading(True)
            if on_lead is not None:
                on_lead.set()
            scheduler = ReminderScheduler(service, grace)
            dispatcher = Dispatcher(service.ctx, senders, concurrency=concurrency)
            unsubscribe = service.ctx.subscribe(
                OutboxChanged, lambda _event, wake=dispatcher.wake: wake()
            )
            lost = asyncio.Event()
            dispatching = asyncio.get_running_loop().create_task(dispatcher.run(lost))
            try:
                await scheduler.start(recount_seconds=recount_seconds)
                while not stop.is_set() and await leadership.still_held():
                    await _sleep_or_stop(stop, retry_seconds)
            finally:
                set_leading(False)
                lost.set()
                scheduler.stop()
                unsubscribe()
                await dispatching
            if not stop.is_set():
                log.warning("lost the lead; will try again")
    finally:
        await leadership.release()


async def _try(leadership: Leadership) -> bool:
    try:
        return await leadership.try_acquire()
    except Exception as exc:
        log.warning("could not ask for the lead (%s)", type(exc).__name__)
        return False


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class ScheduleTrigger(BaseTrigger):
    """A reminder schedule as an APScheduler trigger: the fire times the core computes (and
    tells people), not APScheduler's CronTrigger, which skips the day after a change of clocks
    for times before the change (daily 00:15 in Berlin fires on 29 and 31 March 2026, never
    on the 30th; `tests/test_schedules.py`)."""

    def __init__(self, schedule: Schedule, anchor: datetime) -> None:
        self.schedule, self.anchor = schedule, anchor

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:  # the first fire time at or after now
            return self.schedule.next_after(now - timedelta(microseconds=1), self.anchor)
        return self.schedule.next_after(previous_fire_time, self.anchor)

    def __str__(self) -> str:
        return f"schedule[{self.schedule.text}]"


class StepTrigger(BaseTrigger):
    """The boundaries at which a step of the public count may be released (bot/domain/steps.py):
    every window from the start of the day, and each day's start, in the campaigns' zone."""

    def __init__(self, rule: StepRule, tz: tzinfo) -> None:
        self.rule, self.tz = rule, tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        return self.rule.next_boundary(previous_fire_time or now, self.tz)

    def __str__(self) -> str:
        return f"steps[{self.rule.window}]"
