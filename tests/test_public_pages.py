"""Published campaigns on the web: the real aiohttp routes over a real socket, the real
database, and the rules an attacker would test (what a page, its JSON, chart or card may show,
who may publish, what an unpublished campaign answers)."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.web import charts
from bot import commands as cmd
from bot import handlers, views
from bot.domain.identity import Actor
from bot.domain.public import day_buckets
from bot.domain.tally import SMALLEST_GROUP
from bot.service import Service
from tests.conftest import Clock, informed, person
from tests.slack_harness import EXE
from tests.web_site import Site

ORG = person("org")
WHISTLE = Actor("slack", "TWORKSPACE9", "UWHISTLE42", "Wendy Whistleblower")
TODAY = date(2026, 11, 26)


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 9)), max_size=40))
def test_no_bucket_holds_fewer_than_five_and_today_is_left_out(days: list[tuple[int, int]]) -> None:
    daily = [(TODAY - timedelta(days=d), n) for d, n in days]
    buckets = day_buckets(daily, TODAY)
    assert all(b.signed >= SMALLEST_GROUP for b in buckets)
    assert all(b.first <= b.last < TODAY for b in buckets)
    assert all(a.last < b.first for a, b in itertools.pairwise(buckets))
    before_today = sum(n for d, n in daily if d < TODAY)
    shown = sum(b.signed for b in buckets)
    assert shown == before_today or (shown == 0 and before_today < SMALLEST_GROUP)


def test_a_year_of_busy_days_keeps_the_json_small() -> None:
    from bot.domain.public import MAX_BUCKETS

    daily = [(TODAY - timedelta(days=d), 40) for d in range(1, 366)]
    buckets = day_buckets(daily, TODAY)
    assert len(buckets) <= MAX_BUCKETS and sum(b.signed for b in buckets) == 365 * 40
    row = [[b.first.isoformat(), b.last.isoformat(), b.signed] for b in buckets]
    assert len(json.dumps(row, separators=(",", ":"))) < 1700


def test_a_lone_signature_on_a_quiet_day_is_merged_never_shown_alone() -> None:
    daily = [(TODAY - timedelta(days=3), 6), (TODAY - timedelta(days=2), 1), (TODAY, 4)]
    [bucket] = day_buckets(daily, TODAY)
    assert (bucket.first, bucket.last, bucket.signed) == (
        TODAY - timedelta(days=3),
        TODAY - timedelta(days=2),
        7,
    )


async def letter(service: Service, slug: str = "walkout", **options: str) -> None:
    values = {"title": 'Walk <out> & "more"', "goal": "50", **options}
    text = "We refuse. **Now.**\n\n![tracker](https://evil.example/pixel.png) <img src=x>"
    reply = await handlers.campaigns.create(service.ctx, ORG, cmd.Create(slug, values, text))
    assert not reply.error, reply.text


async def sign(service: Service, who: str, *extra: str, anonymous: bool = False) -> None:
    actor = Actor("slack", "TACME", f"U{who}", who)
    await informed(service, actor)
    text = " ".join(("walkout", *(("anonymous",) if anonymous else ()), *extra))
    reply = await service.handle(actor, "/sign", text)
    assert not reply.error, reply.text


PATHS = [
    "/c/walkout",
    "/c/walkout.json",
    "/c/walkout/chart.svg",
    "/c/walkout/chart.png",
    "/c/walkout/card.png",
    "/c/walkout/embed",
]
LOG_PATHS = [
    "/c/walkout/log",
    "/c/walkout/log.json",
    "/c/walkout/log/entries?start=0&end=1000",
    "/c/walkout/log/consistency?first=0&second=0",
]


async def test_unpublished_and_unknown_look_the_same_and_off_is_at_once(
    service: Service, site: Site
) -> None:
    await letter(service)
    for path in PATHS + LOG_PATHS:
        unpublished = await site.get(path)
        unknown = await site.get(path.replace("walkout", "nothere"))
        assert unpublished[0] == unknown[0] == 404
        assert unpublished[1] == unknown[1]
    assert (await service.handle(ORG, "/petition", "publish walkout")).text.count(
        "https://letters.example.org/c/walkout"
    ) == 0  # no public URL configured on this service: the reply says where, relatively
    await sign(service, "Alice")  # the log has an entry to serve
    for path in PATHS + LOG_PATHS:
        assert (await site.get(path))[0] == 200, path
    assert b"walkout" in (await site.get("/"))[1]
    off = await service.handle(ORG, "/petition", "publish walkout off")
    assert not off.error
    for path in PATHS + LOG_PATHS:
        assert (await site.get(path))[0] == 404, path  # no cache kept it up
    assert b"walkout" not in (await site.get("/"))[1]


async def test_only_organizers_publish_and_it_is_audited(service: Service) -> None:
    await letter(service)
    refused = await service.handle(person("mallory"), "/petition", "publish walkout")
    assert refused.error
    assert not (await service.handle(ORG, "/petition", "publish walkout")).error
    assert not (await service.handle(ORG, "/petition", "publish walkout off")).error
    audit = (await service.handle(ORG, "/petition", "audit walkout")).text
    assert audit.count("publish") >= 2 and "off" in audit


async def test_no_public_figure_names_an_anonymous_signer_or_holds_a_time(
    service: Service, site: Site, clock: Clock
) -> None:
    await letter(service, names="public")
    await service.handle(ORG, "/petition", "publish walkout")
    await sign(service, "Alice", "role:Engineer")
    await sign(service, "Bob")
    await informed(service, WHISTLE)
    assert not (await service.handle(WHISTLE, "/sign", "walkout anonymous")).error
    bodies = b"".join([(await site.get(p))[1] for p in PATHS])
    logs = b"".join([(await site.get(p))[1] for p in LOG_PATHS])
    for secret in (b"Wendy", b"UWHISTLE42", b"TWORKSPACE9", b"TACME", b"UAlice", b"slack"):
        assert secret not in bodies + logs, secret
    assert re.search(rb"\d\d:\d\d", bodies.replace(b"max-age", b"")) is None  # no clock times
    # The log says one time: its last step's (here, with no window, the last signature's:
    # the operator's choice, UNDERSIGNED_COUNT_WINDOW_MINUTES=0).
    head = json.loads((await site.get("/c/walkout/log.json"))[1])
    times = set(re.findall(rb"\d\d:\d\d(?::\d\d)?", logs))
    assert times and all(head["released"][11:19].encode().startswith(t) for t in times), times
    page = (await site.get("/c/walkout"))[1].decode()
    assert "Alice" in page and "Engineer" in page and "Bob" in page
    assert page.index("Alice") < page.index("Bob")  # by name, never by time
    assert "and 1 more who signed anonymously" in page


async def test_sealed_names_stay_sealed_until_success_and_count_only_never(
    service: Service, site: Site
) -> None:
    await letter(service, names="sealed")
    await service.handle(ORG, "/petition", "publish walkout")
    await sign(service, "Alice")
    page = (await site.get("/c/walkout"))[1].decode()
    assert "Alice" not in page and "sealed" in page
    await letter(service, "quiet", names="count-only")
    await service.handle(ORG, "/petition", "publish quiet")
    actor = Actor("slack", "TACME", "UCarol", "Carol")
    await informed(service, actor)
    await service.handle(actor, "/sign", "quiet")
    assert b"Carol" not in (await site.get("/c/quiet"))[1]


async def test_daily_figures_come_in_buckets_of_five_and_exclude_today(
    service: Service, site: Site, clock: Clock
) -> None:
    await letter(service)
    await service.handle(ORG, "/petition", "publish walkout")
    for n in range(12):  # one signature a day: each day alone would point at one person
        await sign(service, f"P{n}")
        clock.advance(days=1)
    await sign(service, "Today")
    _status, body, headers = await site.get("/c/walkout.json")
    data = json.loads(body)
    assert data["signatures"] == 13
    assert data["daily"] and all(n >= 5 for _, _, n in data["daily"])
    assert all(last < clock.now.date().isoformat() for _, last, _ in data["daily"])
    assert len(body) < 2048
    assert headers["Cache-Control"] == "public, max-age=30"
    again = await site.get("/c/walkout.json", **{"If-None-Match": headers["ETag"]})
    assert again[0] == 304 and again[1] == b""


async def test_pages_load_nothing_from_elsewhere_and_escape_everything(
    service: Service, site: Site
) -> None:
    await letter(service)
    await service.handle(ORG, "/petition", "publish walkout")
    _status, body, headers = await site.get("/c/walkout")
    page = body.decode()
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/"), url  # only our own origin is loaded
    assert (
        "Walk &lt;out&gt; &amp; &#34;more&#34;" in page
        or "Walk &lt;out&gt; &amp; &quot;more&quot;" in page
    )
    assert "<img src=x>" not in page and "evil.example/pixel" not in page.split("<article")[0]
    assert '<img src="https://evil' not in page and "<strong>Now.</strong>" in page
    embed = await site.get("/c/walkout/embed")
    assert "frame-ancestors" not in embed[2]["Content-Security-Policy"]
    for bad in (
        "/c/WALKOUT",
        "/c/../etc/passwd",
        "/c/walkout.json.bak",
        "/static/../pages.py",
        "/c/" + "a" * 500,
        "/static/nothing.js",
    ):
        assert (await site.get(bad))[0] == 404, bad


async def test_the_png_chart_is_deterministic(service: Service, clock: Clock) -> None:
    await letter(service, deadline="2026-12-31")
    await service.handle(ORG, "/petition", "publish walkout")
    for n in range(9):  # two a day: enough history (2 days, 10 signatures) to project
        await sign(service, f"P{n}")
        await sign(service, f"Q{n}")
        clock.advance(days=1)
    facts = await views.public(service.ctx, "walkout")
    assert facts is not None and facts.projected is not None
    assert charts.png(facts) == charts.png(facts)
    assert charts.png(facts).startswith(b"\x89PNG")
    assert "dasharray" in charts.svg(facts)  # the projection is drawn dashed
    assert str(facts.signatures) in charts.describe(facts)


async def test_static_files_for_a_host_of_ones_own(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "UNDERSIGNED_SECRET_KEY": "k"}
    base = {k: v for k, v in __import__("os").environ.items() if not k.startswith("UNDERSIGNED_")}
    made = subprocess.run(
        [
            EXE,
            "petition",
            "create",
            "--slug",
            "walkout",
            "--title",
            "Walk",
            "--goal",
            "10",
            "--text",
            "Letter",
        ],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    out = tmp_path / "site"
    wrote = subprocess.run(
        [EXE, "petition", "publish", "walkout", "--out", str(out)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrote.returncode == 0, wrote.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "card.png",
        "chart.png",
        "chart.svg",
        "data.json",
        "icon.svg",
        "index.html",
        "page.css",
    ]
    html = (out / "index.html").read_text()
    assert 'src="chart.svg"' in html and "/static/" not in html
    assert json.loads((out / "data.json").read_text())["slug"] == "walkout"
    bad = subprocess.run(
        [EXE, "petition", "publish", "nothere", "--out", str(out)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


async def test_chat_carries_the_chart_and_a_read_and_share_link(tmp_path: Path) -> None:
    """Slack over HTTP (real bolt, fake Slack): a published campaign's status shows its chart
    from the public address and a link button; the page itself is served by the same process."""
    from tests.fakes.slack import FakeSlack, button_click
    from tests.slack_harness import SlackBot, bot_env, create_campaign

    fake = FakeSlack()
    await fake.start()
    bot = SlackBot(fake, tmp_path)
    env = bot_env(fake, tmp_path / "bot.db", UNDERSIGNED_PUBLIC_URL=f"{bot.url}/")
    create_campaign(env, tmp_path, "walkout", "Walk out", 10)
    published = subprocess.run(
        [EXE, "petition", "publish", "walkout"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert published.returncode == 0, published.stderr
    assert f"{bot.url}/c/walkout" in published.stdout
    await bot.start(env=env)
    try:
        _, data, _ = await bot.command("/petition", "status walkout")
        blocks = data["blocks"]
        images = [b for b in blocks if b["type"] == "image"]
        assert [i["image_url"].split("?")[0] for i in images] == [f"{bot.url}/c/walkout/chart.png"]
        links = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if "url" in e]
        assert [(e["text"]["text"], e["url"]) for e in links] == [
            ("Read and share", f"{bot.url}/c/walkout")
        ]
        assert bot.http is not None
        async with bot.http.get(images[0]["image_url"]) as chart:
            assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
        click = button_click(fake, "page", "walkout")  # Slack reports link clicks too
        status, _, _ = await bot.interact(click)
        assert status == 200
    finally:
        await bot.stop()
        await fake.stop()


def test_discord_shows_the_chart_in_the_embed_and_a_link_button() -> None:
    import discord

    from adapters.discord.render import message_kwargs
    from bot.domain.replies import CampaignCard, PageLink, Reply

    card = CampaignCard("walkout", "petition", "Walk out", None, None, "Letter", 1, "open", None)
    page = PageLink(
        "https://l.example/c/walkout",
        "https://l.example/c/walkout/chart.png?n=3",
        "3",
        "Read and share",
    )
    kwargs = message_kwargs(Reply(text="status", card=card, page=page))
    assert kwargs["embed"].image.url == page.chart
    links = [item for item in kwargs["view"].children if item.style is discord.ButtonStyle.link]
    assert [(b.label, b.url) for b in links] == [("Read and share", page.url)]


async def test_many_readers_at_once_cost_one_read_and_off_wins_a_race(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page read by many at once is computed once; a page taken down while a read is in
    flight is not served from that read."""
    import asyncio

    await letter(service)
    await service.handle(ORG, "/petition", "publish walkout")
    real = views.public_uncached
    reads = 0
    gate = asyncio.Event()

    async def counted(ctx, slug: str, **kw: bool):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        found = await real(ctx, slug, **kw)  # read while the page is still public...
        await gate.wait()  # ...and answered only after it was taken down
        return found

    monkeypatch.setattr(views, "public_uncached", counted)
    readers = [asyncio.create_task(views.public(service.ctx, "walkout")) for _ in range(50)]
    await asyncio.sleep(0.05)
    assert reads == 1
    off = asyncio.create_task(service.handle(ORG, "/petition", "publish walkout off"))
    await asyncio.sleep(0.05)
    gate.set()
    assert not (await off).error
    results = await asyncio.gather(*readers)
    assert all(r is None for r in results)  # read before "off", answered after: not served
    assert await views.public(service.ctx, "walkout") is None


async def test_every_answer_carries_the_security_headers(service: Service, site: Site) -> None:
    """aiohttp's own 404 and 405 answers too, not only our pages."""
    await letter(service)
    await service.handle(ORG, "/petition", "publish walkout")
    for path in ("/c/OK", "/c/walkout.json/", "/static/nope.css", "/nothing"):
        status, _, headers = await site.get(path)
        assert status == 404, path
        assert "default-src 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    async with site.http.post(site.url + "/c/walkout") as posted:
        assert posted.status == 405
        assert "frame-ancestors 'none'" in posted.headers["Content-Security-Policy"]
        assert posted.headers["X-Frame-Options"] == "DENY"


async def test_a_letter_is_rendered_once_per_version_whatever_the_readers(
    service: Service, site: Site
) -> None:
    from bot.domain import letter_markup

    await letter(service)
    await service.handle(ORG, "/petition", "publish walkout")
    letter_markup.letter_html.cache_clear()
    for language in ("en", "de", "fr", "es", "pt-BR", "en"):
        await site.page(f"/c/walkout?lang={language}")
    info = letter_markup.letter_html.cache_info()
    assert info.misses == 1 and info.hits >= 4  # (a repeat within a second is a cached page)


def test_pathological_markdown_is_rendered_without_the_costly_rule() -> None:
    from adapters.web.pages import letter_html
    from bot.domain.letter_markup import EMPHASIS_LIMIT

    costly = "**_" * (EMPHASIS_LIMIT // 2)
    rendered = str(letter_html(costly))
    assert "<em>" not in rendered and "<strong>" not in rendered and "**_" in rendered
    assert "<strong>Now.</strong>" in str(letter_html("We refuse. **Now.**"))


async def test_a_succeeded_pledge_reads_as_success_everywhere_after_a_withdrawal(
    service: Service, site: Site
) -> None:
    """Success is irreversible: threshold reached, then one `/unsign`. Chat, page, embed,
    index, JSON, card and chart text must not read "2 of 3 (66%)" or say "signatures"."""
    deadline = (date.today() + timedelta(days=30)).isoformat()
    made = await service.handle(
        ORG,
        "/petition",
        f'new strike kind:pledge threshold:3 action:"strike" deadline:{deadline} '
        'title:"Strike" We strike if three of us do.',
    )
    assert not made.error, made.text
    await service.handle(ORG, "/petition", "publish strike")
    people = [person(f"p{i}") for i in range(3)]
    await informed(service, *people)
    for who in people:
        assert not (await service.handle(who, "/sign", "strike")).error
    assert not (await service.handle(people[0], "/unsign", "strike")).error
    status = await service.handle(person("x"), "/petition", "status strike")
    assert status.tally is not None and status.tally.succeeded and status.tally.percent == 100
    from adapters.console.render import render as console

    shown = console(status)
    assert "It succeeded: the threshold of 3 was reached (2 pledges now)" in shown, shown
    assert "66%" not in shown and "2 of 3" not in shown
    page = (await site.page("/c/strike"))[0]
    assert "It succeeded: the threshold of 3 was reached" in page
    # 66 as a percentage (never a hex digest of the log's head, which may hold "66")
    assert 'value="3"' in page and not re.search(r"\b66\s?%|value=\"66\"", page)
    assert ">Pledges</h2>" in page and ">Signatures</h2>" not in page
    assert '<meta name="description" content="It succeeded' in page or "It succeeded: the" in page
    embed = (await site.page("/c/strike/embed"))[0]
    assert "It succeeded" in embed and not re.search(r"\b66\s?%|value=\"66\"", embed)
    index = (await site.page("/"))[0]
    assert "The pledge succeeded" in index and "2 of 3" not in index
    data = json.loads((await site.get("/c/strike.json"))[1])
    assert data["outcome"] == "succeeded" and data["percent"] == 100
    facts = await views.public(service.ctx, "strike")
    assert facts is not None
    assert charts.describe(facts).startswith("It succeeded")
    assert "signatures" not in charts.describe(facts)


async def test_publish_says_so_when_this_bot_serves_no_pages(service: Service) -> None:
    """Discord alone opens no port: "Its page is at /c/…" would point nowhere."""
    await letter(service)
    service.ctx.pages_served = False
    reply = await service.handle(ORG, "/petition", "publish walkout")
    assert not reply.error and "serves no web pages" in reply.text
    assert "UNDERSIGNED_PUBLIC_URL" in reply.text


async def test_the_page_puts_the_letter_first_says_how_to_sign_and_previews_the_letter(
    service: Service, site: Site
) -> None:
    await letter(service)
    await service.handle(ORG, "/petition", "publish walkout")
    page = (await site.page("/c/walkout"))[0]
    assert page.index('id="letter-h"') < page.index('id="how-h"') < page.index('id="count-h"')
    assert "<code>/sign walkout</code>" in page and "<code>/sign walkout anonymous</code>" in page
    assert "Opened on" in page
    preview = re.search(r'<meta property="og:description" content="([^"]*)"', page)
    assert preview is not None and preview.group(1).startswith("We refuse. 0 of 50"), preview
    assert "evil" not in preview.group(1) and "**" not in preview.group(1)
    missing = (await site.get("/c/nothing-here"))[1].decode()
    assert 'href="' in missing and "Every published campaign" in missing


async def test_how_to_sign_names_the_platforms_never_a_workspace_and_dates_each_state(
    service: Service, site: Site, clock: Clock
) -> None:
    """The box says where (Slack, Discord) and how each platform types it; the workspace and
    server ids the campaign was posted in appear nowhere a stranger can read. The promise it
    makes ("before anything is stored…") is held by tests/test_consent.py."""
    from tests import showcase

    await showcase.build(service, clock)
    maven = (await site.page("/c/maven"))[0]
    assert "In Slack: <code>/sign maven</code>, or <code>/sign maven anonymous</code>" in maven
    assert "In Discord: <code>/sign campaign:maven</code>" in maven
    assert 'id="share-link" type="text" readonly value="https://letters.example.org/c/maven"' in (
        maven
    )
    assert "Opened on Nov 2, 2026. Deadline: Nov 22, 2026." in maven
    private = (showcase.SLACK.workspace, showcase.DISCORD.workspace, showcase.DISCORD.channel)
    for path in ("/c/maven", "/c/maven.json", "/c/maven/embed", "/", "/c/maven/chart.svg"):
        body = (await site.get(path))[1].decode()
        assert not any(secret in body for secret in private), path
    strike = (await site.page("/c/strike"))[0]
    assert 'class="badge succeeded">Succeeded<' in strike
    assert "Succeeded on Nov 11, 2026." in strike
    assert "Ask the organizers where this campaign is shared" in strike  # posted nowhere
    cameras = (await site.page("/c/cameras"))[0]
    assert 'class="badge closed">Closed<' in cameras and "Signing is closed" in cameras
    assert "Closed on Nov 11, 2026." in cameras and "How to sign" not in cameras
    assert "<code>/sign" not in cameras
    german = (await site.page("/c/kantine"))[0]
    assert '<html lang="de">' in german and "So unterschreibst du" in german
    assert "um gar keinen Namen zu hinterlassen" in german and "Frist: 22.11.2026" in german
    index = (await site.page("/"))[0]
    newest_first = ("strike", "walkout", "greve", "kantine", "cameras", "maven")
    order = [index.index(f'href="/c/{slug}"') for slug in newest_first]
    assert order == sorted(order)  # newest first
    assert "Open until Nov 22, 2026 (11 days left)." in index and "Closed on Nov 11" in index
    embed = (await site.page("/c/walkout/embed"))[0]
    assert 'class="badge open">Open<' in embed and "Read the letter and how to sign" in embed


async def test_static_files_carry_no_script_and_link_only_themselves(
    service: Service, clock: Clock
) -> None:
    from adapters.web.pages import PublicPages, static_files
    from tests import showcase

    await showcase.build(service, clock)
    facts = await views.public(service.ctx, "maven")
    assert facts is not None
    bare = static_files(facts, PublicPages(service))["index.html"].decode()
    assert "<script" not in bare and 'id="share-link"' not in bare  # no address to share
    assert "Every published campaign" not in bare
    hosted = static_files(facts, PublicPages(service, "https://l.example.org"))["index.html"]
    assert b'value="https://l.example.org/c/maven"' in hosted
