"""What keeps a campaign alive between announcements: reminders, deadlines, webhooks, and the
rendering of outbox messages at delivery time (mixed into bot.service.Service)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bot import commands as cmd
from bot import events
from bot.campaigns import Campaign, ensure_open, ensure_organizer
from bot.errors import UserError
from bot.identity import Actor, Place
from bot.messages import N_, _, campaign_language, speaking, time_of_day
from bot.organizing import _Core
from bot.releases import release
from bot.replies import Reply, Visibility, sign_actions
from bot.schedules import Schedule, parse_schedule
from bot.steps import StepRule
from storage import outbox, reminders, webhooks
from storage import repository as repo
from storage.database import Tx

LAST_DAY = timedelta(hours=24)


@dataclass(frozen=True)
class ReminderDefinition:
    id: int
    campaign_id: int
    schedule: Schedule
    created_at: datetime
    last_sent_at: datetime | None


class LifecycleUseCases(_Core):
    reminder_listeners: list[Callable[[], None]]
    steps: StepRule

    def _outbox_changed(self) -> None: ...  # pragma: no cover  (Service)

    def _reminders_changed(self) -> None:
        for listener in self.reminder_listeners:
            listener()

    async def remind(
        self, actor: Actor, slug: str, schedule_text: str, place: Place | None
    ) -> Reply:
        usage = cmd.usage("remind")
        if place is None:
            raise UserError(_("Set reminders in the channel where they should be posted."), usage)
        campaign = await self._resolve(slug, usage, only_open=False)
        ensure_organizer(campaign, actor, N_("set its reminders"))
        now = self.clock()
        ensure_open(campaign, now, N_("set reminders"))
        schedule = parse_schedule(schedule_text, self.tz)

        def op(conn: Tx) -> int | None:
            if schedule is None:
                existing = [
                    r.id
                    for r in reminders.reminders_of(conn, campaign.id)
                    if (r.platform, r.workspace, r.channel)
                    == (place.platform, place.workspace, place.channel)
                ]
                reminders.delete_reminders(conn, existing)
                return None
            return reminders.set_reminder(
                conn,
                campaign.id,
                place.platform,
                place.workspace,
                place.channel,
                schedule.text,
                actor.identity,
                now,
            )

        await self._write_audited(
            op, audit=(campaign.id, actor.identity, "remind", schedule.text if schedule else "off")
        )
        self._reminders_changed()
        if schedule is None:
            return Reply(
                text=_("Reminders for **{title}** in this channel are off.", title=campaign.title)
            )
        next_at = schedule.next_after(now, now)
        when = time_of_day(next_at, ZoneInfo(schedule.timezone)) if next_at else _("never")
        text = _(
            "Reminders for **{title}** here: {schedule}. Next: {when}. They stop by themselves "
            "when the campaign closes.",
            title=campaign.title,
            schedule=schedule.text,
            when=when,
        )
        if not self.schedule_runs:
            text += " " + _(
                "This session doesn't send them: reminders go out while `undersigned run` (or "
                "an interactive `undersigned console`) is running."
            )
        return Reply(text=text)

    async def reminders(self, actor: Actor, slug: str | None) -> Reply:
        campaign_id = None
        if slug is not None:
            campaign_id = (await self._resolve(slug, cmd.usage("reminders"), only_open=False)).id
        rows = await self.db.read(lambda conn: reminders.reminders_of(conn, campaign_id))
        campaigns = {c.id: c for c in await self.db.read(repo.all_campaigns)}
        if not rows:
            return Reply(text=_("No reminders are set.") + " " + cmd.usage("remind"))
        lines = [_("Reminders:")]
        for r in rows:
            lines.append(
                _(
                    "`{slug}` in {platform} channel {channel}: {schedule}",
                    slug=campaigns[r.campaign_id].slug,
                    platform=r.platform,
                    channel=r.channel,
                    schedule=r.schedule,
                )
            )
        return Reply(text="\n".join(lines))

    async def webhook(self, actor: Actor, slug: str, change: str | None, url: str | None) -> Reply:
        usage = cmd.usage("webhook")
        campaign = await self._resolve(slug, usage, only_open=False)
        ensure_organizer(campaign, actor, N_("manage its webhooks"))
        now = self.clock()
        if change is None:
            hooks = await self.db.read(lambda conn: webhooks.webhooks_of(conn, campaign.id))
            listing = "\n".join(f"• {u}" for u, _secret in hooks) or _("(none)")
            return Reply(text=_("Webhooks of **{title}**:", title=campaign.title) + "\n" + listing)
        assert url is not None
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc or len(url) > 500:
            raise UserError(
                _("A webhook needs an http(s) URL, like `https://example.org/hook`."), usage
            )
        secret = secrets.token_hex(24)

        def op(conn: Tx) -> bool:
            if change == "remove":
                return webhooks.remove_webhook(conn, campaign.id, url)
            return webhooks.add_webhook(conn, campaign.id, url, secret, actor.identity, now)

        done = await self._write_audited(
            op, audit=(campaign.id, actor.identity, f"webhook {change}", url)
        )
        if change == "remove":
            if done:
                return Reply(text=_("Removed the webhook {url}.", url=url))
            return Reply(text=_("No webhook {url} here.", url=url))
        if not done:
            return Reply(text=_("{url} is already registered.", url=url))
        return Reply(
            text=_(
                "Registered {url} for milestones, success, failure and close. Its signing "
                "secret (shown once, keep it safe): `{secret}`. Each POST carries "
                "`X-Undersigned-Timestamp` and `X-Undersigned-Signature: sha256=HMAC(secret, "
                'timestamp + "." + body)`.',
                url=url,
                secret=secret,
            )
        )

    async def _write_audited(
        self, op: Callable[[Tx], Any], audit: tuple[int, str, str, str | None]
    ) -> Any:
        """Core SQL and its audit-log entry in one transaction."""
        now = self.clock()

        def run(conn: Tx) -> Any:
            repo.add_audit(conn, audit[0], audit[1], audit[2], audit[3], now)
            return op(conn)

        return await self.db.write(run)

    # ---- scheduled work --------------------------------------------------------------------

    async def reminder_definitions(self) -> list[ReminderDefinition]:
        rows = await self.db.read(reminders.all_reminders)
        found = []
        for r in rows:
            schedule = parse_schedule(r.schedule, self.tz)
            if schedule is not None:
                found.append(
                    ReminderDefinition(r.id, r.campaign_id, schedule, r.created_at, r.last_sent_at)
                )
        return found

    async def send_reminder(self, reminder_id: int, fire_time: datetime) -> bool:
        """Queue one reminder post; idempotent per fire time, so two schedulers or a catch-up
        after a restart can never post it twice. Closed campaigns drop their reminders."""
        now = self.clock()

        def op(conn: Tx) -> bool:
            row = reminders.reminder(conn, reminder_id)
            if row is None:
                return False
            campaign = repo.lock_campaigns(conn, {row.campaign_id}).get(row.campaign_id)
            if campaign is None or not campaign.is_open(now):
                reminders.delete_reminders(conn, [reminder_id])
                return False
            key = f"reminder:{reminder_id}:{fire_time.astimezone().strftime('%Y%m%dT%H%M')}"
            language = campaign_language(campaign.language)
            with speaking(language):
                text = _("Reminder: **{title}** needs you.", title=campaign.title)
            queued = outbox.enqueue(
                conn,
                [
                    {
                        "kind": "post",
                        "platform": row.platform,
                        "workspace": row.workspace,
                        "target": row.channel,
                        "campaign_id": campaign.id,
                        "dedupe_key": key,
                        "payload": {
                            "event": "reminder",
                            "card": True,
                            "slug": campaign.slug,
                            "text": text,
                            "lang": language,
                        },
                    }
                ],
                now,
            )
            reminders.reminder_sent(conn, reminder_id, fire_time)
            return queued > 0

        queued = bool(await self.db.write(op))
        if queued:
            self._outbox_changed()
        return queued

    async def sweep(self) -> list[str]:
        """Close campaigns whose deadline passed (posting the result) and announce the last
        24 hours. Safe to run often and on any instance: each event happens once."""
        now = self.clock()
        campaigns = await self.db.read(repo.all_campaigns)
        closed: list[str] = []
        for campaign in campaigns:
            if campaign.deadline is None or campaign.closed_at is not None:
                continue
            if campaign.deadline_passed(now):
                await self._auto_close(campaign, now)
                closed.append(campaign.slug)
            elif campaign.deadline - now <= LAST_DAY:
                shown = campaign.public(now)
                await self.db.write(lambda conn, c=shown: events.last_day(conn, c, now))
        if closed:
            self._reminders_changed()
        self._outbox_changed()
        return closed

    async def _auto_close(self, campaign: Campaign, now: datetime) -> None:
        def op(conn: Tx) -> None:
            fresh = repo.lock_campaigns(conn, {campaign.id})[campaign.id]
            if fresh.closed_at is not None:
                return
            repo.close_campaign(conn, campaign.id, fresh.deadline or now)
            closed = repo.lock_campaigns(conn, {campaign.id})[campaign.id]
            if self.steps.closing(closed, now, self.tz):
                closed = release(conn, closed, now)
            events.after_close(conn, closed.public(now), now)
            reminders.delete_reminders(
                conn, [r.id for r in reminders.reminders_of(conn, campaign.id)]
            )

        await self.db.write(op)
        self._tally_changed(campaign.id)

    async def outbox_report(
        self, retry_failed: bool = False
    ) -> tuple[dict[str, int], list[Any], int]:
        """Counts by status, the failed messages (kept, never dropped), and how many were
        queued again when asked."""
        now = self.clock()
        retried = 0
        if retry_failed:
            retried = await self.db.write(lambda conn: outbox.retry_failed(conn, now))
            self._outbox_changed()
        counts = await self.db.read(outbox.counts)
        failed = await self.db.read(outbox.failed)
        return counts, failed, retried

    async def outbox_reply(self, payload: dict[str, Any], campaign_id: int | None) -> Reply:
        """Render a queued message at delivery time: a card carries the tally as it is now."""
        text = payload.get("text", "")
        if payload.get("card") and campaign_id is not None:
            card = await self.announcement(campaign_id)  # type: ignore[attr-defined]
            return Reply(
                text=f"{text}\n{card.text}",
                visibility=Visibility.CHANNEL,
                tally=card.tally,
                card=card.card,
                actions=card.actions,
                slug=card.slug,
                locale=card.locale,
            )
        slug = payload.get("slug")
        language = campaign_language(payload.get("lang"))  # the language it was written in
        with speaking(language):
            edited = slug and payload.get("event", "").startswith("edited")
            actions = sign_actions(slug)[2:] if edited else ()
        return Reply(
            text=text, visibility=Visibility.CHANNEL, slug=slug, actions=actions, locale=language
        )
