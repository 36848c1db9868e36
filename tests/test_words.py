"""Sentences as people read them: each says a thing once, truly, and without stutter."""

from __future__ import annotations

import html
import re
from pathlib import Path

from adapters.console.render import render
from bot.domain.campaigns import Names
from bot.service import Service
from tests.conftest import informed, person
from tests.web_site import Site

ORG, BOB, ANN = person("org"), person("bob"), person("ann")
PLEDGE = (
    'new strike kind:pledge threshold:50 action:"walk out at 11:00" title:"Strike" '
    "deadline:2030-01-01 We walk out together."
)


async def test_sign_mine_on_a_sealed_pledge_never_says_publicly(service: Service) -> None:
    await service.handle(ORG, "/petition", PLEDGE)
    await informed(service, BOB)
    await service.handle(BOB, "/sign", "strike")
    mine = await service.handle(BOB, "/sign", "mine")
    assert "publicly" not in mine.text, mine.text
    assert "as Bob (sealed until the goal is reached)" in mine.text
    shown = render(mine)
    assert shown.count("only you can see this") == 1, shown


async def test_sign_mine_on_a_count_only_petition_and_a_public_one(service: Service) -> None:
    await service.handle(ORG, "/petition", 'new quiet title:"Quiet" goal:5 names:count-only Hush.')
    await service.handle(ORG, "/petition", 'new loud title:"Loud" goal:5 Say it.')
    await informed(service, BOB)
    await service.handle(BOB, "/sign", "quiet")
    await service.handle(BOB, "/sign", "loud")
    mine = (await service.handle(BOB, "/sign", "mine")).text
    assert "**Quiet**, as Bob (names are never shown in chat)" in mine, mine
    assert "**Loud**, publicly as Bob" in mine


async def test_what_changed_since_signing_reads_without_a_stutter(service: Service) -> None:
    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:5 First text.')
    await informed(service, BOB)
    await service.handle(BOB, "/sign", "walkout")
    await service.handle(ORG, "/petition", "edit walkout Second text.")
    mine = (await service.handle(BOB, "/sign", "mine")).text
    assert "version 1 (now 2). Changed: the letter text." in mine, mine
    assert "Since then" not in mine


async def test_a_closed_campaign_says_so_once(service: Service) -> None:
    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:5 Text.')
    await service.handle(ORG, "/petition", "close walkout")
    refused = await service.handle(ORG, "/petition", "edit walkout goal:9")
    assert refused.error and "**Walk out** is closed, so you can't" in refused.text, refused.text
    assert refused.text.count("closed") == 1


async def test_a_pledges_terms_on_its_page_name_the_number_once(
    service: Service, site: Site
) -> None:
    await service.handle(ORG, "/petition", PLEDGE)
    published = await service.handle(ORG, "/petition", "publish strike")
    assert not published.error, published.text
    page, _headers = await site.page("/c/strike")
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "If 50 people pledge by" in text and "they will all walk out at 11:00." in text, text
    assert not re.search(r"50 people will .* if 50", text)


def test_the_docs_name_every_names_choice_the_cli_accepts() -> None:
    using = (Path(__file__).parent.parent / "docs" / "using.md").read_text(encoding="utf-8")
    listed = re.search(r"\[--names ([^\]]+)\]", using)
    assert listed is not None and set(listed.group(1).split("|")) == {n.value for n in Names}
