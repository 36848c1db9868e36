"""Use cases for the public page (mixed into bot.service.Service): organizers publish or take
down a campaign's page; the web adapter asks for what the public may see.

An unknown campaign and an unpublished one answer the same `None`, so nobody can learn from the
web what exists but is not public. Taking a page down takes effect at once: the cache below is
kept for at most a second, and cleared here when a page is turned on or off.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot import commands as cmd
from bot.campaigns import Campaign, ensure_organizer
from bot.messages import N_, _, ngettext, number
from bot.organizing import _Core
from bot.public import PublicFacts, public_facts
from bot.replies import PageLink, Reply
from bot.tally import build_tally, pace_days
from storage import repository as repo
from storage.database import Tx


class PublishingUseCases(_Core):
    public_url: str | None
    _public_cache: dict[str, tuple[int, PublicFacts | None]]
    _public_flights: dict[str, asyncio.Future[PublicFacts | None]]
    _public_generation: int

    def page_address(self, slug: str) -> str:
        base = (self.public_url or "").rstrip("/")
        return f"{base}/c/{slug}"

    def page_link(self, campaign: Campaign) -> PageLink | None:
        """The link chat replies carry for a published campaign; none without a public
        address (a relative link means nothing in chat)."""
        if campaign.published_at is None or not self.public_url:
            return None
        url = self.page_address(campaign.slug)
        return PageLink(
            url=url,
            chart=f"{url}/chart.png?n={campaign.count}",
            chart_alt=ngettext(
                "{n} of {goal} signatures over time",
                "{n} of {goal} signatures over time",
                campaign.count,
                goal=number(campaign.goal),
            ),
            label=_("Read and share"),
        )

    async def publish(self, actor: Any, slug: str, on: bool) -> Reply:
        campaign = await self._resolve(slug, cmd.usage("publish"), only_open=False)
        ensure_organizer(campaign, actor, N_("publish it"))
        now = self.clock()
        if (campaign.published_at is not None) == on:
            state = (
                _("**{title}** is already public.", title=campaign.title)
                if on
                else _("**{title}** is not public.", title=campaign.title)
            )
            return Reply(text=f"{state} {self._where(campaign.slug, on)}")

        def op(conn: Tx) -> None:
            repo.set_published(conn, campaign.id, now if on else None)
            repo.add_audit(conn, campaign.id, actor.identity, "publish", "on" if on else "off", now)

        await self.db.write(op)
        self._forget_public()
        self._tally_changed(campaign.id)
        if on:
            return Reply(
                text=" ".join(
                    (
                        _("**{title}** is now public.", title=campaign.title),
                        self._where(campaign.slug, True),
                        _(
                            "The page shows the letter, the count and a chart, and names only "
                            "as this campaign shows them in chat. `/petition publish {slug} off` "
                            "takes it down at once.",
                            slug=campaign.slug,
                        ),
                    )
                )
            )
        return Reply(text=_("The public page of **{title}** is down.", title=campaign.title))

    def _where(self, slug: str, on: bool) -> str:
        if not on:
            return _("`/petition publish {slug}` puts it on the web.", slug=slug)
        if self.public_url:
            return _("Its page: {url}", url=self.page_address(slug))
        return _(
            "Its page is at `/c/{slug}` on this bot's web address (set UNDERSIGNED_PUBLIC_URL "
            "for a full link).",
            slug=slug,
        )

    async def public(self, slug: str) -> PublicFacts | None:
        """What the public may see, or None for unknown and unpublished alike. Computed at
        most once a second per campaign, however many readers and signers (one read in
        flight; the others wait for it); publishing on or off here clears it at once."""
        stamp, generation = int(self.clock().timestamp()), self._public_generation
        cached = self._public_cache.get(slug)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        flight = self._public_flights.get(slug)
        if flight is None:
            flight = asyncio.ensure_future(self._public_uncached(slug))
            self._public_flights[slug] = flight
            flight.add_done_callback(lambda done: self._landed(slug, done))
        facts = await asyncio.shield(flight)
        if generation != self._public_generation:
            return await self._public_uncached(slug)  # a page went on or off meanwhile
        if len(self._public_cache) > 1_000:
            self._public_cache.clear()
        self._public_cache[slug] = (stamp, facts)
        return facts

    def _landed(self, slug: str, flight: asyncio.Future[PublicFacts | None]) -> None:
        if self._public_flights.get(slug) is flight:
            del self._public_flights[slug]

    def _forget_public(self) -> None:
        """A page went on or off: nothing read before may be served after."""
        self._public_generation += 1
        self._public_cache.clear()
        self._public_flights.clear()

    async def public_snapshot(self, actor: Any, slug: str) -> PublicFacts:
        """The public page's facts for static files (`--out`): an organizer's choice to put
        them on a host of their own, published here or not; audit-logged."""
        campaign = await self._resolve(slug, cmd.usage("publish"), only_open=False)
        ensure_organizer(campaign, actor, N_("publish it"))
        now = self.clock()
        await self.db.write(
            lambda conn: repo.add_audit(conn, campaign.id, actor.identity, "publish", "files", now)
        )
        facts = await self._public_uncached(slug, published_only=False)
        assert facts is not None
        return facts

    async def _public_uncached(
        self, slug: str, *, published_only: bool = True
    ) -> PublicFacts | None:
        now = self.clock()
        since, today = pace_days(now, self.tz)

        def read(conn: Tx) -> tuple[Campaign, str, list[Any], list[Any], int] | None:
            found = repo.find_campaign(conn, slug)
            if found is None or (published_only and found.published_at is None):
                return None
            campaign = found.public(now)  # the public sees the count in steps
            text = repo.letter_text(conn, campaign.id, campaign.version)
            daily = repo.daily_counts(conn, campaign.id)
            named, total = (
                repo.named_signatories(conn, campaign) if campaign.names_visible() else ([], 0)
            )
            recent = sum(n for d, n in daily if since <= d < today)
            return campaign, text, daily, (named, total), recent

        found = await self.db.read(read)
        if found is None:
            return None
        campaign, text, daily, (named, total), recent = found
        tally = build_tally(campaign, now, recent, [], self.tz)
        return public_facts(
            campaign,
            text=text,
            tally=tally,
            daily=daily,
            named=named,
            named_total=total,
            now=now,
            tz=self.tz,
        )

    async def published(self) -> list[PublicFacts]:
        campaigns: list[Campaign] = await self.db.read(repo.published_campaigns)
        found = [await self.public(c.slug) for c in campaigns]
        return [f for f in found if f is not None]
