"""A whole campaign on Discord (real discord.py against the fake gateway and REST API), run
twice: everyone's Discord in English, then everyone's in German. Each step checks what that
person reads, with the sentences taken from the catalogs, and every payload against Discord's
limits; in German, no English sentence may show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.domain.messages import _, ngettext, speaking
from tests.fakes.discord import CHANNEL_ID, FakeDiscord
from tests.test_discord import FUTURE, DiscordBot, text_of, within_discords_limits
from tests.test_languages import _english_fragments

pytestmark = pytest.mark.asyncio(loop_scope="module")
HINT = "Replies to anonymous signatures come in the campaign's language"  # also said in English


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DiscordBot]:
    process = DiscordBot(fake, tmp_path_factory.mktemp("campaign"))
    await process.start()
    yield process
    await process.stop()
    assert "Traceback" not in process.log.read_text(), process.log.read_text()


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_whole_campaign_on_discord(bot: DiscordBot, fake: FakeDiscord, lang: str) -> None:
    base = {"en": 9000, "de": 9100}[lang]
    people = {
        p: {"user_id": str(base + i), "user_name": p.title(), "locale": lang}
        for i, p in enumerate(("org", "ann", "bob", "carl", "dora"))
    }
    slug, title = f"strike-{lang}", f"Walk out {lang}"
    first = len(fake.calls)
    everything: list[str] = []

    async def reads(name: str, options: dict[str, Any] | None, sub: str | None, who: str) -> str:
        payload = await fake.slash(name, options, sub=sub, **people[who])
        answer = await fake.response_to(payload)
        if answer.body.get("type") == 5:  # deferred: the answer follows
            await fake.wait_for(lambda: bool(fake.followups_for(payload)), timeout=15)
            answer = fake.followups_for(payload)[0]
        everything.append(text_of(answer))
        return everything[-1]

    def said(message: str, **values: object) -> str:
        with speaking(lang):
            return _(message, **values)

    for who in ("ann", "bob", "carl", "dora"):
        await fake.response_to(await fake.click("undersigned:not_now:any", **people[who]))
    opened = await fake.slash("petition", None, sub="new", **people["org"])
    modal = (await fake.response_to(opened)).body["data"]
    values = {
        "slug": slug,
        "title": title,
        "goal": "3",
        "deadline": FUTURE,
        "text": "First paragraph.\n\nSecond paragraph.",
    }
    made = await fake.response_to(
        await fake.submit_modal(modal["custom_id"], values, **people["org"])
    )
    assert said("Created the petition **{title}** (`{slug}`).", title=title, slug=slug) in text_of(
        made
    )
    # The modal has no language field: a campaign speaks the server's until told (`lang:`).
    await reads("petition", {"campaign": slug, "lang": lang}, "edit", "org")
    letter = await reads("petition", {"campaign": slug}, "read", "org")
    assert "First paragraph.\n\nSecond paragraph." in letter
    await reads("petition", {"campaign": slug}, "post", "org")
    await fake.wait_for(
        lambda: (
            any(
                title in text_of(c)
                for c in fake.calls_matching("POST", rf"/channels/{CHANNEL_ID}/messages")
            )
            or any(title in text_of(c) for c in fake.calls[first:] if "callback" in c.path)
        )
    )
    remind = {"campaign": slug, "schedule": "daily 09:00"}
    assert "09:00" in await reads("petition", remind, "remind", "org")

    signed = await reads("sign", {"campaign": slug}, None, "ann")
    assert said("Thank you, {name}: you signed **{title}**.", name="Ann", title=title) in signed
    anonymous = await reads("sign", {"campaign": slug, "anonymous": True}, None, "bob")
    thanked = said(
        "Thank you: you signed **{title}** anonymously. No name or account is stored with "
        "your signature.",
        title=title,
    )
    assert thanked in anonymous
    withdrawn = await reads("unsign", {"campaign": slug}, None, "ann")
    assert said("Your signature on **{title}** is withdrawn and deleted.", title=title) in withdrawn
    edited = await reads("petition", {"campaign": slug, "text": "A clearer letter."}, "edit", "org")
    updated = said("Updated **{title}**: {changes}.", title=title, changes="").split(":")[0]
    line = next(line for line in edited.splitlines() if line.startswith(updated))
    word = said("version {version}", version="").strip()
    assert line.lower().count(word.lower()) == 1, edited  # the version is said once
    await reads("sign", {"campaign": slug}, None, "carl")
    reached = await reads("sign", {"campaign": slug}, None, "dora")
    assert said("🎉 You are signature {count}: the goal is reached!", count="3") in reached
    closed = await reads("petition", {"campaign": slug}, "close", "org")
    assert said("Closed **{title}**.", title=title) in closed
    exported = await reads("petition", {"campaign": slug, "format": "csv"}, "export", "org")
    assert said("Export of `{slug}` ({format}), only for you:", slug=slug, format="csv") in exported
    with speaking(lang):
        counted = ngettext(
            "…and {n} person who signed anonymously.",
            "…and {n} people who signed anonymously.",
            1,
        )
        deleted = ngettext(
            "Done: {n} signature deleted, and every message waiting for you.",
            "Done: {n} signatures deleted, and every message waiting for you.",
            1,
        )
    assert counted in exported
    assert "/forget-me confirm" in await reads("forget-me", None, None, "carl")
    assert deleted in await reads("forget-me", {"confirm": True}, None, "carl")
    sent = [c for c in fake.calls[first:] if c.method in ("POST", "PATCH")]
    assert all(not within_discords_limits(c.body) for c in sent)
    if lang != "en":
        english = [
            f for f in _english_fragments() for t in everything if f in t and not f.startswith(HINT)
        ]
        assert not english, english[:10]
