"""A whole campaign on Slack (real slack-bolt over HTTP against the fake Slack Web API), run
twice: everyone's Slack in English, then everyone's in German. Each step checks what that person
reads, with the sentences taken from the catalogs; in German, no English sentence may show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio

from bot.domain.messages import _, ngettext, percent, speaking
from tests.fakes.slack import FakeSlack
from tests.slack_harness import SlackBot, blocks_text
from tests.test_languages import _english_fragments

pytestmark = pytest.mark.asyncio(loop_scope="module")
DEADLINE = (date.today() + timedelta(days=200)).isoformat()
SLACK_LOCALE = {"en": "en-US", "de": "de-DE"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SlackBot]:
    process = SlackBot(fake, tmp_path_factory.mktemp("campaign"))
    await process.start()
    yield process
    await process.stop()
    assert "Traceback" not in process.stderr, process.stderr


def slack(text: str) -> str:
    """A catalog sentence as Slack shows it (our **bold** is Slack's *bold*)."""
    return text.replace("**", "*")


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_whole_campaign_on_slack(bot: SlackBot, fake: FakeSlack, lang: str) -> None:
    people = {p: f"U{lang.upper()}{p.upper()}" for p in ("org", "ann", "bob", "carl", "dora")}
    for user in people.values():
        fake.locales[user] = SLACK_LOCALE[lang]
    await bot.informed(*(people[p] for p in ("ann", "bob", "carl", "dora")))
    slug, title = f"strike-{lang}", f"Walk out {lang}"
    everything: list[str] = []

    async def reads(command: str, text: str, who: str) -> str:
        status, data, elapsed = await bot.command(command, text, user=people[who], user_name=who)
        assert status == 200 and elapsed < 3, (command, text, status, elapsed)
        everything.append(blocks_text(data))
        return everything[-1]

    def said(message: str, **values: object) -> str:
        with speaking(lang):
            return slack(_(message, **values))

    made = await reads(
        "/petition",
        f'new {slug} title:"{title}" goal:3 deadline:{DEADLINE} lang:{lang} '
        "First paragraph.\\n\\nSecond paragraph.",
        "org",
    )
    assert said("Created the petition **{title}** (`{slug}`).", title=title, slug=slug) in made
    assert "First paragraph.\n\nSecond paragraph." in await reads(
        "/petition", f"read {slug}", "org"
    )
    await reads("/petition", f"post {slug}", "org")
    await fake.wait_for(
        lambda: any(title in blocks_text(c.params) for c in fake.calls_to("chat.postMessage"))
    )
    assert "09:00" in await reads("/petition", f"remind {slug} daily 09:00", "org")

    signed = await reads("/sign", slug, "ann")
    name = f"Real {people['ann']}"
    assert said("Thank you, {name}: you signed **{title}**.", name=name, title=title) in signed
    anonymous = await reads("/sign", f"{slug} anonymous", "bob")
    assert (
        said(
            "Thank you: you signed **{title}** anonymously. No name or account is stored with "
            "your signature.",
            title=title,
        )
        in anonymous
    )
    assert said("🎉 You are signature {count}: the goal is reached!", count="3") not in anonymous
    withdrawn = await reads("/unsign", slug, "ann")
    assert said("Your signature on **{title}** is withdrawn and deleted.", title=title) in withdrawn
    edited = await reads("/petition", f"edit {slug} A clearer letter.", "org")
    updated = said("Updated **{title}**: {changes}.", title=title, changes="").split(":")[0]
    line = next(line for line in edited.splitlines() if line.startswith(updated))
    assert line.count("2") == 1, edited  # the version is said once
    await reads("/sign", slug, "carl")
    reached = await reads("/sign", slug, "dora")
    assert said("🎉 You are signature {count}: the goal is reached!", count="3") in reached
    status = await reads("/petition", f"status {slug}", "ann")
    with speaking(lang):
        tally = ngettext(
            "*{n}* of {goal} signatures ({percent})",
            "*{n}* of {goal} signatures ({percent})",
            3,
            goal="3",
            percent=percent(100),
        )
    assert tally in status, status

    assert said("Closed **{title}**.", title=title) in await reads(
        "/petition", f"close {slug}", "org"
    )
    exported = await reads("/petition", f"export {slug} csv", "org")
    with speaking(lang):
        counted = ngettext(
            "…and {n} person who signed anonymously.",
            "…and {n} people who signed anonymously.",
            1,
        )
    assert said("Export of `{slug}` ({format}), only for you:", slug=slug, format="csv") in exported
    assert counted in exported
    assert "/forget-me confirm" in await reads("/forget-me", "", "carl")
    done = await reads("/forget-me", "confirm", "carl")
    with speaking(lang):
        deleted = ngettext(
            "Done: {n} signature deleted, and every message waiting for you.",
            "Done: {n} signatures deleted, and every message waiting for you.",
            1,
        )
    assert deleted in done, done
    if lang != "en":
        # An anonymous signer is told how to choose a language in the server's too (English
        # here), on purpose: a campaign's language must not hide that from anyone.
        hint = "Replies to anonymous signatures come in the campaign's language"
        english = [
            f for f in _english_fragments() for t in everything if f in t and not f.startswith(hint)
        ]
        assert not english, english[:10]
