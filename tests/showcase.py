"""Six published campaigns as people run them, built day by day through the service: the
page, chart and card tests (and anyone who wants to look at the pages) start from these.

- `maven`: an open letter, 146 of 200 over ten days, a deadline, shared in Slack and Discord.
- `walkout`: a pledge with its names sealed, 12 of 50 over three days, shared in Slack.
- `strike`: a pledge that succeeded (23 of a threshold of 20), names now shown.
- `cameras`: a closed letter, 64 of 100, names public.
- `kantine`: a German letter, 37 of 60, shared in Discord.
- `greve`: a French pledge opened on the fourth day, 21 of a threshold of 40, names sealed.
"""

from __future__ import annotations

from datetime import timedelta

from bot import commands as cmd
from bot import handlers
from bot.domain.identity import Actor, Place
from bot.service import Service
from tests.conftest import Clock, informed, person

ORG = person("org")
SLACK = Place("slack", "TACME", "C-organizing")
DISCORD = Place("discord", "G-ACME-PRIVATE", "C-general")

LETTER = (
    "We, the undersigned employees, ask that the company cancel its contract to build "
    "surveillance tools for drone targeting.\n\n"
    "**We did not sign up to build weapons.** Our work should never be used to decide who "
    "lives and who dies.\n\n"
    "- Cancel the contract\n- Publish a clear policy\n- Promise never to build warfare technology"
)
FRENCH = (
    "Nous, salariés de l'entrepôt, ferons grève une heure le 18 décembre si quarante "
    "d'entre nous s'y engagent.\n\n"
    "Nos demandes : des pauses à l'abri du froid, et un délégué élu à chaque équipe."
)
GERMAN = (
    "Wir, die Unterzeichnenden, bitten die Geschäftsleitung, die Kantine nicht zu schließen.\n\n"
    "Für viele von uns ist sie der einzige Ort, an dem wir uns über Abteilungen hinweg treffen."
)


async def _new(service: Service, slug: str, text: str, **values: str) -> None:
    reply = await handlers.campaigns.create(service.ctx, ORG, cmd.Create(slug, values, text))
    assert not reply.error, reply.text
    published = await service.handle(ORG, "/petition", f"publish {slug}")
    assert not published.error, published.text


async def _sign(service: Service, slug: str, people: range, anonymous_every: int = 3) -> None:
    for i in people:
        who = Actor("slack", "TACME", f"U{slug}{i}", f"Worker {i:03d}")
        await informed(service, who)
        extra = " anonymous" if anonymous_every and i % anonymous_every == 0 else ""
        reply = await service.handle(who, "/sign", f"{slug}{extra}")
        assert not reply.error, reply.text


async def build(service: Service, clock: Clock) -> None:
    """Ten days of campaigning, ending on the clock's last day (today)."""
    day = clock.now
    deadline = (day + timedelta(days=20)).date().isoformat()
    soon = (day + timedelta(days=12)).date().isoformat()
    await _new(
        service,
        "maven",
        LETTER,
        title="Cancel the drone-targeting contract",
        goal="200",
        addressee="the CEO and the board",
        deadline=deadline,
    )
    await _new(
        service,
        "cameras",
        "We ask the company to stop selling face recognition to police.",
        title="No face recognition for police",
        goal="100",
        addressee="Our CEO",
        names="public",
    )
    await _new(
        service,
        "kantine",
        GERMAN,
        title="Die Kantine bleibt offen",
        goal="60",
        addressee="die Geschäftsleitung",
        deadline=deadline,
        lang="de",
    )
    for slug, place in (("maven", SLACK), ("maven", DISCORD), ("kantine", DISCORD)):
        posted = await service.handle(ORG, "/petition", f"post {slug}", place)
        assert not posted.error, posted.text
    daily = [14, 9, 22, 6, 15, 30, 11, 8, 19, 12]
    done = {"maven": 0, "cameras": 0, "kantine": 0, "walkout": 0, "strike": 0, "greve": 0}
    for n, count in enumerate(daily):
        plan = {"maven": count, "cameras": 7 if n < 9 else 1, "kantine": 4 if n < 9 else 1}
        if n == 3:
            await _new(
                service,
                "greve",
                FRENCH,
                title="Grève d'une heure à l'entrepôt Nord-Est",
                kind="pledge",
                threshold="40",
                action="faire grève une heure le 18 décembre",
                deadline=soon,
                addressee="la direction régionale",
                lang="fr",
            )
        if n >= 3:
            plan["greve"] = 3
        if n == 6:
            await _new(
                service,
                "walkout",
                "We will walk out for one hour if fifty of us pledge to.",
                title="Walk out for one hour",
                kind="pledge",
                threshold="50",
                action="walk out for one hour",
                deadline=soon,
                addressee="the leadership team",
            )
            await _new(
                service,
                "strike",
                "We strike on Monday if twenty of us pledge to.",
                title="Strike on Monday",
                kind="pledge",
                threshold="20",
                action="strike on Monday",
                deadline=soon,
            )
            posted = await service.handle(ORG, "/petition", "post walkout", SLACK)
            assert not posted.error, posted.text
        if n >= 7:
            plan |= {"walkout": 4, "strike": 8 if n < 9 else 7}
        for slug, many in plan.items():
            await _sign(service, slug, range(done[slug], done[slug] + many))
            done[slug] += many
        if n < len(daily) - 1:
            clock.advance(days=1)
    closed = await service.handle(ORG, "/petition", "close cameras")
    assert not closed.error, closed.text
